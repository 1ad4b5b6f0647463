import { test } from "node:test";
import assert from "node:assert/strict";
import { Viewport, rulerTicks, tickLabel } from "../src/timeline.js";

const measure = (s) => s.length * 6;

test("time and pixel map both ways over the whole clip", () => {
  const v = new Viewport(12);
  assert.equal(v.timeAt(0, 600), 0);
  assert.equal(v.timeAt(300, 600), 6);
  assert.equal(v.timeAt(900, 600), 12); // clamped to the window
  assert.equal(v.xAt(3, 600), 150);
  for (const t of [0, 0.5, 7.25, 12]) assert.ok(Math.abs(v.timeAt(v.xAt(t, 777), 777) - t) < 1e-9);
  assert.equal(v.fraction(6), 0.5);
  assert.equal(v.fraction(-1), 0);
});

test("a zoomed window maps its own span", () => {
  const v = new Viewport(600);
  v.start = 100;
  v.end = 110;
  assert.equal(v.timeAt(500, 1000), 105);
  assert.equal(v.xAt(101, 1000), 100);
  v.setDuration(600); // same duration keeps the zoom
  assert.equal(v.start, 100);
  v.setDuration(50); // shorter than the window: back to the whole clip
  assert.deepEqual([v.start, v.end], [0, 50]);
});

test("tick labels carry decimals only when the step needs them", () => {
  assert.equal(tickLabel(0, 1), "0:00");
  assert.equal(tickLabel(65, 5), "1:05");
  assert.equal(tickLabel(1.5, 0.5), "0:01.5");
  assert.equal(tickLabel(0.25, 0.05), "0:00.25");
});

for (const width of [300, 560, 700, 1000, 1920]) {
  for (const duration of [0.8, 12, 12.3, 61, 599.9, 3600]) {
    test(`ruler labels never overlap nor leave the ruler (${width} px, ${duration} s)`, () => {
      const ticks = rulerTicks(new Viewport(duration), width, measure);
      assert.ok(ticks.length >= 2, `only ${ticks.length} ticks`);
      for (let i = 0; i < ticks.length; i++) {
        const tk = ticks[i];
        assert.ok(tk.left >= 0 && tk.right <= width + 0.5, JSON.stringify(tk));
        if (i) assert.ok(tk.left >= ticks[i - 1].right + 10, JSON.stringify([ticks[i - 1], tk]));
      }
      assert.equal(ticks[0].t, 0);
      assert.equal(ticks[0].align, "start");
    });
  }
}

test("a narrow ruler still gets three labels (JupyterLab at 700 px, file browser open)", () => {
  // A 9 s clip on a 168 px ruler got only 0:00 and 0:05: the step was chosen for labels
  // with decimals though whole seconds have none.
  const ticks = rulerTicks(new Viewport(9), 168, (s) => s.length * 5.6);
  assert.ok(ticks.length >= 3, JSON.stringify(ticks));
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].left >= ticks[i - 1].right + 10);
});

test("a zoomed ruler starts at the first step inside the window", () => {
  const v = new Viewport(600);
  v.start = 10.3;
  v.end = 11.3;
  const ticks = rulerTicks(v, 800, measure);
  assert.ok(ticks[0].t >= 10.3 && ticks[0].t < 10.6, JSON.stringify(ticks[0]));
  assert.match(ticks[0].label, /^0:10\.\d+$/);
});

test("zoom keeps the time under the pointer in place", () => {
  const v = new Viewport(600);
  v.zoomBy(4, 150);
  assert.ok(Math.abs(v.span - 150) < 1e-9);
  assert.ok(Math.abs(v.fraction(150) - 0.25) < 1e-9); // 150 s was a quarter across, still is
  v.zoomBy(0.5, 150);
  assert.ok(Math.abs(v.span - 300) < 1e-9 && Math.abs(v.fraction(150) - 0.25) < 1e-9);
});

test("the window stays inside the clip and above the deepest zoom", () => {
  const v = new Viewport(10);
  v.setMinSpan(44100, 1000); // 8 px per sample: 1000 / (8 * 44100) s
  assert.ok(!v.zoomBy(1e9, 5) || v.span >= v.minSpan - 1e-12);
  assert.ok(Math.abs(v.span - 1000 / (8 * 44100)) < 1e-12);
  v.fit();
  assert.ok(v.full);
  v.setWindow(8, 14); // past the end: moved in, span kept
  assert.deepEqual([v.start, v.end], [4, 10]);
  v.setWindow(-3, 1);
  assert.deepEqual([v.start, v.end], [0, 4]);
  assert.equal(v.setWindow(0, 4), false); // no change
  v.setWindow(0, 100);
  assert.ok(v.full);
});

test("pan moves by seconds and stops at the ends", () => {
  const v = new Viewport(60);
  v.setWindow(10, 20);
  v.panBy(5);
  assert.deepEqual([v.start, v.end], [15, 25]);
  v.panBy(-100);
  assert.deepEqual([v.start, v.end], [0, 10]);
  v.panBy(1000);
  assert.deepEqual([v.start, v.end], [50, 60]);
  assert.equal(v.panBy(1), false);
});
