// @ts-check
// The player of one finished clip: lanes with waveform + spectrogram + <audio>, one
// transport, solo/mute, A/B and downloads.

import { button, copyBytes, h } from "./dom.js";
import { fmtDb, fmtTime } from "./format.js";
import { laneKeyAction } from "./keys.js";
import { peakColumns } from "./peaks.js";
import { Viewport, rulerTicks } from "./timeline.js";

/** Seconds a lane may drift from the master before it is re-seeked. */
const DRIFT = 0.08;

/**
 * @typedef {object} Lane
 * @property {string} name
 * @property {HTMLDivElement} row
 * @property {HTMLDivElement} view
 * @property {HTMLAudioElement} audio
 * @property {HTMLCanvasElement} canvas
 * @property {HTMLImageElement} img
 * @property {HTMLDivElement} playhead
 * @property {HTMLDivElement} loading
 * @property {HTMLDivElement} level
 * @property {Float32Array | null} peaks
 * @property {boolean} solo
 * @property {boolean} mute
 * @property {HTMLButtonElement} soloBtn
 * @property {HTMLButtonElement} muteBtn
 * @property {HTMLButtonElement} dlBtn
 * @property {boolean} ready
 */

export class Player {
  /**
   * @param {import("./card.js").Card} card
   */
  constructor(card) {
    this.card = card;
    this.ctx = card.ctx;
    /** @type {Map<string, Lane>} */
    this.lanes = new Map();
    this.viewport = new Viewport(0);
    this.playing = false;
    this.raf = 0;
    /** @type {number | undefined} */
    this.seekTarget = undefined;
    this.ab = { on: false, side: "A", A: "original", B: "foreground" };
    /** This player's Blob URLs, revoked when it goes (retry, remove). */
    this.urls = new Set();
    this.el = h("div", "camb-player");
    const bar = h("div", "camb-transport");
    this.playBtn = button("▶ Play", "camb-play", "Play all lanes");
    this.playBtn.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.clock = h("span", "camb-clock", "0:00.0 / 0:00.0");
    this.clock.setAttribute("aria-live", "off");

    const ab = h("span", "camb-ab");
    this.selA = this.laneSelect("A");
    this.selB = this.laneSelect("B");
    this.abBtn = button("A/B off", "camb-ab-toggle", "Switch between lane A and lane B");
    this.abBtn.setAttribute("aria-pressed", "false");
    this.abBtn.addEventListener("click", () => this.toggleAB());
    ab.append(h("span", "camb-ab-label", "A"), this.selA, this.abBtn,
      h("span", "camb-ab-label", "B"), this.selB);

    this.residualBtn = button("+ Residual", "camb-residual", "Show the residual lane");
    this.residualBtn.addEventListener("click", () => {
      this.residualBtn.disabled = true;
      this.residualBtn.textContent = "Residual…";
      this.ctx.send({ type: "media", clip_id: this.card.id, lanes: ["residual"] });
    });
    bar.append(this.playBtn, this.clock, ab, this.residualBtn);

    this.ruler = h("div", "camb-ruler");
    const rulerRow = h("div", "camb-lane camb-ruler-row");
    rulerRow.append(h("div", "camb-lane-side"), this.ruler);
    this.lanesEl = h("div", "camb-lanes");
    this.facts = h("div", "camb-facts");
    this.el.append(bar, rulerRow, this.lanesEl, this.facts);
  }

  get duration() {
    return this.viewport.duration;
  }

  /** @param {"A" | "B"} side */
  laneSelect(side) {
    const sel = h("select", "camb-ab-select");
    sel.setAttribute("aria-label", `Lane ${side}`);
    sel.addEventListener("change", () => {
      this.ab[side] = sel.value;
      this.applyAudible();
    });
    return sel;
  }

  refreshSelects() {
    for (const [side, sel] of /** @type {const} */ ([["A", this.selA], ["B", this.selB]])) {
      const names = [...this.lanes.keys()];
      if (sel.options.length !== names.length) {
        sel.replaceChildren(...names.map((n) => {
          const o = h("option", "", this.ctx.vocab.laneLabel(n));
          o.value = n;
          return o;
        }));
      }
      if (names.includes(this.ab[side])) sel.value = this.ab[side];
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
    const solo = button("S", "camb-solo", `Solo ${label}`);
    const mute = button("M", "camb-mute", `Mute ${label}`);
    const dl = button("⬇", "camb-download", `Download ${label}`);
    solo.setAttribute("aria-pressed", "false");
    mute.setAttribute("aria-pressed", "false");
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

    const audio = h("audio", "camb-audio");
    audio.preload = "auto";
    audio.setAttribute("aria-label", `${label} audio`);
    audio.dataset.lane = name;
    row.append(side, view, audio);

    /** @type {Lane} */
    const lane = { name, row, view, audio, canvas, img, playhead, loading, level, peaks: null,
      solo: false, mute: false, soloBtn: solo, muteBtn: mute, dlBtn: dl, ready: false };
    solo.addEventListener("click", () => {
      lane.solo = !lane.solo;
      this.applyAudible();
    });
    mute.addEventListener("click", () => {
      lane.mute = !lane.mute;
      this.applyAudible();
    });
    dl.addEventListener("click", () => this.card.download(name, dl));
    this.bindSeek(view);
    view.addEventListener("keydown", (e) => {
      const action = laneKeyAction(e);
      if (!action) return;
      if (action.type === "seek-by") this.seek(this.time() + action.seconds);
      else if (action.type === "seek-to") this.seek(action.where === "start" ? 0 : this.duration);
      else if (action.type === "toggle-play") this.playing ? this.pause() : this.play();
      e.preventDefault();
    });
    audio.addEventListener("loadedmetadata", () => this.updateClock());
    audio.addEventListener("ended", () => {
      if (audio === this.master()) this.pause();
    });

    // Keep lanes in display order.
    this.lanes.set(name, lane);
    const order = this.ctx.vocab.lanes.filter((n) => this.lanes.has(n));
    for (const n of order) {
      const l = this.lanes.get(n);
      if (l) this.lanesEl.append(l.row);
    }
    this.refreshSelects();
    this.applyAudible();
    return lane;
  }

  /**
   * @param {string} name
   * @param {{mime: string, level_db: number}} msg
   * @param {DataView[]} buffers
   */
  setLane(name, msg, buffers) {
    const lane = this.ensureLane(name);
    const [audioBuf, peaksBuf, pngBuf] = buffers;
    for (const old of [lane.audio.src, lane.img.src]) {
      if (this.urls.delete(old)) this.ctx.revoke(old);
    }
    const audioUrl = this.ctx.url(new Blob([copyBytes(audioBuf)], { type: msg.mime }));
    const imgUrl = this.ctx.url(new Blob([copyBytes(pngBuf)], { type: "image/png" }));
    this.urls.add(audioUrl);
    this.urls.add(imgUrl);
    lane.peaks = new Float32Array(copyBytes(peaksBuf));
    lane.audio.src = audioUrl;
    lane.img.src = imgUrl;
    lane.level.textContent = fmtDb(msg.level_db);
    lane.ready = true;
    lane.loading.remove();
    lane.audio.currentTime = this.time();
    if (this.playing) lane.audio.play().catch(() => {});
    this.drawWave(lane);
    this.updatePlayheads();
    if (name === "residual") this.residualBtn.remove();
  }

  markStale() {
    for (const lane of this.lanes.values()) {
      if (!lane.ready) {
        lane.loading.textContent = "previews did not arrive: is the kernel running? "
          + "Run the cell again to reload them.";
      }
    }
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
    if (!peaks) return;
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
    const font = getComputedStyle(this.ruler).font;
    const g = document.createElement("canvas").getContext("2d");
    if (g) g.font = font;
    const measure = (/** @type {string} */ s) => (g ? g.measureText(s).width : s.length * 6);
    const ticks = rulerTicks(this.viewport, width, measure).map((tk) => {
      const tick = h("span", `camb-tick camb-tick-${tk.align}`, tk.label);
      tick.style.left = `${tk.x}px`;
      return tick;
    });
    this.ruler.replaceChildren(...ticks);
  }

  master() {
    for (const lane of this.lanes.values()) if (lane.ready) return lane.audio;
    return null;
  }

  time() {
    const m = this.master();
    return m ? m.currentTime : 0;
  }

  /** @param {Lane} lane */
  audible(lane) {
    if (this.ab.on) return lane.name === (this.ab.side === "A" ? this.ab.A : this.ab.B);
    const anySolo = [...this.lanes.values()].some((l) => l.solo);
    return anySolo ? lane.solo : !lane.mute;
  }

  applyAudible() {
    for (const lane of this.lanes.values()) {
      const on = this.audible(lane);
      lane.audio.muted = !on;
      lane.row.classList.toggle("camb-silent", !on);
      lane.soloBtn.setAttribute("aria-pressed", String(lane.solo));
      lane.muteBtn.setAttribute("aria-pressed", String(lane.mute));
    }
    const { on, side } = this.ab;
    this.abBtn.setAttribute("aria-pressed", String(on));
    const current = side === "A" ? this.ab.A : this.ab.B;
    this.abBtn.textContent = on ? `▶ ${side}: ${this.ctx.vocab.laneLabel(current)}` : "A/B off";
  }

  toggleAB() {
    if (!this.ab.on) this.ab = { ...this.ab, on: true, side: "A" };
    else if (this.ab.side === "A") this.ab.side = "B";
    else this.ab.on = false;
    this.applyAudible();
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
    for (const lane of this.lanes.values()) if (lane.ready) lane.audio.currentTime = t;
    this.seekTarget = t;
    this.updatePlayheads(t);
  }

  play() {
    const ready = [...this.lanes.values()].filter((l) => l.ready);
    if (!ready.length) return;
    if (this.duration && this.time() >= this.duration - 0.05) this.seek(0);
    this.playing = true;
    this.playBtn.textContent = "❚❚ Pause";
    this.playBtn.classList.add("camb-playing");
    const t = this.time();
    for (const lane of ready) {
      lane.audio.currentTime = t;
      lane.audio.play().catch(() => {});
    }
    this.tick();
  }

  pause() {
    this.playing = false;
    this.playBtn.textContent = "▶ Play";
    this.playBtn.classList.remove("camb-playing");
    for (const lane of this.lanes.values()) lane.audio.pause();
    cancelAnimationFrame(this.raf);
    this.updatePlayheads();
  }

  tick() {
    cancelAnimationFrame(this.raf);
    const step = () => {
      if (!this.playing) return;
      const m = this.master();
      if (m) {
        for (const lane of this.lanes.values()) {
          const a = lane.audio;
          if (lane.ready && a !== m && Math.abs(a.currentTime - m.currentTime) > DRIFT) {
            a.currentTime = m.currentTime;
          }
        }
      }
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
    }
    this.updateClock(t);
  }

  /** @param {number} [t] */
  updateClock(t) {
    if (t === undefined) t = this.time();
    this.clock.textContent = `${fmtTime(t)} / ${fmtTime(this.duration)}`;
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
        (k) => (k === "residual" && lv[k] <= -119.9 ? "Residual silent (stems sum to the mix)"
          : `${this.ctx.vocab.laneLabel(k)} ${fmtDb(lv[k])}`)),
      f.method ? `method ${f.method}` : null,
      f.bitrate ? `preview ${Math.round(f.bitrate / 1000)} kb/s Opus` : null,
    ];
    this.facts.textContent = parts.filter(Boolean).join(" · ");
  }

  destroy() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    for (const lane of this.lanes.values()) {
      lane.audio.pause();
      lane.audio.removeAttribute("src");
      lane.audio.load();
    }
    for (const u of this.urls) this.ctx.revoke(u);
    this.urls.clear();
  }
}
