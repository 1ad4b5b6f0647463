// @ts-check
// One card per clip: name, state, progress, errors, and the player once it is done.

import { button, h, newId } from "./dom.js";
import { fmtBytes, fmtElapsed } from "./format.js";
import { Player } from "./player.js";

/**
 * What every card and player of one view shares.
 * @typedef {object} ViewContext
 * @property {import("./types.js").AnyModel} model
 * @property {import("./vocab.js").Vocab} vocab
 * @property {(content: object, buffers?: ArrayBuffer[]) => void} send
 * @property {Map<string, {parts: ArrayBuffer[], btn: HTMLButtonElement}>} downloads
 * @property {(blob: Blob) => string} url Makes a Blob URL the view revokes on cleanup.
 * @property {(url: string) => void} revoke
 */

/** Seconds to wait for previews before saying they did not arrive. */
const STALE_MS = 15000;

export class Card {
  /**
   * @param {ViewContext} ctx
   * @param {import("./types.js").ClipState} clip
   */
  constructor(ctx, clip) {
    this.ctx = ctx;
    this.id = clip.id;
    this.attempt = -1;
    /** @type {Player | null} */
    this.player = null;
    /** @type {import("./types.js").ClipState | null} */
    this.clip = null;
    this.receivedAt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.stale = undefined;
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

  /** @param {string} type */
  send(type) {
    this.ctx.send({ type, clip_id: this.id });
  }

  /** @param {import("./types.js").ClipState} clip */
  update(clip) {
    this.clip = clip;
    this.receivedAt = performance.now();
    const { vocab } = this.ctx;
    const state = clip.state;
    this.el.dataset.state = state;
    this.name.textContent = clip.name;
    this.name.title = clip.name;
    this.size.textContent = clip.size ? fmtBytes(clip.size) : "";
    let label = vocab.stateLabel(state);
    const p = clip.progress;
    const pct = p === null || p === undefined ? null : Math.round(p * 100);
    if (pct !== null && (state === "uploading" || state === "separating"
      || state === "preparing")) label += ` ${pct}%`;
    this.badge.textContent = label;
    this.progress.hidden = !vocab.active(state);
    this.progress.classList.toggle("camb-indeterminate", pct === null);
    this.bar.style.width = pct === null ? "" : `${pct}%`;
    if (pct !== null) this.progress.setAttribute("aria-valuenow", String(pct));
    else this.progress.removeAttribute("aria-valuenow");
    this.cancelBtn.hidden = !vocab.active(state);
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
        this.ctx.send({ type: "media", clip_id: this.id, lanes: missing });
        // A notebook reopened without its kernel has the cards but no previews to give.
        clearTimeout(this.stale);
        this.stale = setTimeout(() => this.player?.markStale(), STALE_MS);
      }
    }
  }

  tickElapsed() {
    const clip = this.clip;
    if (!clip) return;
    const { vocab } = this.ctx;
    const timed = vocab.timed(clip.state) || (clip.state === "done" && clip.elapsed > 0);
    if (!timed) {
      this.elapsed.textContent = "";
      return;
    }
    let s = clip.elapsed || 0;
    if (vocab.active(clip.state)) s += (performance.now() - this.receivedAt) / 1000;
    this.elapsed.textContent = clip.state === "done" ? `took ${fmtElapsed(s)}` : fmtElapsed(s);
  }

  /**
   * @param {{attempt: number, lane: string, mime: string, level_db: number}} msg
   * @param {DataView[]} buffers
   */
  onLane(msg, buffers) {
    if (msg.attempt !== this.attempt || !this.player) return;
    this.player.setLane(msg.lane, msg, buffers);
  }

  /**
   * @param {string} lane
   * @param {HTMLButtonElement} btn
   */
  download(lane, btn) {
    const request_id = newId();
    btn.disabled = true;
    btn.textContent = "…";
    this.ctx.downloads.set(request_id, { parts: [], btn });
    this.ctx.send({ type: "download", clip_id: this.id, lane, request_id });
  }

  destroy() {
    clearTimeout(this.stale);
    if (this.player) this.player.destroy();
    this.el.remove();
  }
}
