import { test } from "node:test";
import assert from "node:assert/strict";
import { peakColumns } from "../src/peaks.js";

test("columns keep the extremes of the bins they cover", () => {
  // four bins: minima then maxima
  const peaks = new Float32Array([-0.1, -0.5, -0.2, -0.9, 0.1, 0.4, 0.3, 0.8]);
  const two = peakColumns(peaks, 2);
  assert.deepEqual([...two.lo].map((x) => +x.toFixed(2)), [-0.5, -0.9]);
  assert.deepEqual([...two.hi].map((x) => +x.toFixed(2)), [0.4, 0.8]);
});

test("more columns than bins repeat bins; values stay in -1..1", () => {
  const peaks = new Float32Array([-2, 3]); // one bin out of range
  const cols = peakColumns(peaks, 3);
  assert.deepEqual([...cols.lo], [-1, -1, -1]);
  assert.deepEqual([...cols.hi], [1, 1, 1]);
  assert.equal(peakColumns(new Float32Array(0), 4).hi.length, 4);
});
