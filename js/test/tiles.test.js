import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BASE_COLUMNS, TILE_COLUMNS, TileCache, TileRequests, freqTicks, maxLevel, tileLevel, tilesFor,
  windowColumns,
} from "../src/tiles.js";

const SR = 44100;
const N = SR * 600; // ten minutes

test("the deepest level matches the kernel's (8 columns per sample)", () => {
  assert.equal(maxLevel(N), 18); // camb_notebook.widget._tiles.max_level(44100 * 600)
  assert.equal(maxLevel(0), 0);
  // at the deepest level a column is at most 1/8 of a sample... and never much less
  const perCol = N / 2 ** maxLevel(N) / TILE_COLUMNS;
  assert.ok(perCol <= 1 / 4 && perCol > 1 / 16, String(perCol));
});

test("no tiles while the first pictures show as much as the screen can", () => {
  assert.equal(tileLevel({ start: 0, end: 600 }, 1200, N, SR), null);
  assert.equal(tileLevel({ start: 0, end: 600 }, 800, N, SR), null);
  assert.equal(tileLevel({ start: 0, end: 600 }, 1000, N, SR), null); // 26 k samples/px
  assert.notEqual(tileLevel({ start: 0, end: 300 }, 1000, N, SR), null); // 13 k: finer
});

test("the level's columns are no wider than a screen pixel, and not needlessly narrow", () => {
  for (const [span, width] of [[100, 1200], [10, 1000], [1, 700], [0.05, 1920], [0.001, 800]]) {
    const level = tileLevel({ start: 5, end: 5 + span }, width, N, SR);
    assert.notEqual(level, null);
    const perCol = N / 2 ** level / TILE_COLUMNS;
    const perPx = (span * SR) / width;
    if (level < maxLevel(N)) {
      assert.ok(perCol <= perPx + 1e-9, `${span}: ${perCol} > ${perPx}`);
      assert.ok(perCol > perPx / 2, `${span}: level ${level} finer than needed`);
    }
  }
  // deeper than the pyramid goes: the deepest level
  assert.equal(tileLevel({ start: 0, end: 1e-5 }, 2000, N, SR), maxLevel(N));
});

test("the tiles of a window cover it and no more", () => {
  const level = 6; // 64 tiles of 9.375 s
  assert.deepEqual(tilesFor({ start: 0, end: 9 }, level, N, SR), [0]);
  assert.deepEqual(tilesFor({ start: 9, end: 20 }, level, N, SR), [0, 1, 2]);
  assert.deepEqual(tilesFor({ start: 590, end: 600 }, level, N, SR), [62, 63]);
  assert.deepEqual(tilesFor({ start: 18.75, end: 28.125 }, level, N, SR), [2]);
});

const tile = (lane, level, index, bytes = 100) => ({
  lane, level, index, t0: index, t1: index + 1, peaks: new Float32Array(2), image: { lane, level, index },
  bytes,
});

test("the cache keeps the recently used tiles within its budget", () => {
  const evicted = [];
  const cache = new TileCache(300, (t) => evicted.push(`${t.level}/${t.index}`));
  cache.put(tile("original", 3, 0));
  cache.put(tile("original", 3, 1));
  cache.put(tile("original", 3, 2));
  assert.equal(cache.bytes, 300);
  cache.get("original", 3, 0); // used: kept over 3/1
  cache.put(tile("original", 3, 3));
  assert.deepEqual(evicted, ["3/1"]);
  assert.ok(cache.has("original", 3, 0) && !cache.has("original", 3, 1));
  assert.equal(cache.bytes, 300);
  cache.put(tile("original", 3, 3)); // the same tile again replaces it
  assert.equal(cache.bytes, 300);
  cache.clear();
  assert.equal(cache.bytes, 0);
  assert.equal(cache.map.size, 0);
});

test("until a tile arrives its nearest coarser ancestor stands in for it", () => {
  const cache = new TileCache();
  cache.put(tile("fg", 2, 1)); // covers level-4 tiles 4..7
  cache.put(tile("fg", 4, 5));
  const got = cache.cover("fg", 4, [4, 5, 6]);
  assert.deepEqual(got.map((t) => `${t.level}/${t.index}`), ["2/1", "4/5"]); // coarse first
  assert.deepEqual(cache.cover("bg", 4, [4]), []);
});

test("a request asks only for what is missing, and a newer one supersedes it", () => {
  const cache = new TileCache();
  const req = new TileRequests();
  const lanes = ["original", "foreground"];
  cache.put(tile("original", 5, 10));
  cache.put(tile("foreground", 5, 10));
  const r1 = req.next(cache, lanes, 5, [9, 10, 11, 12]);
  assert.equal(r1.request_id, 1);
  assert.deepEqual(r1.tiles.map((t) => t[1]).sort(), [11, 12, 9].sort());
  assert.deepEqual(r1.tiles[0][0], 5);
  assert.equal(req.next(cache, lanes, 5, [9, 10, 11, 12]), null); // in flight: not again
  const r2 = req.next(cache, lanes, 6, [20, 21]); // zoomed on: a new request id
  assert.equal(r2.request_id, 2);
  cache.put(tile("original", 6, 20));
  req.arrived(cache, lanes, 6, 20);
  assert.ok(req.inFlight.has("6/20")); // foreground still to come
  cache.put(tile("foreground", 6, 20));
  req.arrived(cache, lanes, 6, 20);
  assert.ok(!req.inFlight.has("6/20"));
});

test("middle tiles are asked for first", () => {
  const r = new TileRequests().next(new TileCache(), ["original"], 8, [3, 4, 5, 6, 7]);
  assert.equal(r.tiles[0][1], 5);
});

test("waveform columns: tiles are drawn over the whole clip's peaks", () => {
  // whole clip: 10 s in 10 bins, all ±0.1; a tile over [2, 4) s with ±0.9
  const base = new Float32Array(20).fill(0.1);
  base.fill(-0.1, 0, 10);
  const fine = new Float32Array(8).fill(0.9);
  fine.fill(-0.9, 0, 4);
  const { lo, hi } = windowColumns({ start: 0, end: 10 }, 10, [
    { t0: 0, t1: 10, peaks: base }, { t0: 2, t1: 4, peaks: fine },
  ]);
  assert.deepEqual([...hi].map((x) => Math.round(x * 10) / 10), [0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
  assert.ok(Math.abs(lo[3] + 0.9) < 1e-6);
  // a zoomed window maps its own span; columns no layer covers stay empty
  const z = windowColumns({ start: 2, end: 3 }, 4, [{ t0: 2, t1: 4, peaks: fine }]);
  assert.ok([...z.hi].every((x) => Math.abs(x - 0.9) < 1e-6));
  const gap = windowColumns({ start: 0, end: 10 }, 10, [{ t0: 2, t1: 4, peaks: fine }]);
  assert.ok(Number.isNaN(gap.hi[0]) && Number.isNaN(gap.hi[9]));
});

test("frequency labels sit on a log axis and fit the lane", () => {
  const ticks = freqTicks(30, 22050, 112);
  assert.ok(ticks.length >= 3);
  const k1 = ticks.find((t) => t.hz === 1000);
  assert.equal(k1.label, "1k");
  assert.ok(Math.abs(k1.y - Math.log(1000 / 30) / Math.log(22050 / 30)) < 1e-12);
  for (const t of ticks) assert.ok(t.y > 0 && t.y < 1);
  assert.ok(freqTicks(30, 22050, 40).length <= 2);
  assert.deepEqual(freqTicks(30, 20), []);
});

test("the tile and base resolutions agree with the kernel", () => {
  assert.equal(TILE_COLUMNS, 512);
  assert.equal(BASE_COLUMNS, 1200);
});

test("the readout's frequency and level", async () => {
  const { freqAt, fmtHz, columnDb } = await import("../src/tiles.js");
  assert.equal(freqAt(0, 30, 22050), 30);
  assert.ok(Math.abs(freqAt(1, 30, 22050) - 22050) < 1e-6);
  const y = Math.log(1000 / 30) / Math.log(22050 / 30);
  assert.ok(Math.abs(freqAt(y, 30, 22050) - 1000) < 1e-6);
  assert.equal(fmtHz(440.4), "440 Hz");
  assert.equal(fmtHz(2345), "2.35 kHz");
  assert.equal(fmtHz(12345), "12.3 kHz");
  const cols = { lo: Float32Array.from([-0.5, NaN, 0]), hi: Float32Array.from([0.25, NaN, 0]) };
  assert.ok(Math.abs(columnDb(cols, 0) - 20 * Math.log10(0.5)) < 1e-6);
  assert.equal(columnDb(cols, 1), null);
  assert.equal(columnDb(cols, 2), -120);
  assert.equal(columnDb(cols, 9), null);
  assert.equal(columnDb(null, 0), null);
});
