// @ts-check
// Uploads: 1 MB chunks (the kernel chooses the size), a small window of chunks in flight,
// each acknowledged by the kernel with the byte count it has written.

import { newId } from "./dom.js";

/** Chunks in flight before an ack is needed (flow control). */
export const UPLOAD_WINDOW = 4;

/**
 * @typedef {(content: object, buffers?: ArrayBuffer[]) => void} Send
 */

/**
 * @typedef {object} UploadState
 * @property {string} id
 * @property {Blob & {name: string}} file
 * @property {number} next Offset of the next chunk to read.
 * @property {number} inflight Chunks sent and not yet acknowledged.
 * @property {boolean} started The kernel acknowledged the start.
 * @property {boolean} reading A read loop is running.
 */

export class Uploader {
  /**
   * @param {Send} send Sends a message to the kernel.
   * @param {() => number} chunkSize Bytes per chunk (the kernel's `chunk_size`).
   */
  constructor(send, chunkSize) {
    this.send = send;
    this.chunkSize = chunkSize;
    /** @type {Map<string, UploadState>} */
    this.active = new Map();
  }

  /**
   * Start sending a file; returns its upload id.
   * @param {Blob & {name: string}} file
   */
  add(file) {
    const id = newId();
    const st = { id, file, next: 0, inflight: 0, started: false, reading: false };
    this.active.set(id, st);
    this.send({ type: "upload-start", upload_id: id, name: file.name, size: file.size });
    return id;
  }

  /** @param {UploadState} st */
  async pump(st) {
    if (st.reading) return;
    st.reading = true;
    const chunk = this.chunkSize() || 1 << 20;
    try {
      while (this.active.has(st.id) && st.inflight < UPLOAD_WINDOW && st.next < st.file.size) {
        const start = st.next;
        const end = Math.min(st.file.size, start + chunk);
        st.next = end;
        st.inflight += 1;
        const data = await st.file.slice(start, end).arrayBuffer();
        if (!this.active.has(st.id)) return;
        this.send({ type: "upload-chunk", upload_id: st.id, offset: start }, [data]);
      }
    } catch (err) {
      this.abort(st.id, `the browser could not read the file (${err})`);
    } finally {
      st.reading = false;
    }
  }

  /** @param {{upload_id: string, received: number}} msg */
  onAck(msg) {
    const st = this.active.get(msg.upload_id);
    if (!st) return;
    if (st.started) st.inflight = Math.max(0, st.inflight - 1);
    st.started = true;
    if (msg.received >= st.file.size) {
      this.active.delete(st.id);
      this.send({ type: "upload-end", upload_id: st.id });
      return;
    }
    this.pump(st);
  }

  /** @param {{upload_id: string}} msg */
  onError(msg) {
    this.active.delete(msg.upload_id);
  }

  /**
   * @param {string} id
   * @param {string} reason
   */
  abort(id, reason) {
    if (!this.active.delete(id)) return;
    this.send({ type: "upload-abort", upload_id: id, reason });
  }

  /** @param {string} reason */
  abortAll(reason) {
    for (const id of [...this.active.keys()]) this.abort(id, reason);
  }
}
