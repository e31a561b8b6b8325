import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationSummary, Event, GrantState } from "../src/protocol.gen";
import { type VisitorCobrowseDeps, COBROWSE_TAB_KEY, VisitorCobrowse, type Recorder } from "../src/lib/cobrowse-visitor";
import { Reassembler, decodeItems } from "../src/lib/stream-frames";
import { VisitorSession } from "../src/lib/visitor-session";
import { FakeClock, FakeRelaySocket, MemoryStore, SocketPool } from "./helpers";

class Relay extends FakeRelaySocket {
  async items(): Promise<unknown[]> {
    const r = new Reassembler();
    const out: unknown[] = [];
    for (const f of this.sent) {
      if (typeof f === "string") throw new Error("a publisher sends binary frames only");
      const m = r.push(f);
      if (m) out.push(...(await decodeItems(m)));
    }
    return out;
  }
}

class FakeRecorder implements Recorder {
  emit: ((item: unknown) => void) | null = null;
  snapshots = 0;
  stopped = false;
  start(emit: (item: unknown) => void): void {
    this.emit = emit;
    this.snapshot();
  }
  snapshot(): void {
    this.snapshots++;
    this.emit?.({ type: 2, n: this.snapshots });
  }
  stop(): void {
    this.stopped = true;
    this.emit = null;
  }
}

function summary(grants: ConversationSummary["grants"] = []): ConversationSummary {
  return { id: "c1", status: "active", agent: { id: 7, display_name: "Anna" }, created_at: 1, last_seq: 3, last_activity_at: 1, preview: null, page: null, visitor_online: true, share: null, grants };
}

function grantEvent(seq: number, state: GrantState, by: "agent" | "visitor" = "visitor"): Event {
  return { seq, at: seq, kind: "grant", grant: "g1", capability: "cobrowse", state, by, agent: by === "agent" ? { id: 7, display_name: "Anna" } : null, message: state === "asked" ? "May I see this page?" : null, detail: null };
}

function setup(tab = new MemoryStore(), extra: { channel?: VisitorCobrowseDeps["tabChannel"]; random?: number } = {}) {
  const clock = new FakeClock();
  if (extra.random !== undefined) clock.randomValue = extra.random;
  const pool = new SocketPool();
  const session = new VisitorSession({
    wsUrl: "wss://support.example/ws/visitor",
    storage: new MemoryStore(),
    page: () => null,
    createSocket: pool.factory,
    timers: clock,
    now: clock.nowFn,
  });
  const relays: Relay[] = [];
  const recorders: FakeRecorder[] = [];
  const co = new VisitorCobrowse(session, {
    relayUrl: (t) => `wss://support.example/ws/stream?token=${t}`,
    tabStorage: tab,
    recorder: () => {
      const r = new FakeRecorder();
      recorders.push(r);
      return r;
    },
    createSocket: (url) => {
      const r = new Relay(url);
      relays.push(r);
      return r;
    },
    timers: clock,
    tabChannel: extra.channel,
  });
  const welcome = (grants: ConversationSummary["grants"] = []) => {
    session.start();
    pool.current.open();
    pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary(grants) });
  };
  const event = (e: Event) => pool.current.receive({ type: "event", conversation: "c1", event: e });
  const granted = (token: string) =>
    pool.current.receive({ type: "stream_granted", conversation: "c1", grant: "g1", stream: "s1", capability: "cobrowse", role: "publisher", token, expires_at: 0 });
  const tick = async () => {
    clock.advance(100);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { clock, pool, session, co, relays, recorders, tab, welcome, event, granted, tick };
}

test("nothing is captured before Allow; after it the page goes to the relay and the grant starts", async () => {
  const t = setup();
  t.welcome();
  t.event(grantEvent(4, "asked", "agent"));
  assert.equal(t.co.asking, true);
  assert.equal(t.co.grant?.message, "May I see this page?");
  assert.equal(t.recorders.length, 0);
  assert.equal(t.co.allow(), true);
  assert.deepEqual(t.pool.current.last(), { type: "grant_step", grant: "g1", step: "allow", detail: null });
  assert.equal(t.tab.get(COBROWSE_TAB_KEY), "g1");
  t.event(grantEvent(5, "allowed"));
  assert.equal(t.recorders.length, 0, "still nothing before the relay asks for a snapshot");
  t.granted("tok1");
  assert.equal(t.relays.length, 1);
  assert.match(t.relays[0].url, /token=tok1$/);
  t.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "publisher" });
  assert.deepEqual(t.pool.current.last(), { type: "grant_step", grant: "g1", step: "start", detail: null });
  t.relays[0].control({ type: "snapshot_needed" });
  assert.equal(t.recorders.length, 1);
  t.recorders[0].emit?.({ type: 3, change: 1 });
  await t.tick();
  assert.deepEqual(await t.relays[0].items(), [{ type: 2, n: 1 }, { type: 3, change: 1 }]);
  // A subscriber that joins later gets a fresh snapshot.
  t.relays[0].control({ type: "snapshot_needed" });
  await t.tick();
  assert.equal(t.recorders[0].snapshots, 2);
  assert.deepEqual((await t.relays[0].items()).slice(-1), [{ type: 2, n: 2 }]);
});

test("No thanks sends the decline and captures nothing", () => {
  const t = setup();
  t.welcome();
  t.event(grantEvent(4, "asked", "agent"));
  assert.equal(t.co.decline(), true);
  assert.equal(t.pool.current.last().step, "decline");
  t.event(grantEvent(5, "declined"));
  assert.equal(t.co.asking, false);
  assert.equal(t.recorders.length, 0);
  assert.equal(t.tab.get(COBROWSE_TAB_KEY), null);
});

test("another tab of the same visitor captures nothing", () => {
  const t = setup();
  t.welcome([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  t.granted("tok1");
  assert.equal(t.relays.length, 0);
  assert.equal(t.co.capturing, false);
});

test("after a navigation the allowing tab asks for a fresh token and captures the new page", async () => {
  const tab = new MemoryStore();
  tab.set(COBROWSE_TAB_KEY, "g1");
  const t = setup(tab);
  t.welcome([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(t.pool.current.last(), { type: "stream_join", stream: "s1" });
  t.granted("tok2");
  t.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "publisher" });
  assert.notEqual(t.pool.current.last().type, "grant_step", "an active grant is not started again");
  t.relays[0].control({ type: "snapshot_needed" });
  await t.tick();
  assert.deepEqual(await t.relays[0].items(), [{ type: 2, n: 1 }]);
});

test("Stop ends capture at once and revokes; a revocation by the relay stops it too", async () => {
  const t = capturing();
  assert.equal(t.co.stop(), true);
  assert.deepEqual(t.pool.current.last(), { type: "grant_end", grant: "g1" });
  assert.equal(t.recorders[0].stopped, true);
  assert.equal(t.relays[0].closed, true);

  const u = capturing();
  u.relays[0].serverClose(4403);
  assert.equal(u.recorders[0].stopped, true);
  u.clock.advance(60_000);
  assert.equal(u.relays.length, 1, "a revoked stream does not reconnect");
});

test("frames the relay would not take are replaced by a fresh snapshot", async () => {
  const t = setup();
  t.welcome();
  t.event(grantEvent(4, "asked", "agent"));
  t.co.allow();
  t.granted("tok1");
  const relay = t.relays[0];
  relay.control({ type: "joined", stream: "s1", capability: "cobrowse", role: "publisher" });
  relay.control({ type: "snapshot_needed" });
  await t.tick();
  relay.bufferedAmount = 64 * 1024 * 1024;
  t.recorders[0].emit?.({ type: 3, lost: true });
  await t.tick();
  relay.bufferedAmount = 0;
  t.recorders[0].emit?.({ type: 3, after: true });
  await t.tick();
  await t.tick();
  const items = await relay.items();
  assert.deepEqual(items.filter((i) => (i as { lost?: boolean }).lost), []);
  assert.deepEqual(items[items.length - 1], { type: 2, n: 2 }, "a snapshot after the loss");
});

/** BroadcastChannel between tabs: a message reaches every other tab. */
class TabBus {
  private tabs: ((m: unknown) => void)[][] = [];
  channel(): NonNullable<VisitorCobrowseDeps["tabChannel"]> {
    const mine: ((m: unknown) => void)[] = [];
    this.tabs.push(mine);
    return {
      post: (m) => {
        for (const tab of this.tabs) if (tab !== mine) for (const fn of tab) fn(structuredClone(m));
      },
      listen: (fn) => mine.push(fn),
    };
  }
}

test("a duplicated tab (its storage copied, grant included) takes over: the first tab stops and forgets the grant", async () => {
  const bus = new TabBus();
  const first = setup(new MemoryStore(), { channel: bus.channel(), random: 0.1 });
  first.tab.set(COBROWSE_TAB_KEY, "g1");
  first.welcome([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  await new Promise((r) => setTimeout(r, 0));
  first.granted("tok1");
  first.relays[0].control({ type: "snapshot_needed" });
  assert.equal(first.co.capturing, true);
  assert.equal(first.recorders.length, 1);

  // The copy: same grant in its storage, a page of its own.
  const copy = setup(new MemoryStore(), { channel: bus.channel(), random: 0.2 });
  copy.tab.set(COBROWSE_TAB_KEY, "g1");
  copy.welcome([{ id: "g1", capability: "cobrowse", state: "active", stream: "s1" }]);
  await new Promise((r) => setTimeout(r, 0));
  copy.granted("tok2");
  copy.relays[0].control({ type: "snapshot_needed" });
  assert.equal(copy.co.capturing, true, "the newest page is mirrored");
  assert.equal(first.co.capturing, false, "the first tab stopped");
  assert.equal(first.recorders[0].stopped, true);
  assert.equal(first.tab.get(COBROWSE_TAB_KEY), null, "and will not resume after a reload");
  assert.equal(first.relays[0].closed, true);
  assert.notEqual(first.pool.current.last()?.type, "grant_end", "co-browsing goes on (in the copy)");
});

function capturing() {
  const t = setup();
  t.welcome();
  t.event(grantEvent(4, "asked", "agent"));
  t.co.allow();
  t.granted("tok1");
  t.relays[0].control({ type: "joined", stream: "s1", capability: "cobrowse", role: "publisher" });
  t.relays[0].control({ type: "snapshot_needed" });
  return t;
}

test("a session that has sent all it may (4413) ends as failed, with the reason, and forgets the grant", () => {
  const t = capturing();
  t.relays[0].serverClose(4413);
  assert.deepEqual(t.pool.current.last(), { type: "grant_step", grant: "g1", step: "fail", detail: "the co-browsing session reached its size limit" });
  assert.equal(t.recorders[0].stopped, true);
  assert.equal(t.tab.get(COBROWSE_TAB_KEY), null);
  t.clock.advance(60_000);
  assert.equal(t.relays.length, 1, "no reconnect");
});

test("a refresh (a new route, a changed policy) takes a fresh snapshot while capturing; before Allow it does nothing", () => {
  const idle = setup();
  idle.welcome();
  const before = idle.pool.current.sent.length;
  idle.co.refresh();
  assert.equal(idle.recorders.length, 0, "nothing captured without Allow");
  assert.equal(idle.pool.current.sent.length, before, "nothing sent");

  const t = capturing();
  const snapshots = t.recorders[0].snapshots;
  const sent = t.pool.current.sent.length;
  t.co.refresh();
  assert.equal(t.recorders[0].snapshots, snapshots + 1);
  // The page itself is the widget's to tell (VisitorSession.pageChanged), once.
  assert.equal(t.pool.current.sent.length, sent, "nothing on the chat socket");
});

test("the agent's guidance reaches the page while capturing; stopping takes the pointer and highlight away", async () => {
  const { frameMessage } = await import("../src/lib/stream-frames");
  const t = capturing();
  const got: unknown[][] = [];
  t.co.onGuidance((items) => got.push(items));
  const items = [{ kind: "pointer", at: { node: 12, fx: 0.25, fy: 0.5, x: 300, y: 90 } }, { kind: "nonsense" }, { kind: "highlight", node: 7 }];
  t.relays[0].frame(frameMessage(1, new TextEncoder().encode(JSON.stringify(items)), false)[0]);
  t.relays[0].frame(new Uint8Array([1, 2, 3]));
  assert.deepEqual(got, [[items[0], items[2]]], "known kinds only; a broken frame is dropped");
  t.co.stop();
  assert.deepEqual(got[got.length - 1], [{ kind: "pointer", at: null }, { kind: "highlight", node: null }, { kind: "clear" }]);
});
