// @ts-check
// The player of one finished clip: lanes with waveform and spectrogram on one time axis, one
// transport, the A/B switch and the mix (solo/mute), downloads.
//
// Sound: the clip's preview is one multichannel file in one <audio> element, split into lanes
// in Web Audio (audio-graph.js), so every lane plays on one clock. What is heard is decided by
// mixer.js: by default the A/B switch, one lane at a time.

import { LaneGraph, audioContext } from "./audio-graph.js";
import { button, copyBytes, h } from "./dom.js";
import { fmtDb, fmtTime } from "./format.js";
import { KEY_HELP, keyBelongsToTarget, playerKeyAction } from "./keys.js";
import { Mix } from "./mixer.js";
import { peakColumns } from "./peaks.js";
import { Viewport, rulerTicks } from "./timeline.js";

/** Every player on the page hears this when one starts, so only one plays at a time. */
const PLAY_EVENT = "camb-widget:play";

/**
 * @typedef {object} Lane
 * @property {string} name
 * @property {HTMLDivElement} row
 * @property {HTMLDivElement} view
 * @property {HTMLCanvasElement} canvas
 * @property {HTMLImageElement} img
 * @property {HTMLDivElement} playhead
 * @property {HTMLDivElement} loading
 * @property {HTMLDivElement} level
 * @property {Float32Array | null} peaks
 * @property {HTMLButtonElement} soloBtn
 * @property {HTMLButtonElement} muteBtn
 * @property {HTMLButtonElement} dlBtn
 * @property {boolean} ready
 * @property {boolean} silent
 */

/**
 * @typedef {object} PreviewMessage
 * @property {string} mime
 * @property {string[]} lanes
 * @property {number} channels
 * @property {number} bitrate
 * @property {number[]} headroom
 */

export class Player {
  /**
   * @param {import("./card.js").Card} card
   */
  constructor(card) {
    this.card = card;
    this.ctx = card.ctx;
    const { vocab } = this.ctx;
    /** @type {Map<string, Lane>} */
    this.lanes = new Map();
    this.viewport = new Viewport(0);
    this.mix = new Mix(vocab.lanes);
    /** @type {number[]} */
    this.headroom = [];
    /** @type {LaneGraph | null} */
    this.graph = null;
    this.playing = false;
    this.raf = 0;
    /** This player's Blob URLs, revoked when it goes (retry, remove, view closed). */
    this.urls = new Set();
    /** @type {string | null} */
    this.focusedLane = null;

    this.el = h("div", "camb-player");
    /** @type {any} */ (this.el).cambPlayer = this; // for tests and debugging in the console
    this.media = h("audio", "camb-audio");
    this.media.preload = "auto";
    this.media.preservesPitch = true; // rate changes keep the pitch
    this.media.addEventListener("ended", () => this.pause());
    this.media.addEventListener("loadedmetadata", () => this.updateClock());

    const bar = h("div", "camb-transport");
    this.playBtn = button("▶ Play", "camb-play");
    this.playBtn.disabled = true;
    this.playBtn.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.clock = h("span", "camb-clock", "0:00.0 / 0:00.0");
    this.clock.setAttribute("aria-live", "off");

    const listen = h("span", "camb-listen");
    this.selA = this.laneSelect("A");
    this.selB = this.laneSelect("B");
    this.abBtn = button("", "camb-ab-switch");
    this.abBtn.setAttribute("role", "switch");
    this.abBtn.append(h("span", "camb-ab-side", "A"), h("span", "camb-ab-knob"),
      h("span", "camb-ab-side", "B"));
    this.abBtn.addEventListener("click", () => this.change(() => this.mix.toggleSide()));
    this.mixBtn = button("Mix", "camb-mix", "Mix: hear several lanes, with solo and mute (key X)");
    this.mixBtn.addEventListener("click", () => this.change(() =>
      this.mix.setMode(this.mix.mode === "mix" ? "ab" : "mix")));
    const abGroup = h("span", "camb-ab");
    abGroup.setAttribute("role", "group");
    abGroup.setAttribute("aria-label", "A/B switch");
    abGroup.append(h("span", "camb-ab-label", "A"), this.selA, this.abBtn,
      h("span", "camb-ab-label", "B"), this.selB);
    listen.append(abGroup, this.mixBtn);

    this.residualBtn = button("+ Residual", "camb-residual", "Show the residual lane");
    this.residualBtn.addEventListener("click", () => {
      if (!this.ctx.conn.send({ type: "media", clip_id: this.card.id, lanes: ["residual"] })) {
        return;
      }
      this.residualBtn.disabled = true;
      this.residualBtn.textContent = "Residual…";
    });
    const help = h("details", "camb-keys");
    const summary = h("summary", "", "Keys");
    const list = h("dl", "camb-keys-list");
    for (const [key, what] of KEY_HELP) list.append(h("dt", "", key), h("dd", "", what));
    help.append(summary, list);
    bar.append(this.playBtn, this.clock, listen, this.residualBtn, help);

    this.ruler = h("div", "camb-ruler");
    this.ruler.setAttribute("aria-hidden", "true");
    const rulerRow = h("div", "camb-lane camb-ruler-row");
    rulerRow.append(h("div", "camb-lane-side"), this.ruler);
    this.lanesEl = h("div", "camb-lanes");
    this.facts = h("div", "camb-facts");
    this.el.append(bar, rulerRow, this.lanesEl, this.facts, this.media);
    // Keys pressed in the player are the player's. In a notebook's command mode B, X, M, S
    // and the digits are notebook shortcuts (insert, cut, to Markdown, save, heading), and
    // Notebook 7 handles them while the event is still on its way down (capture phase, on
    // the document). The window sees a key before the document does: the player takes the
    // keys it uses there, and stops them; every other key goes on as usual.
    this.onWindowKey = (/** @type {KeyboardEvent} */ e) => {
      if (e.target instanceof Node && this.el.contains(e.target)) this.onKey(e);
    };
    window.addEventListener("keydown", this.onWindowKey, true);

    this.onOtherPlay = (/** @type {Event} */ e) => {
      if (/** @type {CustomEvent} */ (e).detail !== this && this.playing) this.pause();
    };
    window.addEventListener(PLAY_EVENT, this.onOtherPlay);
    this.updateListen();
  }

  get duration() {
    return this.viewport.duration;
  }

  get name() {
    return this.card.clip?.name || "this clip";
  }

  /** @param {"A" | "B"} side */
  laneSelect(side) {
    const sel = h("select", "camb-ab-select");
    sel.setAttribute("aria-label", `Lane ${side}`);
    sel.addEventListener("change", () => this.change(() => this.mix.setPair(side, sel.value)));
    return sel;
  }

  refreshSelects() {
    const names = [...this.lanes.keys()];
    for (const [side, sel] of /** @type {const} */ ([["A", this.selA], ["B", this.selB]])) {
      if (sel.options.length !== names.length) {
        sel.replaceChildren(...names.map((n) => {
          const o = h("option", "", this.ctx.vocab.laneLabel(n));
          o.value = n;
          return o;
        }));
      }
      if (names.includes(this.mix.pair[side])) sel.value = this.mix.pair[side];
    }
  }

  /** @param {string} name */
  ensureLane(name) {
    const have = this.lanes.get(name);
    if (have) return have;
    const label = this.ctx.vocab.laneLabel(name);
    const row = h("div", `camb-lane camb-lane-${name}`);
    row.dataset.lane = name;
    const side = h("div", "camb-lane-side");
    const labelEl = h("div", "camb-lane-label", label);
    const level = h("div", "camb-lane-level", "");
    const btns = h("div", "camb-lane-btns");
    const solo = button("S", "camb-solo");
    const mute = button("M", "camb-mute");
    const dl = button("⬇", "camb-download", `Download ${label} of ${this.name}`);
    btns.append(solo, mute, dl);
    side.append(labelEl, level, btns);

    const view = h("div", "camb-lane-view");
    view.setAttribute("role", "slider");
    view.setAttribute("aria-valuemin", "0");
    view.setAttribute("aria-label", `${label}: click or drag to seek`);
    view.tabIndex = 0;
    const canvas = h("canvas", "camb-wave");
    const img = h("img", "camb-spec");
    img.alt = `Spectrogram of ${label}`;
    img.draggable = false;
    const playhead = h("div", "camb-playhead");
    const loading = h("div", "camb-lane-loading", "loading…");
    view.append(img, canvas, playhead, loading);
    row.append(side, view);

    /** @type {Lane} */
    const lane = { name, row, view, canvas, img, playhead, loading, level, peaks: null,
      soloBtn: solo, muteBtn: mute, dlBtn: dl, ready: false, silent: false };
    solo.addEventListener("click", () => this.change(() => this.mix.toggleSolo(name)));
    mute.addEventListener("click", () => this.change(() => this.mix.toggleMute(name)));
    dl.addEventListener("click", () => this.card.download(name, dl));
    view.addEventListener("focus", () => (this.focusedLane = name));
    this.bindSeek(view);

    this.lanes.set(name, lane);
    const order = this.ctx.vocab.lanes.filter((n) => this.lanes.has(n));
    for (const n of order) {
      const l = this.lanes.get(n);
      if (l) this.lanesEl.append(l.row);
    }
    this.refreshSelects();
    this.updateListen();
    this.setOnline(this.ctx.conn.live);
    return lane;
  }

  /**
   * A lane's pictures arrived: peaks, spectrogram, level (and whether it is silent).
   * @param {string} name
   * @param {{level_db: number, silent?: boolean}} msg
   * @param {DataView[]} buffers
   */
  setLane(name, msg, buffers) {
    const lane = this.ensureLane(name);
    const [peaksBuf, pngBuf] = buffers;
    if (this.urls.delete(lane.img.src)) this.ctx.revoke(lane.img.src);
    const imgUrl = this.ctx.url(new Blob([copyBytes(pngBuf)], { type: "image/png" }));
    this.urls.add(imgUrl);
    lane.peaks = new Float32Array(copyBytes(peaksBuf));
    lane.img.src = imgUrl;
    lane.level.textContent = fmtDb(msg.level_db);
    lane.silent = Boolean(msg.silent);
    lane.row.classList.toggle("camb-lane-silent", lane.silent);
    if (lane.silent) {
      // A black band would look like a broken picture: say what it is instead.
      lane.loading.textContent = name === "residual"
        ? "silent: foreground + background add up to the original"
        : "silent";
      lane.loading.classList.add("camb-lane-note");
    } else {
      lane.loading.remove();
    }
    lane.ready = true;
    this.drawWave(lane);
    this.updatePlayheads();
    if (name === "residual") this.residualBtn.remove();
    this.card.onLanesShown();
    this.updateListen();
  }

  /**
   * The preview of every lane arrived: one file, one element, one clock.
   * @param {PreviewMessage} msg
   * @param {DataView[]} buffers
   */
  setPreview(msg, buffers) {
    if (this.urls.delete(this.media.src)) this.ctx.revoke(this.media.src);
    const url = this.ctx.url(new Blob([copyBytes(buffers[0])], { type: msg.mime }));
    this.urls.add(url);
    this.headroom = msg.headroom || [];
    this.mix.lanes = [...msg.lanes]; // the headroom table is indexed in this order
    this.graph?.disconnect();
    this.graph = null;
    try {
      this.graph = new LaneGraph(audioContext(), this.media, msg.lanes,
        msg.channels / msg.lanes.length);
    } catch (err) {
      // No Web Audio: the element alone would play every channel mixed; better to say so.
      this.playBtn.title = `cannot play here: ${err}`;
    }
    this.media.src = url;
    this.media.dataset.channels = String(msg.channels);
    this.playBtn.disabled = !this.graph;
    this.applyGains(true);
    this.updatePlay();
  }

  markStale() {
    for (const lane of this.lanes.values()) {
      if (!lane.ready) {
        lane.loading.textContent = "the pictures did not arrive: is the kernel busy? "
          + "If it restarted, run the cell again.";
      }
    }
  }

  /** @param {() => void} what a change of what is heard */
  change(what) {
    what();
    this.applyGains();
    this.updateListen();
  }

  applyGains(now = false) {
    this.graph?.apply(this.mix.gains(this.shownLanes(), this.headroom), now);
  }

  shownLanes() {
    return [...this.lanes.keys()];
  }

  /** The controls say what is heard, and which of them work in the current mode. */
  updateListen() {
    const { mix } = this;
    const heard = mix.audible(this.shownLanes());
    const ab = mix.mode === "ab";
    const label = (/** @type {string} */ n) => this.ctx.vocab.laneLabel(n);
    this.abBtn.dataset.side = mix.side;
    this.abBtn.setAttribute("aria-checked", String(mix.side === "B"));
    this.abBtn.setAttribute("aria-label",
      `A/B switch (key B): hearing ${mix.side}, ${label(mix.current)}`);
    this.abBtn.title = ab ? `Hearing ${mix.side}: ${label(mix.current)}. Press (or key B) for the `
      + `other lane.` : "A/B is off while Mix is on: press (or key B) to go back to A/B.";
    this.abBtn.classList.toggle("camb-off", !ab);
    this.selA.disabled = !ab;
    this.selB.disabled = !ab;
    this.mixBtn.setAttribute("aria-pressed", String(!ab));
    for (const lane of this.lanes.values()) {
      const on = heard.has(lane.name);
      lane.row.classList.toggle("camb-heard", on);
      lane.row.classList.toggle("camb-quiet", !on);
      lane.row.dataset.heard = String(on);
      const name = label(lane.name);
      for (const [btn, pressed, what] of /** @type {const} */ ([
        [lane.soloBtn, mix.solo.has(lane.name), "Solo"],
        [lane.muteBtn, mix.mute.has(lane.name), "Mute"],
      ])) {
        btn.setAttribute("aria-pressed", String(pressed && !ab));
        // Solo and mute shape a mix; under the A/B switch they are visibly off.
        btn.disabled = ab;
        btn.title = ab ? `${what} works in Mix mode: press Mix (key X) first`
          : `${what} ${name} (key ${what[0]} on a focused lane)`;
        btn.setAttribute("aria-label", `${what} ${name}`);
      }
    }
    this.refreshSelects();
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (keyBelongsToTarget(e, /** @type {HTMLElement | null} */ (e.target))) return;
    const action = playerKeyAction(e);
    if (!action) return;
    const focused = this.focusedLane && this.lanes.has(this.focusedLane) ? this.focusedLane : null;
    switch (action.type) {
      case "seek-by":
        this.seek(this.time() + action.seconds);
        break;
      case "seek-to":
        this.seek(action.where === "start" ? 0 : this.duration);
        break;
      case "toggle-play":
        this.playing ? this.pause() : this.play();
        break;
      case "ab-switch":
        this.change(() => this.mix.toggleSide());
        break;
      case "mix-toggle":
        this.change(() => this.mix.setMode(this.mix.mode === "mix" ? "ab" : "mix"));
        break;
      case "solo-focused":
        if (!focused || this.mix.mode !== "mix") return;
        this.change(() => this.mix.toggleSolo(focused));
        break;
      case "mute-focused":
        if (!focused || this.mix.mode !== "mix") return;
        this.change(() => this.mix.toggleMute(focused));
        break;
      case "solo-lane": {
        const lane = this.shownLanes()[action.index];
        if (!lane) return;
        this.change(() => this.mix.soloOnly(lane));
        break;
      }
      default:
        return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  /** @param {Lane} lane */
  drawWave(lane) {
    const { canvas, peaks } = lane;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const hgt = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== hgt) canvas.height = hgt;
    const g = canvas.getContext("2d");
    if (!g) return;
    g.clearRect(0, 0, w, hgt);
    if (!peaks || lane.silent) return;
    const { lo, hi } = peakColumns(peaks, w);
    const mid = hgt / 2;
    g.fillStyle = getComputedStyle(lane.row).getPropertyValue("--camb-lane-color") || "#1976d2";
    for (let x = 0; x < w; x++) {
      const top = mid - hi[x] * mid;
      const bot = mid - lo[x] * mid;
      g.fillRect(x, top, 1, Math.max(1, bot - top));
    }
  }

  redraw() {
    for (const lane of this.lanes.values()) this.drawWave(lane);
    this.drawRuler();
  }

  drawRuler() {
    const width = this.ruler.clientWidth;
    if (!this.duration || !width) return;
    const g = document.createElement("canvas").getContext("2d");
    if (g) g.font = getComputedStyle(this.ruler).font;
    const measure = (/** @type {string} */ s) => (g ? g.measureText(s).width : s.length * 6);
    const ticks = rulerTicks(this.viewport, width, measure).map((tk) => {
      const tick = h("span", `camb-tick camb-tick-${tk.align}`, tk.label);
      tick.style.left = `${tk.x}px`;
      return tick;
    });
    this.ruler.replaceChildren(...ticks);
  }

  time() {
    return this.media.currentTime || 0;
  }

  /** @param {HTMLElement} view */
  bindSeek(view) {
    let dragging = false;
    const at = (/** @type {PointerEvent} */ e) => {
      const r = view.getBoundingClientRect();
      return this.viewport.timeAt(e.clientX - r.left, r.width);
    };
    view.addEventListener("pointerdown", (e) => {
      dragging = true;
      view.setPointerCapture?.(e.pointerId);
      this.seek(at(e));
    });
    view.addEventListener("pointermove", (e) => {
      if (dragging) this.seek(at(e));
    });
    const stop = () => (dragging = false);
    view.addEventListener("pointerup", stop);
    view.addEventListener("pointercancel", stop);
  }

  /** @param {number} t */
  seek(t) {
    t = Math.min(Math.max(0, t), this.duration || 0);
    if (this.media.src) this.media.currentTime = t;
    this.updatePlayheads(t);
  }

  async play() {
    if (!this.graph) return;
    if (this.duration && this.time() >= this.duration - 0.05) this.seek(0);
    window.dispatchEvent(new CustomEvent(PLAY_EVENT, { detail: this }));
    this.playing = true;
    this.updatePlay();
    this.tick();
    try {
      await this.graph.ctx.resume();
      await this.media.play();
    } catch (err) {
      this.playing = false;
      this.updatePlay();
      this.playBtn.title = `the browser did not start playback (${err}); press Play again`;
    }
  }

  pause() {
    this.playing = false;
    this.media.pause();
    cancelAnimationFrame(this.raf);
    this.updatePlay();
    this.updatePlayheads();
  }

  updatePlay() {
    const verb = this.playing ? "Pause" : "Play";
    this.playBtn.textContent = this.playing ? "❚❚ Pause" : "▶ Play";
    this.playBtn.classList.toggle("camb-playing", this.playing);
    // The accessible name follows the state and names the clip.
    this.playBtn.setAttribute("aria-label", `${verb} ${this.name}`);
    if (!this.graph) this.playBtn.title = "the preview is on its way…";
    else this.playBtn.title = `${verb} ${this.name} (Space)`;
  }

  tick() {
    cancelAnimationFrame(this.raf);
    const step = () => {
      if (!this.playing) return;
      this.updatePlayheads();
      this.raf = requestAnimationFrame(step);
    };
    this.raf = requestAnimationFrame(step);
  }

  /** @param {number} [t] */
  updatePlayheads(t) {
    if (t === undefined) t = this.time();
    const pct = `${(this.viewport.fraction(t) * 100).toFixed(3)}%`;
    for (const lane of this.lanes.values()) {
      lane.playhead.style.left = pct;
      lane.view.setAttribute("aria-valuenow", t.toFixed(1));
      lane.view.setAttribute("aria-valuetext", fmtTime(t));
    }
    this.updateClock(t);
  }

  /** @param {number} [t] */
  updateClock(t) {
    if (t === undefined) t = this.time();
    this.clock.textContent = `${fmtTime(t)} / ${fmtTime(this.duration)}`;
  }

  /**
   * With no kernel, downloads and more lanes cannot come; what is here still plays.
   * @param {boolean} online
   */
  setOnline(online) {
    for (const lane of this.lanes.values()) {
      lane.dlBtn.disabled = !online;
      if (!online) lane.dlBtn.textContent = "⬇";
    }
    if (this.residualBtn.isConnected) this.residualBtn.disabled = !online;
  }

  /** @param {import("./types.js").ClipState} clip */
  update(clip) {
    const f = clip.facts || {};
    if (f.duration && f.duration !== this.duration) {
      this.viewport.setDuration(f.duration);
      for (const lane of this.lanes.values()) {
        lane.view.setAttribute("aria-valuemax", String(f.duration));
      }
      this.drawRuler();
      this.updateClock();
    }
    for (const name of clip.lanes || []) this.ensureLane(name);
    const lv = clip.levels || {};
    const parts = [
      `Duration ${fmtTime(f.duration)}`,
      f.sample_rate ? `${(f.sample_rate / 1000).toFixed(1)} kHz` : null,
      f.channels ? (f.channels === 1 ? "mono" : f.channels === 2 ? "stereo" : `${f.channels} ch`)
        : null,
      ...this.ctx.vocab.lanes.filter((k) => k in lv).map(
        (k) => (k === "residual" && lv[k] <= -90 ? "Residual silent (stems sum to the mix)"
          : `${this.ctx.vocab.laneLabel(k)} ${fmtDb(lv[k])}`)),
      f.method ? `method ${f.method}` : null,
      f.bitrate ? `preview ${Math.round(f.bitrate / 1000)} kb/s per lane, Opus` : null,
      f.reused ? "found again in the task store" : null,
    ];
    this.facts.textContent = parts.filter(Boolean).join(" · ");
    this.updatePlay();
  }

  destroy() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    window.removeEventListener(PLAY_EVENT, this.onOtherPlay);
    window.removeEventListener("keydown", this.onWindowKey, true);
    for (const u of this.urls) this.ctx.revoke(u);
    this.urls.clear();
    try {
      this.media.pause();
      this.media.removeAttribute("src");
      this.media.load();
    } catch {
      // a detached element: nothing left to stop
    }
    this.graph?.disconnect();
    this.graph = null;
  }
}
