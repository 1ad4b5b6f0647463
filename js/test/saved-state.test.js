import { test } from "node:test";
import assert from "node:assert/strict";
import { keepInNotebook, writeState } from "../src/saved-state.js";

const KEY = "application/vnd.jupyter.widget-state+json";

function fakeModel(id, manager, state, layout) {
  return {
    model_id: id, widget_manager: manager, name: "AnyModel", module: "anywidget",
    get: (k) => (k === "_model_module_version" ? "~0.9.*" : undefined),
    get_state: () => ({ ...state, ...(layout ? { layout } : {}) }),
  };
}

function setup(saved) {
  let metadata = saved ? { [KEY]: saved } : undefined;
  const handlers = [];
  const context = {
    model: { getMetadata: () => metadata, setMetadata: (_k, v) => (metadata = v) },
    saveState: { connect: (cb) => handlers.push(cb) },
  };
  const manager = { context };
  return { context, manager, metadata: () => metadata, save: () => handlers.forEach((h) => h(context, "started")) };
}

test("the shown widget and its layout are written, references as IPY_MODEL_ ids", () => {
  const s = setup();
  const layout = { model_id: "L1", name: "LayoutModel", module: "@jupyter-widgets/base",
    get: () => "2.0.0", get_state: () => ({ width: null }) };
  const model = fakeModel("W1", s.manager, { model_ref: "W1", vocabulary: {}, clips: [] }, layout);
  const stop = keepInNotebook(model);
  s.save();
  const state = s.metadata()[KEY].state;
  assert.deepEqual(Object.keys(state).sort(), ["L1", "W1"]);
  assert.equal(state.W1.state.layout, "IPY_MODEL_L1");
  assert.equal(state.W1.model_name, "AnyModel");
  stop();
});

test("entries of this widget no longer shown go, with their layouts; others stay", () => {
  const saved = { version_major: 2, version_minor: 0, state: {
    OLD: { state: { model_ref: "OLD", vocabulary: {}, layout: "IPY_MODEL_OLDL" } },
    OLDL: { state: {} },
    SLIDER: { state: { value: 3 } },
  } };
  const s = setup(saved);
  const model = fakeModel("NEW", s.manager, { model_ref: "NEW", vocabulary: {} });
  const stop = keepInNotebook(model);
  writeState(s.context, s.manager);
  assert.deepEqual(Object.keys(s.metadata()[KEY].state).sort(), ["NEW", "SLIDER"]);
  stop();
  writeState(s.context, s.manager); // the view went: nothing of ours is left
  assert.deepEqual(Object.keys(s.metadata()[KEY].state), ["SLIDER"]);
});

test("without a document context (Voila, other hosts) nothing happens", () => {
  const stop = keepInNotebook({ widget_manager: {} });
  assert.equal(typeof stop, "function");
  stop();
});
