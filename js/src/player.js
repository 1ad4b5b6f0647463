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
import { TileCache, TileRequests, columnDb, fmtHz, freqAt, freqTicks, tileLevel, tilesFor,
  windowColumns } from "./tiles.js";
import { Viewport, rulerTicks } from "./timeline.js";

/** Lowest frequency of the spectrograms' log axis (the kernel's `FMIN`). */
const FMIN = 30;
/** Wait this long after the view last moved before asking for tiles (ms). */
const TILE_DELAY = 60;
/** Wait this long after the view last moved before telling the kernel (ms). */
const REPORT_DELAY = 150;
/** Pixels a pointer moves before a press becomes a drag (pan or selection). */
const DRAG_PX = 4;
/** The magma colour map at 0, ¼, ½, ¾ and 1 (the kernel's spectrogram colours). */
const MAGMA = ["#000004", "#3b0f70", "#8c2981", "#de4968", "#fe9f6d", "#fcfdbf"];

/** Every player on the page hears this when one starts, so only one plays at a time. */
const PLAY_EVENT = "camb-widget:play";

/**
 * @typedef {object} Lane
 * @property {string} name
 * @property {HTMLDivElement} row
 * @property {HTMLDivElement} view
 * @property {HTMLCanvasElement} canvas
 * @property {HTMLImageElement} img
 * @property {HTMLCanvasElement} tiles
 * @property {HTMLDivElement} selection
 * @property {HTMLDivElement} axis
 * @property {HTMLDivElement} playhead
 * @property {HTMLDivElement} loading
 * @property {HTMLDivElement} level
 * @property {Float32Array | null} peaks
 * @property {{lo: Float32Array, hi: Float32Array} | null} [cols] the waveform as drawn
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
    this.sampleRate = 0;
    /** Tiles of this player's clip, as ImageBitmaps (closed when evicted). */
    this.cache = new TileCache(64 << 20, (t) => t.image?.close?.());
    this.requests = new TileRequests();
    /** Tells the kernel's supersession which requests are this view's. */
    this.viewId = Math.random().toString(36).slice(2, 10);
    /** @type {[number, number] | null} the selected span, seconds */
    this.sel = null;
    this.looping = false;
    /** The `n` of the last zoom from Python this player followed. */
    this.pythonN = 0;
    this.frame = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.tileTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.reportTimer = undefined;
    /** @type {[number, number] | null} the colour scale in dB */
    this.scale = null;
    /** Seconds to start from once the preview arrives (a seek before it did). */
    this.startAt = 0;

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
    this.rateSel = h("select", "camb-rate");
    this.rateSel.setAttribute("aria-label", "Playback rate (pitch kept)");
    this.rateSel.title = "Playback rate (pitch kept)";
    for (const r of [0.5, 0.75, 1, 1.25, 1.5, 2]) {
      const o = h("option", "", `${r}×`);
      o.value = String(r);
      this.rateSel.append(o);
    }
    this.rateSel.value = "1";
    this.rateSel.addEventListener("change", () => {
      this.media.playbackRate = Number(this.rateSel.value);
      this.media.preservesPitch = true;
    });

    const listen = h("span", "camb-listen");
    this.selA = this.laneSelect("A");
    this.selB = this.laneSelect("B");
    this.abBtn = button("", "camb-ab-switch");
    this.abBtn.setAttribute("role", "switch");
    this.abBtn.append(h("span", "camb-ab-side", "A"), h("span", "camb-ab-knob"),
      h("span", "camb-ab-side", "B"));
    this.abBtn.addEventListener("click", () => this.toggleAB());
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
    const zoom = h("span", "camb-zoom");
    zoom.setAttribute("role", "group");
    zoom.setAttribute("aria-label", "Zoom");
    this.zoomOutBtn = button("−", "camb-zoom-out", "Zoom out (key −)");
    this.zoomInBtn = button("+", "camb-zoom-in", "Zoom in (key +; Ctrl + wheel or pinch over a lane)");
    this.fitBtn = button("Fit", "camb-zoom-fit", "Show the whole clip (key 0)");
    this.zoomOutBtn.addEventListener("click", () => this.zoomBy(0.5));
    this.zoomInBtn.addEventListener("click", () => this.zoomBy(2));
    this.fitBtn.addEventListener("click", () => this.setView(0, this.duration));
    zoom.append(this.zoomOutBtn, this.zoomInBtn, this.fitBtn);
    this.loopBtn = button("⟲ Loop", "camb-loop", "Loop the selected span (key L; Shift + drag to select)");
    this.loopBtn.addEventListener("click", () => this.toggleLoop());
    this.loopBtn.setAttribute("aria-pressed", "false");
    this.loopBtn.disabled = true;
    this.selText = h("span", "camb-sel-text", "");
    this.colourBar = h("span", "camb-colour-bar");
    this.colourBar.hidden = true;
    bar.append(this.playBtn, this.clock, this.rateSel, listen, zoom, this.loopBtn, this.selText,
      this.residualBtn, this.colourBar, help);

    this.ruler = h("div", "camb-ruler");
    this.ruler.setAttribute("aria-hidden", "true");
    const rulerRow = h("div", "camb-lane camb-ruler-row");
    rulerRow.append(h("div", "camb-lane-side"), this.ruler);
    // The whole clip, with the window shown below: click or drag it to move the window.
    this.overview = h("div", "camb-overview");
    this.overview.setAttribute("role", "scrollbar");
    this.overview.setAttribute("aria-label", "Visible part of the clip: drag to move it");
    this.overview.setAttribute("aria-orientation", "horizontal");
    this.overviewBox = h("div", "camb-overview-box");
    this.overview.append(this.overviewBox);
    this.bindOverview();
    const overviewRow = h("div", "camb-lane camb-overview-row");
    overviewRow.append(h("div", "camb-lane-side"), this.overview);
    this.lanesEl = h("div", "camb-lanes");
    this.facts = h("div", "camb-facts");
    // Under the pointer: time, frequency (over a spectrogram) and each lane's peak there.
    this.readout = h("div", "camb-readout", "");
    this.readout.setAttribute("aria-live", "off");
    this.el.append(bar, overviewRow, rulerRow, this.lanesEl, this.readout, this.facts,
      this.media);
    this.onViews = () => this.followPython();
    this.ctx.model.on("change:views", this.onViews);
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
    const clip = this.card.clip;
    if (!clip) return "this clip";
    return clip.run ? `${clip.name} (${clip.run})` : clip.name;
  }

  /**
   * The card of several runs this player is one of (its A/B pairs lanes of runs), or null.
   * @returns {import("./runs.js").RunCard | null}
   */
  get runs() {
    const group = this.card.group;
    return group && group.pair ? group : null;
  }

  /** The A/B switch (button or key B): the other side; in a card of runs, maybe another run. */
  toggleAB() {
    const runs = this.runs;
    if (runs) runs.toggleSide(this);
    else this.change(() => this.mix.toggleSide());
  }

  /** @param {"A" | "B"} side */
  laneSelect(side) {
    const sel = h("select", "camb-ab-select");
    sel.setAttribute("aria-label", `Lane ${side}`);
    sel.addEventListener("change", () => {
      const runs = this.runs;
      if (runs) runs.setPair(side, sel.value);
      else this.change(() => this.mix.setPair(side, sel.value));
    });
    return sel;
  }

  refreshSelects() {
    const runs = this.runs;
    if (runs) {
      // Every lane of every run: a side of the switch may sound another run.
      const options = runs.options();
      for (const [side, sel] of /** @type {const} */ ([["A", this.selA], ["B", this.selB]])) {
        const have = [...sel.options].map((o) => o.value).join("\n");
        if (have !== options.map((o) => o.value).join("\n")) {
          sel.replaceChildren(...options.map(({ value, label }) => {
            const o = h("option", "", label);
            o.value = value;
            return o;
          }));
        }
        sel.value = runs.key(side);
      }
      return;
    }
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
    const tiles = h("canvas", "camb-tiles");
    tiles.setAttribute("aria-hidden", "true");
    const selection = h("div", "camb-selection");
    selection.hidden = true;
    const axis = h("div", "camb-freq-axis");
    axis.setAttribute("aria-hidden", "true");
    const playhead = h("div", "camb-playhead");
    const loading = h("div", "camb-lane-loading", "loading…");
    view.append(img, tiles, canvas, axis, selection, playhead, loading);
    row.append(side, view);

    /** @type {Lane} */
    const lane = { name, row, view, canvas, img, tiles, selection, axis, playhead, loading,
      level, peaks: null,
      soloBtn: solo, muteBtn: mute, dlBtn: dl, ready: false, silent: false };
    solo.addEventListener("click", () => this.change(() => this.mix.toggleSolo(name)));
    mute.addEventListener("click", () => this.change(() => this.mix.toggleMute(name)));
    dl.addEventListener("click", () => this.card.download(name, dl));
    view.addEventListener("focus", () => (this.focusedLane = name));
    this.bindPointer(view);
    view.addEventListener("wheel", (e) => this.onWheel(e, view), { passive: false });
    view.addEventListener("pointermove", (e) => this.showReadout(e, lane));
    view.addEventListener("pointerleave", () => (this.readout.textContent = ""));

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
   * @param {{level_db: number, silent?: boolean, scale?: [number, number]}} msg
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
    if (msg.scale) this.setScale(msg.scale);
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
    this.drawAxis(lane);
    this.onView(false);
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
    if (this.startAt) this.media.currentTime = this.startAt;
    this.startAt = 0;
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
    const runs = this.runs;
    const hearing = runs ? runs.label(mix.side) : label(mix.current);
    this.abBtn.dataset.side = mix.side;
    this.abBtn.setAttribute("aria-checked", String(mix.side === "B"));
    this.abBtn.setAttribute("aria-label",
      `A/B switch (key B): hearing ${mix.side}, ${hearing}`);
    this.abBtn.title = ab ? `Hearing ${mix.side}: ${hearing}. Press (or key B) for the `
      + `other ${runs ? "side" : "lane"}.`
      : "A/B is off while Mix is on: press (or key B) to go back to A/B.";
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
        this.toggleAB();
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
      case "zoom":
        this.zoomBy(action.factor);
        break;
      case "fit":
        this.setView(0, this.duration);
        break;
      case "pan": {
        const v = this.viewport;
        if (v.panBy(action.pages * v.span)) this.onView();
        break;
      }
      case "loop-toggle":
        if (!this.sel) return;
        this.toggleLoop();
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

  /**
   * The waveform of the window: the first peaks of the whole clip, then the tiles that
   * cover the window (coarse to fine) drawn over them.
   * @param {Lane} lane
   * @param {import("./tiles.js").TileData[]} tiles
   */
  drawWave(lane, tiles = []) {
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
    const v = this.viewport;
    const layers = [{ t0: 0, t1: this.duration, peaks }, ...tiles];
    const cols = v.full && !tiles.length ? peakColumns(peaks, w) : windowColumns(v, w, layers);
    lane.cols = cols;
    const { lo, hi } = cols;
    const mid = hgt / 2;
    g.fillStyle = getComputedStyle(lane.row).getPropertyValue("--camb-lane-color") || "#1976d2";
    for (let x = 0; x < w; x++) {
      if (Number.isNaN(lo[x])) continue;
      const top = mid - hi[x] * mid;
      const bot = mid - lo[x] * mid;
      g.fillRect(x, top, 1, Math.max(1, bot - top));
    }
  }

  /**
   * The spectrogram of the window: the lane's first picture is moved and stretched by CSS;
   * tiles are drawn over it on a canvas.
   * @param {Lane} lane
   * @param {import("./tiles.js").TileData[]} tiles
   */
  drawTiles(lane, tiles) {
    const v = this.viewport;
    const span = v.span;
    lane.img.style.width = `${(this.duration / span) * 100}%`;
    lane.img.style.left = `${(-v.start / span) * 100}%`;
    const c = lane.tiles;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const hgt = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w) c.width = w;
    if (c.height !== hgt) c.height = hgt;
    const g = c.getContext("2d");
    if (!g) return;
    g.clearRect(0, 0, w, hgt);
    if (lane.silent) return;
    g.imageSmoothingEnabled = false; // single STFT frames show as blocks, not blurs
    for (const t of tiles) {
      if (!t.image) continue;
      const x0 = v.xAt(t.t0, w);
      const x1 = v.xAt(t.t1, w);
      g.drawImage(t.image, x0, 0, x1 - x0, hgt);
    }
    c.dataset.tiles = String(tiles.length);
  }

  redraw() {
    this.viewport.setMinSpan(this.sampleRate, this.laneWidth());
    this.onView(false);
  }

  laneWidth() {
    for (const lane of this.lanes.values()) if (lane.view.clientWidth) return lane.view.clientWidth;
    return this.ruler.clientWidth || 0;
  }

  /**
   * Tiles to draw for a lane now: the level this window needs, or coarser ones until they
   * arrive. Empty when the first pictures show enough.
   * @param {string} lane
   */
  tilesNow(lane) {
    const want = this.wantedTiles();
    return want ? this.cache.cover(lane, want.level, want.indices) : [];
  }

  wantedTiles() {
    const n = Math.round(this.duration * this.sampleRate);
    const width = this.laneWidth() * (window.devicePixelRatio || 1);
    const level = tileLevel(this.viewport, width, n, this.sampleRate);
    if (level === null) return null;
    return { level, indices: tilesFor(this.viewport, level, n, this.sampleRate) };
  }

  /**
   * The window moved (zoom, pan, Python, resize): draw it in the next frame, ask for the
   * tiles it needs, and tell the kernel what is shown.
   * @param {boolean} [report] tell the kernel (not when following Python or only redrawing)
   */
  onView(report = true) {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.paint();
      });
    }
    clearTimeout(this.tileTimer);
    this.tileTimer = setTimeout(() => this.requestTiles(), TILE_DELAY);
    if (report) {
      clearTimeout(this.reportTimer);
      this.reportTimer = setTimeout(() => this.reportView(), REPORT_DELAY);
    }
  }

  paint() {
    const v = this.viewport;
    for (const lane of this.lanes.values()) {
      const tiles = this.tilesNow(lane.name);
      this.drawTiles(lane, tiles);
      this.drawWave(lane, tiles);
      this.drawSelection(lane);
    }
    this.drawRuler();
    this.updatePlayheads();
    const d = this.duration || 1;
    this.overviewBox.style.left = `${(v.start / d) * 100}%`;
    this.overviewBox.style.width = `${Math.max(0.5, (v.span / d) * 100)}%`;
    this.overview.setAttribute("aria-valuetext", `${fmtTime(v.start)} to ${fmtTime(v.end)}`);
    this.overview.dataset.start = v.start.toFixed(3);
    this.overview.dataset.end = v.end.toFixed(3);
    this.zoomOutBtn.disabled = v.full;
    this.fitBtn.disabled = v.full;
    this.zoomInBtn.disabled = v.span <= v.minSpan + 1e-9;
  }

  /** Lanes that get tiles: shown and not silent. */
  tileLanes() {
    return [...this.lanes.values()].filter((l) => l.ready && !l.silent).map((l) => l.name);
  }

  requestTiles() {
    const want = this.wantedTiles();
    if (!want || !this.ctx.conn.live) return;
    const lanes = this.tileLanes();
    if (!lanes.length) return;
    const req = this.requests.next(this.cache, lanes, want.level, want.indices);
    if (!req) return;
    this.ctx.conn.send({ type: "tiles", clip_id: this.card.id, view_id: this.viewId, ...req });
  }

  /**
   * A tile arrived from the kernel.
   * @param {{lane: string, level: number, index: number, t0: number, t1: number}} msg
   * @param {DataView[]} buffers [peaks f32, png]
   */
  async onTile(msg, buffers) {
    const peaks = new Float32Array(copyBytes(buffers[0]));
    const png = copyBytes(buffers[1]);
    let image = null;
    try {
      image = await createImageBitmap(new Blob([png], { type: "image/png" }));
    } catch {
      return; // a broken picture: its area keeps the coarser one
    }
    this.cache.put({ lane: msg.lane, level: msg.level, index: msg.index, t0: msg.t0,
      t1: msg.t1, peaks, image, bytes: peaks.byteLength + image.width * image.height * 4 });
    this.requests.arrived(this.cache, this.tileLanes(), msg.level, msg.index);
    this.onView(false);
  }

  /**
   * Show `[start, end]` (kept inside the clip and above the deepest zoom).
   * @param {number} start
   * @param {number} end
   */
  setView(start, end) {
    if (this.viewport.setWindow(start, end)) this.onView();
  }

  /**
   * @param {number} factor > 1 zooms in
   * @param {number} [anchor] seconds kept in place; the playhead if it is shown, else the centre
   */
  zoomBy(factor, anchor) {
    const v = this.viewport;
    if (anchor === undefined) {
      const t = this.time();
      anchor = t >= v.start && t <= v.end ? t : undefined;
    }
    if (v.zoomBy(factor, anchor)) this.onView();
  }

  /**
   * Ctrl + wheel (and a trackpad pinch, which Chromium and Firefox send as one) zooms about
   * the pointer; a sideways wheel (or Shift + wheel) pans. A plain wheel scrolls the page:
   * a notebook is read by scrolling, and lanes under the pointer must not trap it.
   * @param {WheelEvent} e
   * @param {HTMLElement} view
   */
  onWheel(e, view) {
    const v = this.viewport;
    const r = view.getBoundingClientRect();
    const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? r.width : 1; // lines, pages
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      const factor = Math.exp((-e.deltaY * scale) / 300);
      this.zoomBy(factor, v.timeAt(e.clientX - r.left, r.width));
      return;
    }
    const dx = e.shiftKey && !e.deltaX ? e.deltaY : e.deltaX;
    if (!dx || v.full || Math.abs(e.deltaX) < Math.abs(e.deltaY) && !e.shiftKey) return;
    e.preventDefault();
    if (v.panBy((dx * scale * v.span) / r.width)) this.onView();
  }

  /**
   * Click: seek. Drag: pan a zoomed view (seek when the whole clip is shown).
   * Shift + drag: select a span (Shift + click clears it).
   * @param {HTMLElement} view
   */
  bindPointer(view) {
    /** @type {{x: number, t: number, start: number, mode: "press" | "pan" | "seek" | "select", shift: boolean} | null} */
    let press = null;
    const at = (/** @type {PointerEvent} */ e) => {
      const r = view.getBoundingClientRect();
      return { x: e.clientX - r.left, w: r.width, t: this.viewport.timeAt(e.clientX - r.left, r.width) };
    };
    view.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const p = at(e);
      press = { x: p.x, t: p.t, start: this.viewport.start, mode: "press", shift: e.shiftKey };
      view.setPointerCapture?.(e.pointerId);
      if (!e.shiftKey && this.viewport.full) {
        press.mode = "seek"; // as before zooming existed: press and drag to seek
        this.seek(p.t);
      }
    });
    view.addEventListener("pointermove", (e) => {
      if (!press) return;
      const p = at(e);
      if (press.mode === "press" && Math.abs(p.x - press.x) >= DRAG_PX) {
        press.mode = press.shift ? "select" : "pan";
      }
      if (press.mode === "seek") this.seek(p.t);
      else if (press.mode === "pan") {
        const v = this.viewport;
        const span = v.span;
        const a = press.start - ((p.x - press.x) / p.w) * span;
        if (v.setWindow(a, a + span)) this.onView();
      } else if (press.mode === "select") {
        const t = this.viewport.timeAt(p.x, p.w);
        this.setSelection(Math.min(press.t, t), Math.max(press.t, t));
      }
    });
    const stop = (/** @type {PointerEvent} */ e) => {
      if (!press) return;
      if (press.mode === "press") {
        if (press.shift) this.setSelection(null);
        else this.seek(at(e).t);
      }
      press = null;
    };
    view.addEventListener("pointerup", stop);
    view.addEventListener("pointercancel", () => (press = null));
  }

  bindOverview() {
    let dragging = false;
    const move = (/** @type {PointerEvent} */ e) => {
      const r = this.overview.getBoundingClientRect();
      const t = (Math.min(Math.max(0, e.clientX - r.left), r.width) / (r.width || 1)) * this.duration;
      const span = this.viewport.span;
      this.setView(t - span / 2, t + span / 2);
    };
    this.overview.addEventListener("pointerdown", (e) => {
      dragging = true;
      this.overview.setPointerCapture?.(e.pointerId);
      move(e);
    });
    this.overview.addEventListener("pointermove", (e) => dragging && move(e));
    this.overview.addEventListener("pointerup", () => (dragging = false));
    this.overview.addEventListener("pointercancel", () => (dragging = false));
  }

  /**
   * @param {number | null} start seconds; null clears the selection (and the loop)
   * @param {number} [end]
   */
  setSelection(start, end = 0) {
    if (start === null || !(end - start > 1e-3)) {
      this.sel = null;
      this.looping = false;
    } else {
      this.sel = [Math.max(0, start), Math.min(this.duration, end)];
    }
    this.loopBtn.disabled = !this.sel;
    this.loopBtn.setAttribute("aria-pressed", String(this.looping));
    this.loopBtn.classList.toggle("camb-on", this.looping);
    this.selText.textContent = this.sel ? `${fmtTime(this.sel[0])}–${fmtTime(this.sel[1])}` : "";
    for (const lane of this.lanes.values()) this.drawSelection(lane);
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => this.reportView(), REPORT_DELAY);
  }

  /** @param {Lane} lane */
  drawSelection(lane) {
    const el = lane.selection;
    if (!this.sel) {
      el.hidden = true;
      return;
    }
    const v = this.viewport;
    const a = Math.max(0, Math.min(1, (this.sel[0] - v.start) / v.span));
    const b = Math.max(0, Math.min(1, (this.sel[1] - v.start) / v.span));
    el.hidden = b <= a;
    el.style.left = `${a * 100}%`;
    el.style.width = `${(b - a) * 100}%`;
    el.classList.toggle("camb-looping", this.looping);
  }

  toggleLoop() {
    if (!this.sel) return;
    this.looping = !this.looping;
    if (this.looping) {
      const t = this.time();
      if (t < this.sel[0] || t >= this.sel[1]) this.seek(this.sel[0]);
    }
    this.setSelection(this.sel[0], this.sel[1]);
  }

  /**
   * @param {PointerEvent} e
   * @param {Lane} lane
   */
  showReadout(e, lane) {
    const r = lane.view.getBoundingClientRect();
    const t = this.viewport.timeAt(e.clientX - r.left, r.width);
    const parts = [fmtTime(t)];
    const s = lane.img.getBoundingClientRect();
    if (this.sampleRate && e.clientY >= s.top && e.clientY <= s.bottom && s.height > 0) {
      parts.push(`${fmtHz(freqAt((s.bottom - e.clientY) / s.height, FMIN, this.sampleRate / 2))}`);
    }
    const dpr = window.devicePixelRatio || 1;
    for (const other of this.lanes.values()) {
      const x = Math.floor((e.clientX - r.left) * dpr);
      const db = columnDb(other.cols || null, x);
      if (db !== null) parts.push(`${this.ctx.vocab.laneLabel(other.name)} ${fmtDb(db)}`);
    }
    this.readout.textContent = parts.join(" · ");
  }

  /** Tell the kernel what this player shows (`w.view()`, `w.selection()`). */
  reportView() {
    const { model } = this.ctx;
    if (!this.ctx.conn.live || !this.duration) return;
    const views = model.get("views") || {};
    const old = views[this.card.id] || {};
    const v = this.viewport;
    const entry = { start: round3(v.start), end: round3(v.end),
      selection: this.sel ? [round3(this.sel[0]), round3(this.sel[1])] : null,
      by: "browser", n: old.n || 0 };
    if (old.start === entry.start && old.end === entry.end && old.by === "browser"
      && JSON.stringify(old.selection ?? null) === JSON.stringify(entry.selection)) return;
    try {
      model.set("views", { ...views, [this.card.id]: entry });
      model.save_changes?.();
    } catch {
      // no kernel: nothing to tell
    }
  }

  /** Python called `w.zoom()`: show that span (once per call). */
  followPython() {
    const entry = (this.ctx.model.get("views") || {})[this.card.id];
    if (!entry || entry.by !== "python" || entry.n === this.pythonN || !this.duration) return;
    this.pythonN = entry.n;
    this.viewport.setWindow(entry.start, entry.end);
    this.onView(false);
    this.reportView(); // what the browser shows, clamped to what it can
  }

  /** @param {[number, number]} scale dB */
  setScale(scale) {
    this.scale = scale;
    const [lo, hi] = scale;
    this.colourBar.hidden = false;
    this.colourBar.replaceChildren(h("span", "camb-cb-label", `${Math.round(lo)}`),
      h("span", "camb-cb-ramp"), h("span", "camb-cb-label", `${Math.round(hi)} dB`));
    const ramp = /** @type {HTMLElement} */ (this.colourBar.children[1]);
    ramp.style.background = `linear-gradient(to right, ${MAGMA.join(", ")})`;
    this.colourBar.title = `Spectrogram colours: ${Math.round(lo)} dB (dark) to ${Math.round(hi)} dB`
      + " (bright), one scale for every lane";
    this.colourBar.setAttribute("role", "img");
    this.colourBar.setAttribute("aria-label", this.colourBar.title);
  }

  /** Frequency labels on a lane's spectrogram (log axis, FMIN to half the rate). @param {Lane} lane */
  drawAxis(lane) {
    if (!this.sampleRate) return;
    const ticks = freqTicks(FMIN, this.sampleRate / 2, lane.img.clientHeight || 64);
    lane.axis.replaceChildren(...ticks.map((tk) => {
      const el = h("span", "camb-freq-tick", tk.label);
      el.style.bottom = `${tk.y * 100}%`;
      return el;
    }));
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

  /** @param {number} t */
  seek(t) {
    t = Math.min(Math.max(0, t), this.duration || 0);
    if (this.media.src) this.media.currentTime = t;
    else this.startAt = t; // its preview is on its way (a run shown before it arrived)
    this.updatePlayheads(t);
  }

  async play() {
    if (!this.graph) return;
    if (this.duration && this.time() >= this.duration - 0.05) this.seek(0);
    if (this.looping && this.sel && (this.time() < this.sel[0] || this.time() >= this.sel[1])) {
      this.seek(this.sel[0]);
    }
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
      // The loop: back to its start when the playhead passes its end (within a frame).
      if (this.looping && this.sel && this.time() >= this.sel[1]) this.media.currentTime = this.sel[0];
      this.updatePlayheads();
      this.raf = requestAnimationFrame(step);
    };
    this.raf = requestAnimationFrame(step);
  }

  /** @param {number} [t] */
  updatePlayheads(t) {
    if (t === undefined) t = this.time();
    const v = this.viewport;
    const pct = `${(v.fraction(t) * 100).toFixed(3)}%`;
    const shown = t >= v.start - 1e-6 && t <= v.end + 1e-6; // off screen when zoomed elsewhere
    for (const lane of this.lanes.values()) {
      lane.playhead.style.left = pct;
      lane.playhead.hidden = !shown;
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
    if (f.sample_rate && f.sample_rate !== this.sampleRate) {
      this.sampleRate = f.sample_rate;
      this.viewport.setMinSpan(this.sampleRate, this.laneWidth());
      for (const lane of this.lanes.values()) this.drawAxis(lane);
    }
    if (f.duration && f.duration !== this.duration) {
      this.viewport.setDuration(f.duration);
      this.followPython();
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
    this.ctx.model.off("change:views", this.onViews);
    clearTimeout(this.tileTimer);
    clearTimeout(this.reportTimer);
    cancelAnimationFrame(this.frame);
    this.cache.clear();
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

/** @param {number} t */
function round3(t) {
  return Math.round(t * 1000) / 1000;
}
