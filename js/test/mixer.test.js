import { test } from "node:test";
import assert from "node:assert/strict";
import { Mix } from "../src/mixer.js";

const LANES = ["original", "foreground", "background", "residual"];
const SHOWN = ["original", "foreground", "background"];
const heard = (mix, shown = SHOWN) => [...mix.audible(shown)].sort();

test("by default one lane is heard: A, the original", () => {
  const mix = new Mix(LANES);
  assert.equal(mix.mode, "ab");
  assert.deepEqual(heard(mix), ["original"]);
  const g = mix.gains(SHOWN, new Array(16).fill(1));
  assert.deepEqual(g.lanes, { original: 1, foreground: 0, background: 0, residual: 0 });
});

test("the A/B switch has two states and keeps to them", () => {
  const mix = new Mix(LANES);
  mix.toggleSide();
  assert.deepEqual(heard(mix), ["foreground"]);
  mix.toggleSide();
  assert.deepEqual(heard(mix), ["original"]);
  mix.setPair("B", "background");
  mix.toggleSide();
  assert.deepEqual(heard(mix), ["background"]);
  mix.setPair("A", "drums"); // not a lane: ignored
  assert.equal(mix.pair.A, "original");
});

test("solo and mute shape the mix; A/B ignores them until Mix is on", () => {
  const mix = new Mix(LANES);
  mix.toggleSolo("background");
  assert.deepEqual(heard(mix), ["original"]); // still A/B
  mix.setMode("mix");
  assert.deepEqual(heard(mix), ["background"]);
  mix.toggleSolo("background");
  assert.deepEqual(heard(mix), ["background", "foreground"]); // the stems: the mix again
  mix.toggleMute("original"); // unmute it
  assert.deepEqual(heard(mix), ["background", "foreground", "original"]);
  mix.toggleSide(); // the switch's key leaves the mix for A/B
  assert.equal(mix.mode, "ab");
  assert.deepEqual(heard(mix), ["original"]);
});

test("a lane that is not shown is never heard", () => {
  const mix = new Mix(LANES);
  mix.soloOnly("residual");
  assert.ok(!mix.audible(SHOWN).has("residual"));
  assert.deepEqual(heard(mix, [...SHOWN, "residual"]), ["residual"]);
});

test("the master gain comes from the headroom table of the lanes heard", () => {
  const headroom = new Array(16).fill(1);
  headroom[0b0110] = 0.8; // foreground + background
  headroom[0b0111] = 0.5;
  const mix = new Mix(LANES);
  mix.setMode("mix");
  assert.equal(mix.gains(SHOWN, headroom).master, 0.8);
  mix.toggleMute("original");
  assert.equal(mix.gains(SHOWN, headroom).master, 0.5);
  // No table yet: assume every heard lane peaks together.
  assert.equal(mix.gains(SHOWN, []).master, 1 / 3);
});
