// @ts-check
// Keep these widgets' state in the notebook when it is saved, so reopening it shows each
// finished clip's picture instead of "Error displaying widget: model not found".
//
// JupyterLab and Notebook 7 save widget state only when "Save Widget State Automatically" is
// on (it is off by default). The state of this widget is small (the clips' words and a small
// picture each, never audio), so its views add just their own models' state to the notebook's
// `widgets` metadata, through the document context the widget manager holds. Where there is no
// such context (Voila, other hosts) this does nothing.

const KEY = "application/vnd.jupyter.widget-state+json";
const REGISTRY = Symbol.for("camb_notebook.widget.saved-state");

/**
 * @typedef {object} Registry
 * @property {Map<any, number>} models manager model → number of views showing it
 * @property {WeakSet<object>} hooked document contexts whose saves we follow
 */

/** @returns {Registry} */
function registry() {
  const g = /** @type {any} */ (globalThis);
  if (!g[REGISTRY]) g[REGISTRY] = { models: new Map(), hooked: new WeakSet() };
  return g[REGISTRY];
}

/**
 * The state entries of a manager model and of the models it refers to (its layout), as the
 * widget managers write them: references become "IPY_MODEL_<id>" strings.
 * @param {any} model
 * @param {Record<string, any>} out entries by model id
 */
function addEntries(model, out) {
  if (!model || out[model.model_id]) return;
  /** @type {Record<string, any>} */
  const state = {};
  out[model.model_id] = {
    model_name: model.name ?? model.get("_model_name"),
    model_module: model.module ?? model.get("_model_module"),
    model_module_version: model.get("_model_module_version"),
    state,
  };
  for (const [key, value] of Object.entries(model.get_state(true))) {
    if (value && typeof value === "object" && "model_id" in value && value.get_state) {
      addEntries(value, out);
      state[key] = `IPY_MODEL_${value.model_id}`;
    } else {
      state[key] = JSON.parse(JSON.stringify(value ?? null)); // plain JSON only
    }
  }
}

/**
 * Before the notebook is written: replace this kind of widget's entries by those of the
 * models shown now.
 * @param {any} context
 * @param {any} manager
 */
export function writeState(context, manager) {
  const doc = context.model;
  if (!doc || typeof doc.getMetadata !== "function") return;
  const mine = [...registry().models.keys()].filter((m) => m.widget_manager === manager);
  const ids = new Set(mine.map((m) => m.model_id));
  const saved = doc.getMetadata("widgets")?.[KEY];
  /** @type {Record<string, any>} */
  const state = {};
  const ours = (/** @type {any} */ v) => v?.state && "model_ref" in v.state && "vocabulary" in v.state;
  /** @type {Set<string>} */
  const dropped = new Set();
  for (const [id, value] of Object.entries(saved?.state || {})) {
    // Entries of this widget no longer shown are dropped, with the layouts they refer to;
    // other widgets' entries are kept.
    if (ours(value) && !ids.has(id)) {
      for (const v of Object.values(value.state)) {
        if (typeof v === "string" && v.startsWith("IPY_MODEL_")) dropped.add(v.slice(10));
      }
    } else {
      state[id] = value;
    }
  }
  for (const id of dropped) delete state[id];
  for (const model of mine) {
    try {
      addEntries(model, state);
    } catch {
      // a model being torn down: skip it
    }
  }
  doc.setMetadata("widgets", { [KEY]: { version_major: 2, version_minor: 0, state } });
}

/**
 * Have this view's model saved with the notebook; returns the function that stops it.
 * @param {any} model The widget manager's model (see Connection.watch).
 */
export function keepInNotebook(model) {
  const manager = model?.widget_manager;
  const context = manager?.context;
  if (!context?.saveState?.connect || !context.model) return () => {};
  const reg = registry();
  reg.models.set(model, (reg.models.get(model) || 0) + 1);
  if (!reg.hooked.has(context)) {
    reg.hooked.add(context);
    context.saveState.connect((/** @type {any} */ _ctx, /** @type {string} */ phase) => {
      if (phase === "started") writeState(context, manager);
    });
  }
  return () => {
    const n = (reg.models.get(model) || 1) - 1;
    if (n > 0) reg.models.set(model, n);
    else reg.models.delete(model);
  };
}
