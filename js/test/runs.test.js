import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRunLane, pickRun, runLaneKey } from "../src/runs.js";

const PAIR = { A: { run: "c1", lane: "foreground" }, B: { run: "c2", lane: "foreground" } };

test("a run's lane goes through the A/B selects and back", () => {
  const rl = { run: "9f8e7d6c5b4a", lane: "background" };
  assert.deepEqual(parseRunLane(runLaneKey(rl)), rl);
  assert.equal(parseRunLane("foreground"), null); // a lane of one run: not a run's lane
  assert.equal(parseRunLane("c1|"), null);
  assert.equal(parseRunLane("|foreground"), null);
});

test("picking the run a side already sounds goes to that side", () => {
  assert.deepEqual(pickRun(PAIR, "A", "c2"), { pair: PAIR, side: "B" });
  assert.deepEqual(pickRun(PAIR, "B", "c1"), { pair: PAIR, side: "A" });
  assert.deepEqual(pickRun(PAIR, "A", "c1"), { pair: PAIR, side: "A" });
});

test("picking a third run: the current side sounds the same lane of it", () => {
  const { pair, side } = pickRun(PAIR, "B", "c3");
  assert.equal(side, "B");
  assert.deepEqual(pair.B, { run: "c3", lane: "foreground" });
  assert.deepEqual(pair.A, PAIR.A);
  assert.deepEqual(PAIR.B, { run: "c2", lane: "foreground" }); // the old pair is untouched
});
