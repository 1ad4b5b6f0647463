// @ts-check
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

import { Card } from "./card.js";
import { button, copyBytes, h } from "./dom.js";
import { Uploader } from "./uploader.js";
import { makeVocab } from "./vocab.js";

/**
 * anywidget's render: build the view in `el`; the returned function cleans it up.
 * @param {{model: import("./types.js").AnyModel, el: HTMLElement}} args
 */
function render({ model, el }) {
  /** @type {Set<string>} */
  const urls = new Set();
  /** @type {import("./card.js").ViewContext} */
  const ctx = {
    model,
    vocab: makeVocab(model.get("vocabulary")),
    send: (content, buffers) => model.send(content, undefined, buffers),
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
  const uploader = new Uploader(ctx.send, () => model.get("chunk_size"));
  /** @type {Map<string, Card>} */
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

  const addFiles = (/** @type {File[]} */ files) => {
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

  const syncSettings = () => {
    backend.textContent = ` · ${model.get("backend_label")}`;
    input.accept = model.get("accept");
  };
  const syncClips = () => {
    /** @type {import("./types.js").ClipState[]} */
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

  /**
   * @param {any} msg
   * @param {DataView[]} buffers
   */
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
    uploader.abortAll("the view was closed");
    for (const card of cards.values()) card.destroy();
    cards.clear();
    for (const u of urls) URL.revokeObjectURL(u);
    urls.clear();
  };
}

export default { render };
