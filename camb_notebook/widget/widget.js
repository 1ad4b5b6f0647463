// SeparationWidget front end: drop zone, chunked uploads, clip cards and the stem player.
//
// Protocol with the kernel (custom messages; bulk data only in binary buffers):
//   → upload-start {upload_id, name, size}, upload-chunk {upload_id, offset} + [bytes],
//     upload-end, upload-abort, cancel/retry/remove {clip_id},
//     media {clip_id, lanes}, download {clip_id, lane, request_id}
//   ← upload-ack {upload_id, received}, upload-error {upload_id, message},
//     lane {clip_id, attempt, lane, mime, bitrate, level_db} + [audio, peaks f32, png],
//     file {request_id, name, mime, offset, total, last} + [bytes]
// Synced traits carry only small state (the `clips` list). No network access here.

// The words (clip states, lane names, accepted formats) come from Python in the
// `vocabulary` trait; nothing here keeps a copy of its own.
function makeVocab(v) {
  const states = (v && v.states) || {};
  const labels = (v && v.lane_labels) || {};
  return {
    lanes: (v && v.lanes) || [],
    formats: (v && v.formats) || "",
    laneLabel: (name) => labels[name] || name,
    stateLabel: (state) => states[state]?.label || state,
    active: (state) => Boolean(states[state]?.active),
    timed: (state) => Boolean(states[state]?.timed),
  };
}
const UPLOAD_WINDOW = 4; // chunks in flight before an ack is needed (flow control)
const DRIFT = 0.08; // seconds a lane may drift from the master before it is re-seeked

function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, cls, title) {
  const b = h("button", `camb-btn ${cls || ""}`.trim(), label);
  b.type = "button";
  if (title) {
    b.title = title;
    b.setAttribute("aria-label", title);
  }
  return b;
}

function fmtTime(t) {
  if (!Number.isFinite(t) || t < 0) t = 0;
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s < 10 ? "0" : ""}${s.toFixed(1)}`;
}

function fmtBytes(n) {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

function fmtElapsed(s) {
  if (s < 60) return `${Math.floor(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
}

function fmtDb(v) {
  return Number.isFinite(v) ? `${v.toFixed(1).replace("-", "−")} dBFS` : "—";
}

function newId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function copyBytes(view) {
  // Buffers arrive as DataView slices of a larger ArrayBuffer; copy to own the bytes.
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

// ---------------------------------------------------------------------------------
// Uploads: 1 MB chunks (the kernel chooses the size), a small window of chunks in
// flight, each acknowledged by the kernel with the byte count it has written.
class Uploader {
  constructor(model) {
    this.model = model;
    this.active = new Map();
  }

  add(file) {
    const id = newId();
    const st = { id, file, next: 0, inflight: 0, started: false, reading: false };
    this.active.set(id, st);
    this.model.send({ type: "upload-start", upload_id: id, name: file.name, size: file.size });
  }

  async pump(st) {
    if (st.reading) return;
    st.reading = true;
    const chunk = this.model.get("chunk_size") || 1 << 20;
    try {
      while (this.active.has(st.id) && st.inflight < UPLOAD_WINDOW && st.next < st.file.size) {
        const start = st.next;
        const end = Math.min(st.file.size, start + chunk);
        st.next = end;
        st.inflight += 1;
        const data = await st.file.slice(start, end).arrayBuffer();
        if (!this.active.has(st.id)) return;
        this.model.send({ type: "upload-chunk", upload_id: st.id, offset: start }, undefined,
          [data]);
      }
    } catch (err) {
      this.abort(st.id, `the browser could not read the file (${err})`);
    } finally {
      st.reading = false;
    }
  }

  onAck(msg) {
    const st = this.active.get(msg.upload_id);
    if (!st) return;
    if (st.started) st.inflight = Math.max(0, st.inflight - 1);
    st.started = true;
    if (msg.received >= st.file.size) {
      this.active.delete(st.id);
      this.model.send({ type: "upload-end", upload_id: st.id });
      return;
    }
    this.pump(st);
  }

  onError(msg) {
    this.active.delete(msg.upload_id);
  }

  abort(id, reason) {
    if (!this.active.delete(id)) return;
    this.model.send({ type: "upload-abort", upload_id: id, reason });
  }

  abortAll() {
    for (const id of [...this.active.keys()]) this.abort(id, "the view was closed");
  }
}

// ---------------------------------------------------------------------------------
// The player of one finished clip: lanes with waveform + spectrogram + <audio>, one
// transport, solo/mute, A/B and downloads.
class Player {
  constructor(card) {
    this.card = card;
    this.ctx = card.ctx;
    this.lanes = new Map(); // lane -> {row, audio, canvas, img, playhead, peaks, solo, mute}
    this.duration = 0;
    this.playing = false;
    this.raf = 0;
    this.ab = { on: false, side: "A", A: "original", B: "foreground" };
    this.urls = new Set(); // this player's Blob URLs, revoked when it goes (retry, remove)
    this.build();
  }

  build() {
    const el = (this.el = h("div", "camb-player"));
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
    ab.append(h("span", "camb-ab-label", "A"), this.selA, this.abBtn, h("span",
      "camb-ab-label", "B"), this.selB);

    this.residualBtn = button("+ Residual", "camb-residual", "Show the residual lane");
    this.residualBtn.addEventListener("click", () => {
      this.residualBtn.disabled = true;
      this.residualBtn.textContent = "Residual…";
      this.ctx.model.send({ type: "media", clip_id: this.card.id, lanes: ["residual"] });
    });
    bar.append(this.playBtn, this.clock, ab, this.residualBtn);

    this.ruler = h("div", "camb-ruler");
    const rulerRow = h("div", "camb-lane camb-ruler-row");
    rulerRow.append(h("div", "camb-lane-side"), this.ruler);
    this.lanesEl = h("div", "camb-lanes");
    this.facts = h("div", "camb-facts");
    el.append(bar, rulerRow, this.lanesEl, this.facts);
  }

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
    for (const [side, sel] of [["A", this.selA], ["B", this.selB]]) {
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

  ensureLane(name) {
    if (this.lanes.has(name)) return this.lanes.get(name);
    const row = h("div", `camb-lane camb-lane-${name}`);
    row.dataset.lane = name;
    const side = h("div", "camb-lane-side");
    const label = h("div", "camb-lane-label", this.ctx.vocab.laneLabel(name));
    const level = h("div", "camb-lane-level", "");
    const btns = h("div", "camb-lane-btns");
    const solo = button("S", "camb-solo", `Solo ${this.ctx.vocab.laneLabel(name)}`);
    const mute = button("M", "camb-mute", `Mute ${this.ctx.vocab.laneLabel(name)}`);
    const dl = button("⬇", "camb-download", `Download ${this.ctx.vocab.laneLabel(name)}`);
    solo.setAttribute("aria-pressed", "false");
    mute.setAttribute("aria-pressed", "false");
    btns.append(solo, mute, dl);
    side.append(label, level, btns);

    const view = h("div", "camb-lane-view");
    view.setAttribute("role", "slider");
    view.setAttribute("aria-valuemin", "0");
    view.setAttribute("aria-label", `${this.ctx.vocab.laneLabel(name)}: click or drag to seek`);
    view.tabIndex = 0;
    const canvas = h("canvas", "camb-wave");
    const img = h("img", "camb-spec");
    img.alt = `Spectrogram of ${this.ctx.vocab.laneLabel(name)}`;
    img.draggable = false;
    const playhead = h("div", "camb-playhead");
    const loading = h("div", "camb-lane-loading", "loading…");
    view.append(img, canvas, playhead, loading);

    const audio = h("audio", "camb-audio");
    audio.preload = "auto";
    audio.setAttribute("aria-label", `${this.ctx.vocab.laneLabel(name)} audio`);
    audio.dataset.lane = name;
    row.append(side, view, audio);

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
      const step = e.shiftKey ? 10 : 2;
      if (e.key === "ArrowRight") this.seek(this.time() + step);
      else if (e.key === "ArrowLeft") this.seek(this.time() - step);
      else if (e.key === " ") this.playing ? this.pause() : this.play();
      else return;
      e.preventDefault();
    });
    audio.addEventListener("loadedmetadata", () => this.updateClock());
    audio.addEventListener("ended", () => {
      if (audio === this.master()) this.pause();
    });

    // Keep lanes in display order.
    this.lanes.set(name, lane);
    const order = this.ctx.vocab.lanes.filter((n) => this.lanes.has(n));
    for (const n of order) this.lanesEl.append(this.lanes.get(n).row);
    this.refreshSelects();
    this.applyAudible();
    return lane;
  }

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
    if (this.playing) {
      lane.audio.currentTime = this.time();
      lane.audio.play().catch(() => {});
    } else {
      lane.audio.currentTime = this.time();
    }
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

  drawWave(lane) {
    const { canvas, peaks } = lane;
    const w = Math.max(1, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1)));
    const hgt = Math.max(1, Math.round(canvas.clientHeight * (window.devicePixelRatio || 1)));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== hgt) canvas.height = hgt;
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, w, hgt);
    if (!peaks) return;
    const n = peaks.length / 2;
    const mid = hgt / 2;
    g.fillStyle = getComputedStyle(lane.row).getPropertyValue("--camb-lane-color") || "#1976d2";
    for (let x = 0; x < w; x++) {
      const a = Math.floor((x / w) * n);
      const b = Math.max(a + 1, Math.floor(((x + 1) / w) * n));
      let lo = 0;
      let hi = 0;
      for (let i = a; i < b && i < n; i++) {
        if (peaks[i] < lo) lo = peaks[i];
        if (peaks[n + i] > hi) hi = peaks[n + i];
      }
      const top = mid - Math.min(1, hi) * mid;
      const bot = mid - Math.max(-1, lo) * mid;
      g.fillRect(x, top, 1, Math.max(1, bot - top));
    }
  }

  redraw() {
    for (const lane of this.lanes.values()) this.drawWave(lane);
    this.drawRuler();
  }

  drawRuler() {
    const d = this.duration;
    if (!d) return;
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
    const step = steps.find((s) => d / s <= 10) || 1200;
    const ticks = [];
    for (let t = 0; t <= d + 1e-9; t += step) {
      const tick = h("span", "camb-tick", fmtTime(t).replace(/\.0$/, ""));
      tick.style.left = `${(t / d) * 100}%`;
      if (t > 0 && (d - t) / d < 0.04) tick.classList.add("camb-tick-end");
      ticks.push(tick);
    }
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

  audible(lane) {
    if (this.ab.on) return lane.name === this.ab[this.ab.side];
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
    this.abBtn.textContent = on ? `▶ ${side}: ${this.ctx.vocab.laneLabel(this.ab[side])}` : "A/B off";
  }

  toggleAB() {
    if (!this.ab.on) this.ab = { ...this.ab, on: true, side: "A" };
    else if (this.ab.side === "A") this.ab.side = "B";
    else this.ab.on = false;
    this.applyAudible();
  }

  bindSeek(view) {
    let dragging = false;
    const at = (e) => {
      const r = view.getBoundingClientRect();
      return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * this.duration;
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

  seek(t) {
    t = Math.min(Math.max(0, t), this.duration || 0);
    for (const lane of this.lanes.values()) if (lane.ready) lane.audio.currentTime = t;
    this.seekTarget = t;
    this.updatePlayheads(t);
  }

  play() {
    const t = this.time();
    const ready = [...this.lanes.values()].filter((l) => l.ready);
    if (!ready.length) return;
    if (this.duration && t >= this.duration - 0.05) this.seek(0);
    this.playing = true;
    this.playBtn.textContent = "❚❚ Pause";
    this.playBtn.classList.add("camb-playing");
    for (const lane of ready) {
      lane.audio.currentTime = this.time();
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

  updatePlayheads(t) {
    if (t === undefined) t = this.time();
    const d = this.duration || 1;
    const pct = `${Math.min(100, (t / d) * 100).toFixed(3)}%`;
    for (const lane of this.lanes.values()) {
      lane.playhead.style.left = pct;
      lane.view.setAttribute("aria-valuenow", t.toFixed(1));
    }
    this.updateClock(t);
  }

  updateClock(t) {
    if (t === undefined) t = this.time();
    this.clock.textContent = `${fmtTime(t)} / ${fmtTime(this.duration)}`;
  }

  update(clip) {
    const f = clip.facts || {};
    if (f.duration && f.duration !== this.duration) {
      this.duration = f.duration;
      for (const lane of this.lanes.values()) lane.view.setAttribute("aria-valuemax",
        String(f.duration));
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

// ---------------------------------------------------------------------------------
// One card per clip.
class Card {
  constructor(ctx, clip) {
    this.ctx = ctx;
    this.id = clip.id;
    this.attempt = -1;
    this.player = null;
    this.requested = new Set();
    const el = (this.el = h("div", "camb-card"));
    el.dataset.clipId = clip.id;
    const head = h("div", "camb-card-head");
    this.name = h("span", "camb-name");
    this.size = h("span", "camb-size");
    this.badge = h("span", "camb-badge");
    this.badge.setAttribute("role", "status");
    this.elapsed = h("span", "camb-elapsed");
    const progress = h("div", "camb-progress");
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    this.progress = progress;
    this.bar = h("div", "camb-progress-bar");
    progress.append(this.bar);
    this.cancelBtn = button("Cancel", "camb-cancel", "Cancel this clip");
    this.retryBtn = button("Retry", "camb-retry", "Run this clip again");
    this.removeBtn = button("×", "camb-remove", "Remove this clip");
    this.cancelBtn.addEventListener("click", () => this.send("cancel"));
    this.retryBtn.addEventListener("click", () => this.send("retry"));
    this.removeBtn.addEventListener("click", () => this.send("remove"));
    head.append(this.name, this.size, this.badge, this.elapsed, progress, this.cancelBtn,
      this.retryBtn, this.removeBtn);
    this.error = h("div", "camb-error");
    this.error.setAttribute("role", "alert");
    this.errorMsg = h("div", "camb-error-message");
    this.errorHint = h("div", "camb-error-hint");
    this.error.append(this.errorMsg, this.errorHint);
    this.note = h("div", "camb-note");
    el.append(head, this.error, this.note);
  }

  send(type) {
    this.ctx.model.send({ type, clip_id: this.id });
  }

  update(clip) {
    this.clip = clip;
    this.receivedAt = performance.now();
    const state = clip.state;
    this.el.dataset.state = state;
    this.name.textContent = clip.name;
    this.name.title = clip.name;
    this.size.textContent = clip.size ? fmtBytes(clip.size) : "";
    let label = this.ctx.vocab.stateLabel(state);
    const p = clip.progress;
    const pct = p === null || p === undefined ? null : Math.round(p * 100);
    if (pct !== null && (state === "uploading" || state === "separating"
      || state === "preparing")) label += ` ${pct}%`;
    this.badge.textContent = label;
    this.progress.hidden = !this.ctx.vocab.active(state);
    this.progress.classList.toggle("camb-indeterminate", pct === null);
    this.bar.style.width = pct === null ? "" : `${pct}%`;
    if (pct !== null) this.progress.setAttribute("aria-valuenow", String(pct));
    else this.progress.removeAttribute("aria-valuenow");
    this.cancelBtn.hidden = !this.ctx.vocab.active(state);
    this.retryBtn.hidden = !(state === "failed" || state === "cancelled") || !clip.attempt;
    this.error.hidden = !(state === "failed" || state === "cancelled");
    this.errorMsg.textContent = clip.message || "";
    this.errorHint.textContent = clip.hint || "";
    this.note.hidden = !(state === "done" && clip.message);
    this.note.textContent = state === "done" ? clip.message || "" : "";
    this.tickElapsed();

    if (clip.attempt !== this.attempt) {
      // A new run (retry): drop the old player and its media.
      this.attempt = clip.attempt;
      this.requested.clear();
      if (this.player) {
        this.player.destroy();
        this.player.el.remove();
        this.player = null;
      }
    }
    if (state === "done") {
      if (!this.player) {
        this.player = new Player(this);
        this.el.append(this.player.el);
      }
      this.player.update(clip);
      const missing = (clip.lanes || []).filter((l) => !this.requested.has(l));
      if (missing.length) {
        missing.forEach((l) => this.requested.add(l));
        this.ctx.model.send({ type: "media", clip_id: this.id, lanes: missing });
        // A notebook reopened without its kernel has the cards but no previews to give.
        clearTimeout(this.stale);
        this.stale = setTimeout(() => this.player?.markStale(), 15000);
      }
    }
  }

  tickElapsed() {
    const clip = this.clip;
    if (!clip) return;
    const timed = this.ctx.vocab.timed(clip.state) || (clip.state === "done" && clip.elapsed > 0);
    if (!timed) {
      this.elapsed.textContent = "";
      return;
    }
    let s = clip.elapsed || 0;
    if (this.ctx.vocab.active(clip.state)) s += (performance.now() - this.receivedAt) / 1000;
    this.elapsed.textContent = clip.state === "done" ? `took ${fmtElapsed(s)}` : fmtElapsed(s);
  }

  onLane(msg, buffers) {
    if (msg.attempt !== this.attempt || !this.player) return;
    this.player.setLane(msg.lane, msg, buffers);
  }

  download(lane, btn) {
    const request_id = newId();
    btn.disabled = true;
    btn.textContent = "…";
    this.ctx.downloads.set(request_id, { parts: [], btn });
    this.ctx.model.send({ type: "download", clip_id: this.id, lane, request_id });
  }

  destroy() {
    clearTimeout(this.stale);
    if (this.player) this.player.destroy();
    this.el.remove();
  }
}

// ---------------------------------------------------------------------------------
function render({ model, el }) {
  const urls = new Set();
  const ctx = {
    model,
    vocab: makeVocab(model.get("vocabulary")),
    downloads: new Map(),
    url(blob) {
      const u = URL.createObjectURL(blob);
      urls.add(u);
      return u;
    },
    revoke(u) {
      if (urls.delete(u)) URL.revokeObjectURL(u);
    },
  };
  const uploader = new Uploader(model);
  const cards = new Map();

  const root = h("div", "camb-sep");
  const header = h("div", "camb-header");
  const title = h("div", "camb-title", "Audio separation");
  const backend = h("span", "camb-backend");
  title.append(backend);
  const drop = h("div", "camb-drop");
  drop.tabIndex = 0;
  drop.setAttribute("role", "button");
  drop.setAttribute("aria-label", "Add audio files: drop them here or press to choose");
  const input = h("input", "camb-file-input");
  input.type = "file";
  input.multiple = true;
  const pick = button("Choose files…", "camb-pick", "Choose audio files to separate");
  drop.append(h("span", "camb-drop-text", "Drop audio files here or "), pick, input);
  header.append(title, drop);
  const list = h("div", "camb-cards");
  const empty = h("div", "camb-empty", `No clips yet. ${ctx.vocab.formats}.`);
  root.append(header, list, empty);
  el.append(root);

  const addFiles = (files) => {
    for (const f of files) uploader.add(f);
  };
  pick.addEventListener("click", (e) => {
    e.stopPropagation();
    input.click();
  });
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = "";
  });
  const onDrag = (e) => {
    e.preventDefault();
    drop.classList.add("camb-drop-over");
  };
  drop.addEventListener("dragenter", onDrag);
  drop.addEventListener("dragover", onDrag);
  drop.addEventListener("dragleave", () => drop.classList.remove("camb-drop-over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("camb-drop-over");
    addFiles([...(e.dataTransfer?.files || [])]);
  });

  const syncSettings = () => {
    backend.textContent = ` · ${model.get("backend_label")}`;
    input.accept = model.get("accept");
  };
  const syncClips = () => {
    const clips = model.get("clips") || [];
    const seen = new Set();
    for (const clip of clips) {
      seen.add(clip.id);
      let card = cards.get(clip.id);
      if (!card) {
        card = new Card(ctx, clip);
        cards.set(clip.id, card);
      }
      list.append(card.el); // keeps the kernel's order; a no-op when already in place
      card.update(clip);
    }
    for (const [id, card] of cards) {
      if (!seen.has(id)) {
        card.destroy();
        cards.delete(id);
      }
    }
    empty.hidden = clips.length > 0;
  };

  const onMsg = (msg, buffers) => {
    switch (msg.type) {
      case "upload-ack":
        uploader.onAck(msg);
        break;
      case "upload-error":
        uploader.onError(msg);
        break;
      case "lane":
        cards.get(msg.clip_id)?.onLane(msg, buffers);
        break;
      case "file": {
        const d = ctx.downloads.get(msg.request_id);
        if (!d) break;
        d.parts.push(copyBytes(buffers[0]));
        d.btn.textContent = `${Math.round(((msg.offset + buffers[0].byteLength)
          / Math.max(1, msg.total)) * 100)}%`;
        if (msg.last) {
          ctx.downloads.delete(msg.request_id);
          const url = URL.createObjectURL(new Blob(d.parts, { type: msg.mime }));
          const a = h("a");
          a.href = url;
          a.download = msg.name;
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
          d.btn.disabled = false;
          d.btn.textContent = "⬇";
        }
        break;
      }
      default:
        break;
    }
  };

  const timer = setInterval(() => {
    for (const card of cards.values()) card.tickElapsed();
  }, 500);
  const resize = new ResizeObserver(() => {
    for (const card of cards.values()) card.player?.redraw();
  });
  resize.observe(root);

  model.on("msg:custom", onMsg);
  model.on("change:clips", syncClips);
  model.on("change:backend_label", syncSettings);
  syncSettings();
  syncClips();

  return () => {
    model.off("msg:custom", onMsg);
    model.off("change:clips", syncClips);
    model.off("change:backend_label", syncSettings);
    clearInterval(timer);
    resize.disconnect();
    uploader.abortAll();
    for (const card of cards.values()) card.destroy();
    cards.clear();
    for (const u of urls) URL.revokeObjectURL(u);
    urls.clear();
  };
}

export default { render };
