import { test } from "node:test";
import assert from "node:assert/strict";
import { makeVocab } from "../src/vocab.js";

const trait = {
  states: {
    queued: { label: "queued", active: true, timed: true },
    done: { label: "done", active: false, timed: false },
  },
  lanes: ["original", "foreground"],
  lane_labels: { original: "Original" },
  formats: "FLAC, MP3",
};

test("words come from the trait", () => {
  const v = makeVocab(trait);
  assert.deepEqual(v.lanes, ["original", "foreground"]);
  assert.equal(v.laneLabel("original"), "Original");
  assert.equal(v.stateLabel("queued"), "queued");
  assert.equal(v.active("queued"), true);
  assert.equal(v.active("done"), false);
  assert.equal(v.timed("queued"), true);
  assert.equal(v.formats, "FLAC, MP3");
});

test("unknown words fall back to their keys, an empty trait to nothing", () => {
  const v = makeVocab(trait);
  assert.equal(v.laneLabel("foreground"), "foreground");
  assert.equal(v.stateLabel("mystery"), "mystery");
  assert.equal(v.active("mystery"), false);
  const none = makeVocab(undefined);
  assert.deepEqual(none.lanes, []);
  assert.equal(none.formats, "");
});
