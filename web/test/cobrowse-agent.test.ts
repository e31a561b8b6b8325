import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationSummary, GrantSummary } from "../src/protocol.gen";
import { AgentCobrowse, type MirrorSink } from "../src/lib/cobrowse-agent";
import { AgentSession } from "../src/lib/agent-session";
import { encodeItems } from "../src/lib/stream-frames";
import type { StreamLink } from "../src/lib/stream-socket";
import { FakeClock, FakeRelaySocket, SocketPool } from "./helpers";

const ME = { id: 1, display_name: "Anna" };

class Relay extends FakeRelaySocket {
  async items(id: number, items: unknown[]): Promise<void> {
    for (const f of await encodeItems(id, items)) this.frame(f);
  }
}

function summary(grants: GrantSummary[]): ConversationSummary {
  return { id: "c1", status: "active", agent: ME, created_at: 1, last_seq: 1, last_activity_at: 1, preview: "hi", page: null, visitor_online: true, share: null, grants };
}

function setup(grants: GrantSummary[] = []) {
  const clock = new FakeClock();
  const pool = new SocketPool();
  const session = new AgentSession({ wsUrl: "ws://x/ws/agent", createSocket: pool.factory, timers: clock, now: clock.nowFn });
  const relays: Relay[] = [];
  const co = new AgentCobrowse(session, {
    relayUrl: (t) => `ws://x/ws/stream?token=${t}`,
    createSocket: (url) => {
      const r = new Relay(url);
      relays.push(r);
      return r;
    },
    timers: clock,
  });
  const got: unknown[] = [];
  const resyncs: string[] = [];
  const links: StreamLink[] = [];
  const sink: MirrorSink = {
    items: (_c, items) => got.push(...items),
    resync: (c) => resyncs.push(c),
    link: (_c, l) => links.push(l),
  };
  co.addSink(sink);
  session.start();
  pool.current.open();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary(grants)] });
  const granted = (token: string, stream = "s1") =>
    pool.current.receive({ type: "stream_granted", conversation: "c1", grant: "g1", stream, capability: "cobrowse", role: "subscriber", token, expires_at: 0 });
  /** Until the mirror has `n` items (decoding is asynchronous), at most 5 s. */
  const until = async (n: number) => {
    for (let i = 0; i < 500 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  return { clock, pool, session, co, relays, got, resyncs, links, granted, until };
}

test("asking sends a grant for co-browsing; ending withdraws it", () => {
  const t = setup();
  assert.equal(t.co.ask("c1", "  May I see your page?  "), true);
  assert.deepEqual(t.pool.current.last(), { type: "grant_ask", conversation: "c1", capability: "cobrowse", message: "May I see your page?" });
  t.pool.current.receive({ type: "conversation_updated", conversation: summary([{ id: "g1", capability: "cobrowse", state: "asked", stream: null }]) });
  assert.equal(t.co.end("c1"), true);
  assert.deepEqual(t.pool.current.last(), { type: "grant_end", grant: "g1" });
});

test("the visitor's page arrives in order, across chunks and compression", async () => {
  const t = setup([{ id: "g1", capability: "cobrowse", state: "allowed", stream: "s1" }]);
  t.granted("tok1");
  assert.equal(t.relays.length, 1);
  assert.match(t.relays[0].url, /token=tok1$/);
  t.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "subscriber" });
  const big = Array.from({ length: 3000 }, (_, i) => ({ type: 3, data: { text: `row ${i} `.repeat(20) } }));
  await t.relays[0].items(1, [{ type: 4 }, { type: 2, big: true }]);
  await t.relays[0].items(2, big);
  await t.relays[0].items(3, [{ type: 3, last: true }]);
  await t.until(2 + big.length + 1);
  assert.equal(t.got.length, 2 + big.length + 1);
  assert.deepEqual(t.got[0], { type: 4 });
  assert.deepEqual(t.got[t.got.length - 1], { type: 3, last: true });
  assert.ok((t.co.stats("c1")?.bytes ?? 0) > 0);
});

test("resync from the relay reaches the mirror", () => {
  const t = setup([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  t.granted("tok1");
  t.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "subscriber" });
  t.relays[0].control({ type: "resync", missed: 5 });
  assert.deepEqual(t.resyncs, ["c1"]);
});

test("a console opened while co-browsing is on joins the stream once", () => {
  const t = setup([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  const joins = t.pool.current.messages().filter((m) => m.type === "stream_join");
  assert.deepEqual(joins, [{ type: "stream_join", stream: "s1" }]);
  t.pool.current.receive({ type: "conversation_updated", conversation: summary([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]) });
  assert.equal(t.pool.current.messages().filter((m) => m.type === "stream_join").length, 1);
});

test("the stream closes when the grant ends, and a revocation is not retried", () => {
  const t = setup([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  t.granted("tok1");
  t.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "subscriber" });
  t.pool.current.receive({ type: "conversation_updated", conversation: summary([{ id: "g1", capability: "cobrowse", state: "ended", stream: "s1" }]) });
  assert.equal(t.relays[0].closed, true);
  assert.equal(t.co.live.size, 0);
  assert.equal(t.links[t.links.length - 1], "ended");

  const u = setup([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  u.granted("tok1");
  u.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "subscriber" });
  const joins = () => u.pool.current.messages().filter((m) => m.type === "stream_join").length;
  const before = joins();
  u.relays[0].serverClose(4403);
  u.clock.advance(60_000);
  assert.equal(joins(), before, "no stream_join after a revocation");
  assert.equal(u.relays.length, 1);
});
