import { test } from "node:test";
import assert from "node:assert/strict";
import { fmtBytes, fmtDb, fmtElapsed, fmtTime } from "../src/format.js";

test("fmtTime reads m:ss.s and treats bad input as zero", () => {
  assert.equal(fmtTime(0), "0:00.0");
  assert.equal(fmtTime(61.25), "1:01.3");
  assert.equal(fmtTime(-3), "0:00.0");
  assert.equal(fmtTime(Number.NaN), "0:00.0");
});

test("fmtBytes picks the unit", () => {
  assert.equal(fmtBytes(999), "999 B");
  assert.equal(fmtBytes(1500), "1.5 KB");
  assert.equal(fmtBytes(2_100_000), "2.1 MB");
  assert.equal(fmtBytes(3_250_000_000), "3.25 GB");
});

test("fmtElapsed switches to minutes", () => {
  assert.equal(fmtElapsed(9.9), "9 s");
  assert.equal(fmtElapsed(125), "2 min 05 s");
});

test("fmtDb uses a real minus and a dash for unknown", () => {
  assert.equal(fmtDb(-12.34), "−12.3 dBFS");
  assert.equal(fmtDb(undefined), "—");
  assert.equal(fmtDb(Number.NEGATIVE_INFINITY), "—");
});
