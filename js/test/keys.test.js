import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY_HELP, keyBelongsToTarget, playerKeyAction } from "../src/keys.js";

test("arrows seek by 2 s, with Shift by 10 s", () => {
  assert.deepEqual(playerKeyAction({ key: "ArrowRight" }), { type: "seek-by", seconds: 2 });
  assert.deepEqual(playerKeyAction({ key: "ArrowLeft", shiftKey: true }),
    { type: "seek-by", seconds: -10 });
});

test("space plays or pauses; Home and End jump", () => {
  assert.deepEqual(playerKeyAction({ key: " " }), { type: "toggle-play" });
  assert.deepEqual(playerKeyAction({ key: "Home" }), { type: "seek-to", where: "start" });
  assert.deepEqual(playerKeyAction({ key: "End" }), { type: "seek-to", where: "end" });
});

test("A/B has its own key; X toggles the mix; S and M act on the focused lane", () => {
  assert.deepEqual(playerKeyAction({ key: "b" }), { type: "ab-switch" });
  assert.deepEqual(playerKeyAction({ key: "B", shiftKey: true }), { type: "ab-switch" });
  assert.deepEqual(playerKeyAction({ key: "x" }), { type: "mix-toggle" });
  assert.deepEqual(playerKeyAction({ key: "s" }), { type: "solo-focused" });
  assert.deepEqual(playerKeyAction({ key: "m" }), { type: "mute-focused" });
  assert.deepEqual(playerKeyAction({ key: "3" }), { type: "solo-lane", index: 2 });
  assert.equal(playerKeyAction({ key: "5" }), null);
});

test("shortcuts with Ctrl, Meta or Alt and other keys are left alone", () => {
  assert.equal(playerKeyAction({ key: "ArrowRight", ctrlKey: true }), null);
  assert.equal(playerKeyAction({ key: " ", metaKey: true }), null);
  assert.equal(playerKeyAction({ key: "b", altKey: true }), null);
  assert.equal(playerKeyAction({ key: "q" }), null);
});

test("keys typed into fields or pressing a button are theirs, not the player's", () => {
  assert.equal(keyBelongsToTarget({ key: "b" }, { tagName: "select" }), true);
  assert.equal(keyBelongsToTarget({ key: " " }, { tagName: "BUTTON" }), true);
  assert.equal(keyBelongsToTarget({ key: "b" }, { tagName: "BUTTON" }), false);
  assert.equal(keyBelongsToTarget({ key: " " }, { tagName: "DIV" }), false);
  assert.equal(keyBelongsToTarget({ key: " " }, null), false);
});

test("every action has a line in the help list", () => {
  const keys = KEY_HELP.map(([k]) => k).join(" ");
  for (const k of ["Space", "B", "X", "S", "M", "Home", "1–4"]) assert.ok(keys.includes(k), k);
});
