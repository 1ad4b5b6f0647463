// @ts-check
// SeparationWidget front end: drop zone, chunked uploads, clip cards and the stem player.
//
// Protocol with the kernel (custom messages; bulk data only in binary buffers):
//   → upload-start {upload_id, name, size}, upload-chunk {upload_id, offset} + [bytes],
//     upload-end, upload-abort, cancel/retry/remove {clip_id},
//     media {clip_id, lanes, preview}, download {clip_id, lane, request_id},
//     tiles {clip_id, view_id, request_id, lanes, tiles: [[level, index], …]}
//   ← upload-ack {upload_id, received}, upload-error {upload_id, message},
//     lane {clip_id, attempt, lane, level_db, silent} + [peaks f32, png],
//     preview {clip_id, attempt, mime, lanes, channels, bitrate, headroom} + [ogg opus],
//     file {request_id, name, mime, offset, total, last} + [bytes],
//     tile {clip_id, attempt, request_id, lane, level, index, t0, t1, columns} + [peaks f32, png]
// Synced traits carry only small state (`clips`, `pictures`, `views`: each player's window
// and selection in seconds). No network access here.

import { Card } from "./card.js";
import { Connection } from "./connection.js";
import { button, copyBytes, h } from "./dom.js";
import { keepInNotebook } from "./saved-state.js";
import { RunCard } from "./runs.js";
import { Uploader } from "./uploader.js";
import { makeVocab } from "./vocab.js";

/** Seconds a removed finished clip can be brought back before the kernel forgets it. */
const UNDO_MS = 8000;

/**
 * anywidget's render: build the view in `el`; the returned function cleans it up.
 * @param {{model: import("./types.js").AnyModel, el: HTMLElement}} args
 */
function render({ model, el }) {
  /** @type {Set<string>} */
  const urls = new Set();
  const vocab = makeVocab(model.get("vocabulary"));
  const conn = new Connection(model, (link) => onLink(link));
  /** @type {Map<string, Card>} one per clip (a run of several is a clip) */
  const cards = new Map();
  /** @type {Map<string, RunCard>} one per file added with several runs, by group id */
  const groups = new Map();
  /** @type {{card: Card, timer: ReturnType<typeof setTimeout>} | null} */
  let pendingRemoval = null;
  /** @type {Card | null} */
  let replacing = null;

  /** @type {import("./card.js").ViewContext} */
  const ctx = {
    model,
    vocab,
    conn,
    downloads: new Map(),
    url(blob) {
      const u = URL.createObjectURL(blob);
      urls.add(u);
      return u;
    },
    revoke(u) {
      if (urls.delete(u)) URL.revokeObjectURL(u);
    },
    picture: (id) => (model.get("pictures") || {})[id],
    remove: (card) => removeCard(card),
    chooseInstead: (card) => {
      replacing = card;
      input.click();
    },
  };
  const uploader = new Uploader((content, buffers) => conn.send(content, buffers),
    () => model.get("chunk_size"));

  const root = h("div", "camb-sep");
  const notice = h("div", "camb-notice");
  notice.setAttribute("role", "alert");
  notice.hidden = true;
  const header = h("div", "camb-header");
  const title = h("div", "camb-title", "Audio separation");
  const backend = h("span", "camb-backend");
  title.append(backend);
  // A drop target with a real button inside (never a button inside a button).
  const drop = h("div", "camb-drop");
  drop.setAttribute("role", "group");
  drop.setAttribute("aria-label", "Add audio files");
  const input = h("input", "camb-file-input");
  input.type = "file";
  input.multiple = true;
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  const pick = button("Choose files…", "camb-pick", "Choose audio files to separate");
  drop.append(h("span", "camb-drop-text", "Drop audio files here or"), pick, input);
  header.append(title, drop);
  const list = h("div", "camb-cards");
  const empty = h("div", "camb-empty", `No clips yet. ${vocab.formats}.`);
  const toast = h("div", "camb-toast");
  toast.setAttribute("role", "status");
  toast.hidden = true;
  root.append(notice, header, list, empty, toast);
  el.append(root);

  /** @param {File[]} files */
  const addFiles = (files) => {
    if (!conn.live) {
      flashNotice();
      return;
    }
    for (const f of files) uploader.add(f);
    if (replacing && files.length) {
      const old = replacing;
      replacing = null;
      conn.send({ type: "remove", clip_id: old.id });
    }
  };
  pick.addEventListener("click", (e) => {
    e.stopPropagation();
    replacing = null;
    input.click();
  });
  // A click anywhere on the zone is a shortcut for the mouse; keyboards use the button.
  drop.addEventListener("click", () => {
    if (conn.live) input.click();
  });
  input.addEventListener("change", () => {
    addFiles([...(input.files || [])]);
    input.value = "";
  });
  const onDrag = (/** @type {DragEvent} */ e) => {
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

  /** @param {Card} card */
  function removeCard(card) {
    if (!conn.live) return;
    if (card.clip?.state !== "done") {
      conn.send({ type: "remove", clip_id: card.id });
      return;
    }
    // A finished clip took minutes to make: hide it first, and keep it until Undo expires.
    commitRemoval();
    card.el.hidden = true;
    const name = card.clip?.name || "clip";
    const undo = button("Undo", "camb-undo", `Undo removing ${name}`);
    undo.addEventListener("click", () => {
      if (!pendingRemoval) return;
      clearTimeout(pendingRemoval.timer);
      pendingRemoval.card.el.hidden = false;
      pendingRemoval = null;
      toast.hidden = true;
    });
    toast.replaceChildren(h("span", "", `Removed ${name}.`), undo);
    toast.hidden = false;
    pendingRemoval = { card, timer: setTimeout(commitRemoval, UNDO_MS) };
    card.player?.pause();
    undo.focus();
  }

  function commitRemoval() {
    if (!pendingRemoval) return;
    const { card, timer } = pendingRemoval;
    clearTimeout(timer);
    pendingRemoval = null;
    toast.hidden = true;
    conn.send({ type: "remove", clip_id: card.id });
  }

  /** @param {import("./connection.js").Link} link */
  function onLink(link) {
    const words = vocab.notice(link);
    notice.textContent = words;
    notice.hidden = !words;
    root.dataset.link = link;
    const live = link === "live";
    pick.disabled = !live;
    input.disabled = !live;
    drop.classList.toggle("camb-drop-off", !live);
    drop.setAttribute("aria-disabled", String(!live));
    if (!live) {
      uploader.active.clear(); // nothing can arrive any more; do not try to send
      for (const d of ctx.downloads.values()) {
        d.btn.textContent = "⬇";
        d.btn.disabled = true;
      }
      ctx.downloads.clear();
      if (pendingRemoval) {
        clearTimeout(pendingRemoval.timer);
        pendingRemoval.card.el.hidden = false;
        pendingRemoval = null;
        toast.hidden = true;
      }
    }
    for (const card of cards.values()) {
      card.setOnline(live);
      if (card.clip) card.update(card.clip);
    }
    for (const group of groups.values()) group.setOnline(live);
  }

  function flashNotice() {
    notice.hidden = false;
    notice.classList.remove("camb-flash");
    void notice.offsetWidth; // restart the animation
    notice.classList.add("camb-flash");
  }

  const syncSettings = () => {
    backend.textContent = ` · ${model.get("backend_label")}`;
    input.accept = model.get("accept");
  };
  const syncClips = () => {
    /** @type {import("./types.js").ClipState[]} */
    const clips = model.get("clips") || [];
    const seen = new Set();
    const seenGroups = new Set();
    for (const clip of clips) {
      seen.add(clip.id);
      let card = cards.get(clip.id);
      if (!card) {
        card = new Card(ctx, clip);
        cards.set(clip.id, card);
      }
      if (clip.group) {
        // A run of several: its card sits in the card of its file.
        let group = groups.get(clip.group);
        if (!group) {
          group = new RunCard(ctx, clip);
          groups.set(clip.group, group);
          group.setOnline(conn.live);
        }
        if (!seenGroups.has(clip.group)) list.append(group.el);
        seenGroups.add(clip.group);
        group.add(card);
      } else {
        list.append(card.el); // keeps the kernel's order; a no-op when already in place
      }
      card.update(clip);
    }
    for (const [id, card] of cards) {
      if (!seen.has(id)) {
        if (pendingRemoval?.card === card) pendingRemoval = null;
        card.group?.drop(card);
        card.destroy();
        cards.delete(id);
      }
    }
    for (const [id, group] of groups) {
      if (!seenGroups.has(id)) {
        if (pendingRemoval?.card === /** @type {any} */ (group)) pendingRemoval = null;
        group.destroy();
        groups.delete(id);
      } else {
        group.refresh();
      }
    }
    empty.hidden = clips.length > 0;
  };
  const syncPictures = () => {
    for (const card of cards.values()) card.showStill();
  };

  /**
   * @param {any} msg
   * @param {DataView[]} buffers
   */
  const onMsg = (msg, buffers) => {
    conn.set("live"); // anything from the kernel proves it is there
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
      case "preview":
        cards.get(msg.clip_id)?.onPreview(msg, buffers);
        break;
      case "tile":
        cards.get(msg.clip_id)?.onTile(msg, buffers);
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
  model.on("change:pictures", syncPictures);
  model.on("change:backend_label", syncSettings);
  syncSettings();
  syncClips();
  let forget = () => {};
  let closed = false;
  conn.watch().then((real) => {
    if (real && !closed) forget = keepInNotebook(real);
  });

  return () => {
    closed = true;
    // Blob URLs first: whatever fails after this must not leak the previews.
    for (const u of urls) URL.revokeObjectURL(u);
    urls.clear();
    for (const card of cards.values()) card.destroy();
    cards.clear();
    for (const group of groups.values()) group.destroy();
    groups.clear();
    model.off("msg:custom", onMsg);
    model.off("change:clips", syncClips);
    model.off("change:pictures", syncPictures);
    model.off("change:backend_label", syncSettings);
    clearInterval(timer);
    resize.disconnect();
    if (pendingRemoval) clearTimeout(pendingRemoval.timer);
    uploader.abortAll("the view was closed"); // sends only while the kernel is there
    conn.close();
    forget();
  };
}

export default { render };
