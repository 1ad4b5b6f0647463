import { test } from "node:test";
import assert from "node:assert/strict";
import { UPLOAD_WINDOW, Uploader } from "../src/uploader.js";

function file(bytes, name = "a.wav") {
  const blob = new Blob([new Uint8Array(bytes).map((_, i) => i % 251)]);
  return Object.assign(blob, { name });
}

const settle = () => new Promise((r) => setTimeout(r, 5));

test("chunks flow in a window and the kernel's acks drive the rest", async () => {
  const sent = [];
  const up = new Uploader((m, b) => sent.push([m, b]), () => 10);
  const id = up.add(file(95));
  assert.equal(sent[0][0].type, "upload-start");
  up.onAck({ upload_id: id, received: 0 });
  await settle();
  const chunks = () => sent.filter(([m]) => m.type === "upload-chunk");
  assert.equal(chunks().length, UPLOAD_WINDOW);
  let received = 0;
  while (received < 95) {
    received = Math.min(95, received + 10);
    up.onAck({ upload_id: id, received });
    await settle();
  }
  assert.deepEqual(chunks().map(([m]) => m.offset), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  const bytes = chunks().reduce((n, [, b]) => n + b[0].byteLength, 0);
  assert.equal(bytes, 95);
  assert.equal(sent.at(-1)[0].type, "upload-end");
  assert.equal(up.active.size, 0);
});

test("abortAll tells the kernel why, once per upload", () => {
  const sent = [];
  const up = new Uploader((m) => sent.push(m), () => 10);
  up.add(file(20, "a.wav"));
  up.add(file(20, "b.wav"));
  up.abortAll("the view was closed");
  up.abortAll("again");
  const aborts = sent.filter((m) => m.type === "upload-abort");
  assert.equal(aborts.length, 2);
  assert.ok(aborts.every((m) => m.reason === "the view was closed"));
});
