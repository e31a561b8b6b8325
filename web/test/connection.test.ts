import { test } from "node:test";
import assert from "node:assert/strict";
import { Connection, backoffDelay, type ConnectionState } from "../src/lib/connection";
import { FakeClock, SocketPool } from "./helpers";

type Msg = { type: string; [k: string]: unknown };

function setup(extra: Partial<ConstructorParameters<typeof Connection<Msg, Msg>>[0]> = {}) {
  const clock = new FakeClock();
  const pool = new SocketPool();
  const received: Msg[] = [];
  const states: { state: ConnectionState; retryInMs?: number }[] = [];
  let hellos = 0;
  const conn = new Connection<Msg, Msg>({
    url: "ws://server/ws",
    hello: () => ({ type: "hello", n: ++hellos }),
    onMessage: (m) => received.push(m),
    onState: (state, info) => states.push({ state, retryInMs: info.retryInMs }),
    createSocket: pool.factory,
    timers: clock,
    ...extra,
  });
  return { clock, pool, received, states, conn, hellos: () => hellos };
}

test("backoff doubles from 0.5 s to 15 s with jitter between 50 and 100 %", () => {
  assert.equal(backoffDelay(0, 500, 15000, 1), 500);
  assert.equal(backoffDelay(0, 500, 15000, 0), 250);
  assert.equal(backoffDelay(1, 500, 15000, 1), 1000);
  assert.equal(backoffDelay(4, 500, 15000, 1), 8000);
  assert.equal(backoffDelay(5, 500, 15000, 1), 15000);
  assert.equal(backoffDelay(50, 500, 15000, 1), 15000);
  assert.equal(backoffDelay(50, 500, 15000, 0), 7500);
});

test("sends the hello on open and passes messages on, but not pongs", () => {
  const { pool, received, conn } = setup();
  conn.start();
  assert.equal(pool.sockets.length, 1);
  assert.equal(pool.current.url, "ws://server/ws");
  assert.equal(conn.send({ type: "x" }), false, "nothing is sent before open");
  pool.current.open();
  assert.deepEqual(pool.current.messages(), [{ type: "hello", n: 1 }]);
  pool.current.receive({ type: "welcome" });
  pool.current.receive({ type: "pong", nonce: 1 });
  pool.current.onmessage?.({ data: "not json" });
  pool.current.onmessage?.({ data: JSON.stringify({ no: "type" }) });
  assert.deepEqual(received, [{ type: "welcome" }]);
  assert.equal(conn.send({ type: "x" }), true);
});

test("reconnects with growing delays and says hello again each time", () => {
  const { clock, pool, states, conn } = setup();
  clock.randomValue = 1;
  conn.start();
  pool.current.serverClose(1006);
  assert.equal(states[states.length - 1].state, "waiting");
  assert.equal(states[states.length - 1].retryInMs, 1000);
  clock.advance(999);
  assert.equal(pool.sockets.length, 1);
  clock.advance(1);
  assert.equal(pool.sockets.length, 2);
  pool.current.serverClose(1006);
  assert.equal(states[states.length - 1].retryInMs, 2000);
  clock.advance(2000);
  pool.current.serverClose(1006);
  assert.equal(states[states.length - 1].retryInMs, 4000);
  clock.advance(4000);
  pool.current.open();
  assert.deepEqual(pool.current.messages(), [{ type: "hello", n: 1 }]);
  // Healthy again: the next loss starts from the initial delay.
  conn.markHealthy();
  pool.current.serverClose(1006);
  assert.equal(states[states.length - 1].retryInMs, 500);
  for (let i = 0; i < 10; i++) {
    clock.advance(20000);
    pool.current.serverClose(1006);
  }
  assert.equal(states[states.length - 1].retryInMs, 15000, "capped at 15 s");
});

test("a server restart (1012) reconnects promptly", () => {
  const { clock, pool, states, conn } = setup();
  conn.start();
  pool.current.open();
  conn.markHealthy();
  pool.current.serverClose(1012, "restart");
  const delay = states[states.length - 1].retryInMs as number;
  assert.ok(delay <= 400, `delay ${delay}`);
  clock.advance(delay);
  assert.equal(pool.sockets.length, 2);
});

test("pings every 20 s and drops the socket after two missed pongs", () => {
  const { clock, pool, conn } = setup();
  conn.start();
  const first = pool.current;
  first.open();
  conn.markHealthy();
  clock.advance(20000);
  assert.deepEqual(first.last(), { type: "ping", nonce: 1 });
  first.receive({ type: "pong", nonce: 1 });
  clock.advance(20000);
  assert.deepEqual(first.last(), { type: "ping", nonce: 2 });
  // No more pongs.
  clock.advance(20000);
  assert.deepEqual(first.last(), { type: "ping", nonce: 3 });
  assert.equal(first.closedWith, null);
  clock.advance(20000);
  assert.notEqual(first.closedWith, null, "dead socket closed");
  assert.equal(conn.state, "waiting");
  clock.advance(1000);
  assert.equal(pool.sockets.length, 2);
  // Late events from the dead socket are ignored.
  first.receive({ type: "late" });
  first.serverClose(1006);
  assert.equal(pool.sockets.length, 2);
});

test("a socket that never opens is abandoned after the connect timeout", () => {
  const { clock, pool, conn } = setup({ connectTimeoutMs: 5000 });
  conn.start();
  clock.advance(5000);
  assert.notEqual(pool.sockets[0].closedWith, null);
  assert.equal(conn.state, "waiting");
  clock.advance(1000);
  assert.equal(pool.sockets.length, 2);
});

test("onClose returning false stops reconnecting; stop() closes", () => {
  const a = setup({ onClose: (code) => code !== 4401 });
  a.conn.start();
  a.pool.current.open();
  a.pool.current.serverClose(4401);
  assert.equal(a.conn.state, "stopped");
  a.clock.advance(60000);
  assert.equal(a.pool.sockets.length, 1);

  const b = setup();
  b.conn.start();
  b.pool.current.open();
  b.conn.stop();
  assert.equal(b.pool.current.closedWith?.code, 1000);
  assert.equal(b.conn.state, "stopped");
  b.clock.advance(60000);
  assert.equal(b.pool.sockets.length, 1);
  assert.equal(b.clock.pending, 0, "no timers left behind");
});

test("reconnectNow skips the backoff", () => {
  const { pool, conn } = setup();
  conn.start();
  pool.current.serverClose(1006);
  assert.equal(pool.sockets.length, 1);
  conn.reconnectNow();
  assert.equal(pool.sockets.length, 2);
});
