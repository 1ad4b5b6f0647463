import { test } from "node:test";
import assert from "node:assert/strict";
import { Connection } from "../src/connection.js";

function fakeModel({ throws = false, real = null } = {}) {
  const sent = [];
  return {
    sent,
    get: (name) => (name === "model_ref" ? "m-1" : undefined),
    send(content) {
      if (throws) throw new Error("Cannot send");
      sent.push(content);
    },
    widget_manager: real ? { get_model: async (id) => (id === "m-1" ? real : null) } : undefined,
  };
}

function fakeReal(live) {
  const handlers = {};
  return {
    comm_live: live,
    on: (name, cb) => (handlers[name] = cb),
    off: (name) => delete handlers[name],
    fire: (name) => handlers[name]?.(),
  };
}

test("a send that throws marks the link lost instead of throwing into the page", () => {
  const seen = [];
  const conn = new Connection(fakeModel({ throws: true }), (l) => seen.push(l));
  assert.equal(conn.send({ type: "media" }), false);
  assert.deepEqual(seen, ["lost"]);
  assert.equal(conn.send({ type: "media" }), false); // and never tries again
  conn.set("live"); // a lost kernel does not come back to this view
  assert.equal(conn.link, "lost");
});

test("a restart clears comm_live: the view learns it is lost", async () => {
  const real = fakeReal(true);
  const model = fakeModel({ real });
  const seen = [];
  const conn = new Connection(model, (l) => seen.push(l));
  assert.equal(await conn.watch(), real);
  assert.equal(conn.send({ type: "hello" }), true);
  real.comm_live = false;
  real.fire("comm_live_update");
  assert.deepEqual(seen, ["lost"]);
  assert.equal(conn.send({ type: "hello" }), false);
  assert.equal(model.sent.length, 1);
});

test("a model restored from a saved notebook has no comm: static from the start", async () => {
  const seen = [];
  const conn = new Connection(fakeModel({ real: fakeReal(false) }), (l) => seen.push(l));
  await conn.watch();
  assert.deepEqual(seen, ["static"]);
  conn.set("live"); // a message from a kernel would prove otherwise
  assert.equal(conn.live, true);
});

test("without a widget manager (other hosts) the link stays live", async () => {
  const conn = new Connection(fakeModel(), () => {});
  assert.equal(await conn.watch(), null);
  assert.equal(conn.live, true);
});
