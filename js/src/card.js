// @ts-check
// One card per clip: name, state, progress, what went wrong and what to do, and the player
// once it is done (or, with no kernel behind the view, the clip's saved picture).

import { button, h, newId } from "./dom.js";
import { fmtBytes, fmtElapsed } from "./format.js";
import { Player } from "./player.js";

/**
 * What every card and player of one view shares.
 * @typedef {object} ViewContext
 * @property {import("./types.js").AnyModel} model
 * @property {import("./vocab.js").Vocab} vocab
 * @property {import("./connection.js").Connection} conn
 * @property {Map<string, {parts: ArrayBuffer[], btn: HTMLButtonElement}>} downloads
 * @property {(blob: Blob) => string} url Makes a Blob URL the view revokes on cleanup.
 * @property {(url: string) => void} revoke
 * @property {(clipId: string) => string | undefined} picture The clip's saved still picture.
 * @property {(card: Card) => void} remove Remove a card (with undo for finished clips).
 * @property {(card: Card) => void} chooseInstead Pick another file in place of a failed one.
 */

/** Seconds to wait for a done clip's media before saying they did not arrive. */
const STALE_MS = 20000;
/** States whose progress the badge shows in percent. */
const PERCENT_STATES = new Set(["uploading", "submitting", "separating", "preparing"]);

export class Card {
  /**
   * @param {ViewContext} ctx
   * @param {import("./types.js").ClipState} clip
   */
  constructor(ctx, clip) {
    this.ctx = ctx;
    this.id = clip.id;
    /** @type {import("./runs.js").RunCard | null} the card of runs this one is a run of */
    this.group = null;
    this.attempt = -1;
    /** @type {Player | null} */
    this.player = null;
    /** @type {import("./types.js").ClipState | null} */
    this.clip = null;
    this.receivedAt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.stale = undefined;
    this.requested = new Set();
    this.previewAsked = false;
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
    this.cancelBtn = button("Cancel", "camb-cancel");
    this.retryBtn = button("Retry", "camb-retry");
    this.chooseBtn = button("Choose another file…", "camb-choose");
    this.cancelBtn.addEventListener("click", () => this.send("cancel"));
    this.retryBtn.addEventListener("click", () => this.send("retry"));
    this.chooseBtn.addEventListener("click", () => this.ctx.chooseInstead(this));
    const actions = h("span", "camb-card-actions");
    actions.append(this.cancelBtn, this.retryBtn, this.chooseBtn);
    head.append(this.name, this.size, this.badge, this.elapsed, progress, actions);
    this.error = h("div", "camb-error");
    this.error.setAttribute("role", "alert");
    this.errorMsg = h("div", "camb-error-message");
    this.errorHint = h("div", "camb-error-hint");
    this.error.append(this.errorMsg, this.errorHint);
    this.note = h("div", "camb-note");
    this.still = h("figure", "camb-still");
    this.stillImg = h("img", "camb-still-img");
    this.stillCaption = h("figcaption", "camb-still-caption");
    this.still.append(this.stillImg, this.stillCaption);
    this.still.hidden = true;
    // Last in the card, so Tab reaches it after everything else (it sits top right).
    this.removeBtn = button("×", "camb-remove");
    this.removeBtn.addEventListener("click", () => this.ctx.remove(this));
    el.append(head, this.error, this.note, this.still, this.removeBtn);
  }

  /** @param {string} type */
  send(type) {
    this.ctx.conn.send({ type, clip_id: this.id });
  }

  /** @param {import("./types.js").ClipState} clip */
  update(clip) {
    this.clip = clip;
    this.receivedAt = performance.now();
    const { vocab, conn } = this.ctx;
    const state = clip.state;
    const name = clip.name;
    this.el.dataset.state = state;
    if (this.name.textContent !== name) this.name.replaceChildren(...breakable(name));
    this.name.title = name;
    this.size.textContent = clip.size ? fmtBytes(clip.size) : "";
    const p = clip.progress;
    const pct = p === null || p === undefined ? null : Math.round(p * 100);
    let label = clip.detail || vocab.stateLabel(state);
    if (pct !== null && PERCENT_STATES.has(state)) label += ` ${pct}%`;
    this.badge.textContent = label;
    this.progress.hidden = !vocab.active(state);
    this.progress.classList.toggle("camb-indeterminate", pct === null);
    this.bar.style.width = pct === null ? "" : `${pct}%`;
    if (pct !== null) this.progress.setAttribute("aria-valuenow", String(pct));
    else this.progress.removeAttribute("aria-valuenow");
    this.progress.setAttribute("aria-label", `${name}: ${label}`);
    const ended = state === "failed" || state === "cancelled";
    this.cancelBtn.hidden = !vocab.active(state);
    this.retryBtn.hidden = !ended || clip.action !== "retry" || !clip.attempt;
    this.chooseBtn.hidden = !ended || clip.action !== "choose-file";
    // Every button says which clip it acts on.
    this.cancelBtn.setAttribute("aria-label", `Cancel ${name}`);
    this.retryBtn.setAttribute("aria-label", `Retry ${name}`);
    this.chooseBtn.setAttribute("aria-label", `Choose another file instead of ${name}`);
    this.removeBtn.setAttribute("aria-label", `Remove ${name}`);
    this.removeBtn.title = `Remove ${name}`;
    this.error.hidden = !ended;
    this.errorMsg.textContent = clip.message || "";
    this.errorHint.textContent = clip.hint || "";
    this.errorHint.hidden = !clip.hint;
    this.note.hidden = !(state === "done" && clip.message);
    this.note.textContent = state === "done" ? clip.message || "" : "";
    this.tickElapsed();

    if (clip.attempt !== this.attempt) {
      // A new run (retry): drop the old player and its media.
      this.attempt = clip.attempt;
      this.requested.clear();
      this.previewAsked = false;
      if (this.player) {
        this.player.destroy();
        this.player.el.remove();
        this.player = null;
      }
    }
    if (state === "done" && conn.live) {
      if (!this.player) {
        this.player = new Player(this);
        this.el.insertBefore(this.player.el, this.removeBtn);
        this.group?.sync(this.player);
      }
      this.player.update(clip);
      this.askForMedia(clip);
    }
    this.showStill();
    this.setOnline(conn.live);
  }

  /** @param {import("./types.js").ClipState} clip */
  askForMedia(clip) {
    const missing = (clip.lanes || []).filter((l) => !this.requested.has(l));
    if (!missing.length && this.previewAsked) return;
    const asked = this.ctx.conn.send({ type: "media", clip_id: this.id, lanes: missing,
      preview: !this.previewAsked });
    if (!asked) return;
    missing.forEach((l) => this.requested.add(l));
    this.previewAsked = true;
    clearTimeout(this.stale);
    this.stale = setTimeout(() => this.player?.markStale(), STALE_MS);
  }

  /** The saved picture stands in for the player until its lanes arrive, or for good. */
  showStill() {
    const clip = this.clip;
    const src = clip && clip.state === "done" ? this.ctx.picture(this.id) : undefined;
    const shown = Boolean(this.player && [...this.player.lanes.values()].some((l) => l.ready));
    const offline = !this.ctx.conn.live;
    this.still.hidden = !src || shown;
    if (src && this.stillImg.getAttribute("src") !== src) this.stillImg.src = src;
    this.stillImg.alt = clip ? `Spectrograms of ${clip.name}: original, foreground, background`
      : "";
    this.stillCaption.textContent = offline
      ? "Saved picture: the player needs the kernel. Run the cell again to bring it back."
      : "Saved picture: the player is on its way…";
  }

  onLanesShown() {
    this.showStill();
  }

  /** @param {boolean} online */
  setOnline(online) {
    // Everything that asks the kernel for something; what is already here still plays.
    for (const b of [this.cancelBtn, this.retryBtn, this.chooseBtn, this.removeBtn]) {
      b.disabled = !online;
    }
    this.player?.setOnline(online);
    this.el.classList.toggle("camb-offline", !online);
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
    if (vocab.active(clip.state) && this.ctx.conn.live) {
      s += (performance.now() - this.receivedAt) / 1000;
    }
    this.elapsed.textContent = clip.state === "done" ? `took ${fmtElapsed(s)}` : fmtElapsed(s);
  }

  /**
   * @param {{attempt: number, lane: string, level_db: number, silent?: boolean}} msg
   * @param {DataView[]} buffers
   */
  onLane(msg, buffers) {
    if (msg.attempt !== this.attempt || !this.player) return;
    this.player.setLane(msg.lane, msg, buffers);
  }

  /**
   * A tile of the zoomed view (detail on demand).
   * @param {{attempt: number, lane: string, level: number, index: number, t0: number, t1: number}} msg
   * @param {DataView[]} buffers
   */
  onTile(msg, buffers) {
    if (msg.attempt !== this.attempt || !this.player) return;
    this.player.onTile(msg, buffers);
  }

  /**
   * @param {{attempt: number} & import("./player.js").PreviewMessage} msg
   * @param {DataView[]} buffers
   */
  onPreview(msg, buffers) {
    if (msg.attempt !== this.attempt || !this.player) return;
    this.player.setPreview(msg, buffers);
  }

  /**
   * @param {string} lane
   * @param {HTMLButtonElement} btn
   */
  download(lane, btn) {
    const request_id = newId();
    if (!this.ctx.conn.send({ type: "download", clip_id: this.id, lane, request_id })) return;
    btn.disabled = true;
    btn.textContent = "…";
    this.ctx.downloads.set(request_id, { parts: [], btn });
  }

  destroy() {
    clearTimeout(this.stale);
    if (this.player) this.player.destroy();
    this.el.remove();
  }
}

/**
 * A file name as text with a line-break opportunity (`<wbr>`) after each "_", "-" and ".",
 * so a long name wraps at its word joints instead of anywhere (its text is unchanged).
 * @param {string} name
 * @returns {(string | HTMLElement)[]}
 */
export function breakable(name) {
  /** @type {(string | HTMLElement)[]} */
  const out = [];
  for (const part of name.split(/(?<=[_\-.])/)) {
    if (out.length) out.push(document.createElement("wbr"));
    out.push(part);
  }
  return out;
}
