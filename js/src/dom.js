// @ts-check
// Small DOM helpers.

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [cls]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A `<button type="button">` whose accessible name is `title` when given.
 * @param {string} label
 * @param {string} [cls]
 * @param {string} [title]
 */
export function button(label, cls, title) {
  const b = h("button", `camb-btn ${cls || ""}`.trim(), label);
  b.type = "button";
  if (title) {
    b.title = title;
    b.setAttribute("aria-label", title);
  }
  return b;
}

/** A fresh id for a request or an upload. */
export function newId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Buffers arrive as DataView slices of a larger ArrayBuffer; copy to own the bytes.
 * @param {DataView | ArrayBufferView} view
 * @returns {ArrayBuffer}
 */
export function copyBytes(view) {
  const buf = /** @type {ArrayBuffer} */ (view.buffer);
  return buf.slice(view.byteOffset, view.byteOffset + view.byteLength);
}
