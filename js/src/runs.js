// @ts-check
// One card for several runs of one file (`add_file(path, methods=[...], clients=[...])`):
// each run is a clip of the kernel with its own card (state, player, media), shown one at a
// time under a run switch named by method or service. The A/B switch of a card of runs pairs
// a lane of one run with a lane of another: switching sides switches runs at the same
// playback position (every run is aligned to the same original, so one time means the same
// instant in each), and keeps playing, the zoom and the focus.

import { button, h } from "./dom.js";
import { breakable } from "./card.js";
import { fmtBytes } from "./format.js";

/** @typedef {import("./card.js").Card} Card */
/** @typedef {{run: string, lane: string}} RunLane */
/** @typedef {"A" | "B"} Side */

/**
 * The value of a run's lane in the A/B selects, and back.
 * @param {RunLane} rl
 */
export function runLaneKey(rl) {
  return `${rl.run}|${rl.lane}`;
}

/** @param {string} value @returns {RunLane | null} */
export function parseRunLane(value) {
  const at = value.lastIndexOf("|");
  if (at <= 0 || at === value.length - 1) return null;
  return { run: value.slice(0, at), lane: value.slice(at + 1) };
}

/**
 * What the A/B pair becomes when a run is picked with the run switch: the side that already
 * sounds that run, else the current side now sounds the same lane of that run. Pure.
 * @param {{A: RunLane, B: RunLane}} pair
 * @param {Side} side
 * @param {string} run
 * @returns {{pair: {A: RunLane, B: RunLane}, side: Side}}
 */
export function pickRun(pair, side, run) {
  if (pair[side].run === run) return { pair, side };
  const other = side === "A" ? "B" : "A";
  if (pair[other].run === run) return { pair, side: other };
  return { pair: { ...pair, [side]: { run, lane: pair[side].lane } }, side };
}

export class RunCard {
  /**
   * @param {import("./card.js").ViewContext} ctx
   * @param {import("./types.js").ClipState} clip the first run seen
   */
  constructor(ctx, clip) {
    this.ctx = ctx;
    this.id = /** @type {string} */ (clip.group);
    /** @type {Card[]} */
    this.runs = [];
    /** @type {string | null} the shown run's clip id */
    this.selected = null;
    /** @type {{A: RunLane, B: RunLane} | null} */
    this.pair = null;
    /** @type {Side} */
    this.side = "A";
    const el = (this.el = h("div", "camb-card camb-run-group"));
    el.dataset.clipId = this.id;
    el.dataset.group = this.id;
    const head = h("div", "camb-card-head");
    this.name = h("span", "camb-name");
    this.size = h("span", "camb-size");
    this.switch = h("div", "camb-run-switch");
    this.switch.setAttribute("role", "radiogroup");
    head.append(this.name, this.size, this.switch);
    this.body = h("div", "camb-runs");
    this.removeBtn = button("×", "camb-remove");
    this.removeBtn.addEventListener("click", () => this.ctx.remove(/** @type {any} */ (this)));
    el.append(head, this.body, this.removeBtn);
    // Keys on the run switch: arrows go to the next run (a radio group), B is the A/B switch
    // as in the player. Taken on the window in the capture phase, as the player does, so a
    // notebook's command mode (↑ ↓ select cells, B inserts one) never sees them.
    this.onWindowKey = (/** @type {KeyboardEvent} */ e) => {
      if (!(e.target instanceof Node && this.switch.contains(e.target))) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      const n = this.runs.length;
      if (step && n) {
        const at = Math.max(0, this.runs.findIndex((c) => c.id === this.selected));
        const next = this.runs[(at + step + n) % n];
        this.pick(next.id);
        /** @type {HTMLElement | null} */ (this.switch.querySelector(
          `[data-run-id="${next.id}"]`))?.focus();
      } else if (e.key === "b" || e.key === "B") {
        const player = this.player;
        if (!player) return;
        player.toggleAB();
      } else {
        return;
      }
      e.preventDefault();
      e.stopImmediatePropagation();
    };
    window.addEventListener("keydown", this.onWindowKey, true);
  }

  /** The shown run's card. */
  get current() {
    return this.runs.find((c) => c.id === this.selected) || this.runs[0] || null;
  }

  /** What the view's removal needs: a name, and "done" when any run is (Undo then). */
  get clip() {
    const first = this.runs[0]?.clip;
    const done = this.runs.some((c) => c.clip?.state === "done");
    return { name: first?.name || "clip", state: done ? "done" : first?.state || "waiting" };
  }

  /** @returns {import("./player.js").Player | null} */
  get player() {
    return this.current?.player || null;
  }

  /** @param {Card} card */
  add(card) {
    if (this.runs.includes(card)) return;
    card.group = this;
    card.el.classList.add("camb-run-card");
    this.runs.push(card);
    this.body.append(card.el);
  }

  /** @param {Card} card */
  drop(card) {
    this.runs = this.runs.filter((c) => c !== card);
    if (this.selected === card.id) this.selected = null;
  }

  /** The runs changed (states, lanes): the head, the switch, which run shows. */
  refresh() {
    const first = this.runs[0]?.clip;
    const name = first?.name || "";
    if (this.name.textContent !== name) this.name.replaceChildren(...breakable(name));
    this.name.title = name;
    this.size.textContent = first?.size ? fmtBytes(first.size) : "";
    this.switch.setAttribute("aria-label", `Runs of ${name}`);
    this.removeBtn.setAttribute("aria-label", `Remove ${name} (every run)`);
    this.removeBtn.title = `Remove ${name} (every run)`;
    if (!this.selected && this.runs.length) this.selected = this.runs[0].id;
    if (!this.pair && this.runs.length >= 2) {
      this.pair = { A: { run: this.runs[0].id, lane: "foreground" },
        B: { run: this.runs[1].id, lane: "foreground" } };
    }
    const { vocab } = this.ctx;
    const buttons = this.runs.map((card) => {
      const clip = card.clip;
      let btn = /** @type {HTMLButtonElement | null} */ (
        this.switch.querySelector(`[data-run-id="${card.id}"]`));
      if (!btn) {
        btn = button("", "camb-run");
        btn.dataset.runId = card.id;
        btn.setAttribute("role", "radio");
        btn.addEventListener("click", () => this.pick(card.id));
      }
      const run = clip?.run || "run";
      const state = clip ? clip.detail || vocab.stateLabel(clip.state) : "";
      btn.dataset.run = run;
      btn.dataset.state = clip?.state || "";
      btn.replaceChildren(h("span", "camb-run-name", run),
        h("span", "camb-run-state", clip?.state === "done" ? "" : state));
      const on = card.id === this.selected;
      btn.setAttribute("aria-checked", String(on));
      btn.tabIndex = on ? 0 : -1;
      btn.setAttribute("aria-label", `${run}: ${state}`);
      btn.title = `Show and hear the ${run} run`;
      return btn;
    });
    // Only when the runs changed: moving a focused button would drop its focus.
    const have = [...this.switch.children];
    if (have.length !== buttons.length || buttons.some((b, i) => have[i] !== b)) {
      this.switch.replaceChildren(...buttons);
    }
    for (const card of this.runs) card.el.hidden = card.id !== this.selected;
  }

  /** @param {boolean} online */
  setOnline(online) {
    this.removeBtn.disabled = !online;
  }

  /**
   * The run switch: show this run (the A/B pair follows, see `pickRun`).
   * @param {string} id
   */
  pick(id) {
    if (this.pair) ({ pair: this.pair, side: this.side } = pickRun(this.pair, this.side, id));
    this.follow(id);
  }

  /**
   * The A/B switch of any run's player: the other side, which may be another run.
   * @param {import("./player.js").Player} player
   */
  toggleSide(player) {
    if (!this.pair) {
      player.change(() => player.mix.toggleSide());
      return;
    }
    if (player.mix.mode !== "ab") {
      player.change(() => player.mix.setMode("ab")); // as in one run: leave the mix first
      this.updatePlayers();
      return;
    }
    this.side = this.side === "A" ? "B" : "A";
    this.follow(this.pair[this.side].run);
  }

  /**
   * A side of the A/B switch now sounds this run's lane.
   * @param {Side} side
   * @param {string} value see `runLaneKey`
   */
  setPair(side, value) {
    const rl = parseRunLane(value);
    if (!this.pair || !rl || !this.runs.some((c) => c.id === rl.run)) return;
    this.pair = { ...this.pair, [side]: rl };
    this.follow(this.pair[this.side].run);
  }

  /**
   * Show run `id`; its player takes over where the shown one was: time, playing, zoom,
   * the mix, and the focus (so the keys keep working).
   * @param {string} id
   */
  follow(id) {
    const prev = this.current;
    const next = this.runs.find((c) => c.id === id);
    if (!next) return;
    const p = prev?.player || null;
    const q = next.player;
    if (prev && prev !== next) {
      const active = document.activeElement;
      const focus = p && active instanceof HTMLElement && p.el.contains(active) ? active : null;
      const playing = Boolean(p?.playing);
      if (p && playing) p.pause();
      this.selected = id;
      this.refresh();
      if (p && q) {
        q.mix.mode = p.mix.mode;
        q.mix.solo = new Set(p.mix.solo);
        q.mix.mute = new Set(p.mix.mute);
        if (p.duration && q.duration) q.setView(p.viewport.start, p.viewport.end);
      }
      q?.redraw(); // it was hidden: its lanes had no width
      if (p && q) q.updatePlayheads(p.time()); // the exact seek follows (see start)
      this.sync(q);
      if (q && focus) moveFocus(focus, p, q);
      const start = () => {
        if (!q || this.selected !== id) return;
        q.seek(p ? p.time() : 0);
        if (playing) q.play();
      };
      // A playing element's time runs ahead of what was heard (the output's latency) until
      // its pause has settled: the other run starts where this one was really stopped.
      if (p && playing) afterEvent(p.media, "pause", start);
      else start();
    } else {
      this.selected = id;
      this.refresh();
      this.sync(q);
    }
    this.updatePlayers();
  }

  /**
   * A run's player follows the card's A/B pair and side (made after the pair, or shown).
   * @param {import("./player.js").Player | null} player
   */
  sync(player) {
    if (!player || !this.pair) return;
    const own = player.card.id;
    player.mix.side = this.side;
    for (const s of /** @type {const} */ (["A", "B"])) {
      if (this.pair[s].run === own) player.mix.pair[s] = this.pair[s].lane;
    }
    player.applyGains();
  }

  updatePlayers() {
    for (const card of this.runs) card.player?.updateListen();
  }

  /** Every lane of every run, for the A/B selects: `{value, label}`. */
  options() {
    const { vocab } = this.ctx;
    return this.runs.flatMap((card) => (card.clip?.lanes || []).map((lane) => ({
      value: runLaneKey({ run: card.id, lane }),
      label: `${card.clip?.run || "run"}: ${vocab.laneLabel(lane)}`,
    })));
  }

  /** @param {Side} side */
  key(side) {
    return this.pair ? runLaneKey(this.pair[side]) : "";
  }

  /** @param {Side} side what that side sounds, in words */
  label(side) {
    if (!this.pair) return "";
    const rl = this.pair[side];
    const card = this.runs.find((c) => c.id === rl.run);
    return `${card?.clip?.run || "run"}: ${this.ctx.vocab.laneLabel(rl.lane)}`;
  }

  destroy() {
    window.removeEventListener("keydown", this.onWindowKey, true);
    this.el.remove();
  }
}

/**
 * Call `fn` once, on the element's next `type` event or after `ms` if none comes.
 * @param {HTMLElement} el
 * @param {string} type
 * @param {() => void} fn
 * @param {number} [ms]
 */
function afterEvent(el, type, fn, ms = 150) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    el.removeEventListener(type, once);
    fn();
  };
  const timer = setTimeout(once, ms);
  el.addEventListener(type, once);
}

/**
 * Focus in the new run's player what had it in the old one: the same lane, the A/B switch,
 * or the transport; a hidden element would drop the focus, and the player's keys with it.
 * @param {HTMLElement} focus
 * @param {import("./player.js").Player | null} p
 * @param {import("./player.js").Player} q
 */
function moveFocus(focus, p, q) {
  const lane = focus.closest?.(".camb-lane")?.getAttribute("data-lane");
  const view = lane ? q.lanes.get(lane)?.view : null;
  if (view && focus.classList.contains("camb-lane-view")) {
    view.focus();
    return;
  }
  const pairs = p ? [[p.abBtn, q.abBtn], [p.playBtn, q.playBtn], [p.selA, q.selA],
    [p.selB, q.selB], [p.mixBtn, q.mixBtn]] : [];
  for (const [from, to] of pairs) {
    if (from === focus) {
      to.focus();
      return;
    }
  }
  q.playBtn.focus();
}
