import { test } from "node:test";
import assert from "node:assert/strict";
import { laneKeyAction } from "../src/keys.js";

test("arrows seek by 2 s, with Shift by 10 s", () => {
  assert.deepEqual(laneKeyAction({ key: "ArrowRight" }), { type: "seek-by", seconds: 2 });
  assert.deepEqual(laneKeyAction({ key: "ArrowLeft", shiftKey: true }),
    { type: "seek-by", seconds: -10 });
});

test("space plays or pauses; Home and End jump", () => {
  assert.deepEqual(laneKeyAction({ key: " " }), { type: "toggle-play" });
  assert.deepEqual(laneKeyAction({ key: "Home" }), { type: "seek-to", where: "start" });
  assert.deepEqual(laneKeyAction({ key: "End" }), { type: "seek-to", where: "end" });
});

test("shortcuts with Ctrl, Meta or Alt and other keys are left alone", () => {
  assert.equal(laneKeyAction({ key: "ArrowRight", ctrlKey: true }), null);
  assert.equal(laneKeyAction({ key: " ", metaKey: true }), null);
  assert.equal(laneKeyAction({ key: "q" }), null);
});
