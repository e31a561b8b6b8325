import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationSummary, Event } from "../src/protocol.gen";
import { IDENTITY_KEY, TOKEN_KEY, VisitorSession } from "../src/lib/visitor-session";
import { FakeClock, MemoryStore, SocketPool } from "./helpers";

function summary(id: string, status: ConversationSummary["status"] = "waiting"): ConversationSummary {
  return {
    id,
    status,
    agent: null,
    created_at: 1,
    last_seq: 0,
    last_activity_at: 1,
    preview: null,
    page: null,
    visitor_online: true, share: null,
  grants: [],
  };
}

function message(seq: number, clientId: string, text: string, from: "visitor" | "agent" = "visitor"): Event {
  return {
    seq,
    at: seq,
    kind: "message",
    from,
    agent: from === "agent" ? { id: 7, display_name: "Anna" } : null,
    client_id: clientId,
    body: { kind: "text", text },
  };
}

function setup() {
  const clock = new FakeClock();
  const pool = new SocketPool();
  const storage = new MemoryStore();
  const session = new VisitorSession({
    wsUrl: "wss://support.example/ws/visitor",
    storage,
    page: () => ({ url: "https://shop.example/", title: "Shop" }),
    createSocket: pool.factory,
    timers: clock,
    now: clock.nowFn,
  });
  return { clock, pool, storage, session };
}

test("hello carries the stored token; the welcome's token is stored", () => {
  const { pool, storage, session } = setup();
  storage.set(TOKEN_KEY, "old-token");
  session.start();
  pool.current.open();
  assert.deepEqual(pool.current.messages()[0], {
    type: "visitor_hello",
    protocol: 1,
    token: "old-token",
    after_seq: 0,
    page: { url: "https://shop.example/", title: "Shop" },
  });
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "new-token", conversation: null });
  assert.equal(storage.get(TOKEN_KEY), "new-token");
  assert.equal(session.link, "online");
  assert.equal(session.state, "none");
});

test("first message: queued while connecting, sent after welcome, confirmed by ack and event", () => {
  const { pool, session } = setup();
  const r = session.sendText("Hello, I need help");
  assert.equal(r.ok, true);
  assert.equal(session.link, "connecting", "sending starts the connection");
  pool.current.open();
  assert.equal(pool.current.messages().length, 1, "only the hello before the welcome");
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: null });
  const sent = pool.current.last();
  assert.equal(sent.type, "send");
  assert.equal(sent.conversation, null);
  assert.deepEqual(sent.body, { kind: "text", text: "Hello, I need help" });
  const clientId = sent.client_id as string;
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "ack", conversation: "c1", client_id: clientId, seq: 2 });
  assert.equal(session.conversationId, "c1");
  assert.equal(session.state, "waiting");
  assert.equal(session.transcript.find(clientId)?.state, "acked");
  pool.current.receive({ type: "event", conversation: "c1", event: message(2, clientId, "Hello, I need help") });
  assert.equal(session.transcript.outboxItems().length, 0);
  assert.equal(session.transcript.getEvents().length, 2);
});

test("refuses blank and over-long messages", () => {
  const { session } = setup();
  assert.deepEqual(session.sendText("   "), { ok: false, reason: "empty" });
  assert.deepEqual(session.sendText("x".repeat(4001)), { ok: false, reason: "too_long" });
  assert.equal(session.link, "idle");
});

test("after a lost connection: hello with after_seq, unacked messages re-sent with the same client id", () => {
  const { clock, pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1", "active") });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: message(2, "x", "hi") });
  pool.current.receive({ type: "synced", conversation: "c1", last_seq: 2 });
  session.sendText("are you there?");
  const clientId = pool.current.last().client_id as string;
  pool.current.serverClose(1006);
  assert.equal(session.link, "reconnecting");
  session.sendText("hello?");
  clock.advance(1000);
  const s2 = pool.current;
  s2.open();
  assert.equal(s2.messages()[0].after_seq, 2);
  assert.equal(s2.messages()[0].token, "t");
  s2.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1", "active") });
  const resent = s2.messages().filter((m) => m.type === "send");
  assert.equal(resent.length, 2);
  assert.equal(resent[0].client_id, clientId, "same client id as before");
  assert.deepEqual(resent.map((m) => (m.body as { text: string }).text), ["are you there?", "hello?"]);
});

test("a closed conversation followed by a new message switches to the new conversation", () => {
  const { pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1", "closed") });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 2, at: 2, kind: "closed", by: "agent", agent: null } });
  assert.equal(session.state, "closed");
  session.sendText("one more question");
  const cid = pool.current.last().client_id as string;
  pool.current.receive({ type: "ack", conversation: "c2", client_id: cid, seq: 2 });
  assert.equal(session.conversationId, "c2");
  assert.equal(session.transcript.find(cid)?.state, "acked");
  pool.current.receive({ type: "event", conversation: "c2", event: { seq: 1, at: 3, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c2", event: message(2, cid, "one more question") });
  assert.equal(session.state, "waiting");
  assert.equal(session.transcript.getEvents().length, 2);
  // A stray event of the old conversation does not switch back.
  pool.current.receive({ type: "event", conversation: "c1", event: message(3, "zz", "late") });
  assert.equal(session.conversationId, "c2");
});

test("when the welcome names another conversation than ours, the whole transcript is synced", () => {
  const { clock, pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1") });
  pool.current.receive({ type: "event", conversation: "c1", event: message(1, "a", "x") });
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c9") });
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "c9", after_seq: 0 });
  assert.equal(session.conversationId, "c9");
  assert.equal(session.transcript.size, 0);
  // The first replay started from c1's after_seq (1): it brings c9's 2..3, and its
  // synced does not make 1 count as here; a live event before the full replay neither.
  pool.current.receive({ type: "event", conversation: "c9", event: message(2, "b", "y") });
  pool.current.receive({ type: "event", conversation: "c9", event: message(3, "c", "z") });
  pool.current.receive({ type: "synced", conversation: "c9", last_seq: 3 });
  pool.current.receive({ type: "event", conversation: "c9", event: message(4, "d", "live") });
  assert.equal(session.transcript.lastSeq, 0, "c9's seq 1 has not arrived");
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  assert.equal(pool.current.messages()[0].after_seq, 0, "the next hello asks for c9 from the start");
});

test("agent name, typing indicator and live/replay distinction", () => {
  const { clock, pool, session } = setup();
  const seen: [string, boolean][] = [];
  session.onEvent((e, live) => seen.push([e.kind, live]));
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1") });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "synced", conversation: "c1", last_seq: 1 });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 2, at: 2, kind: "agent_joined", agent: { id: 7, display_name: "Anna" } } });
  assert.equal(session.state, "active");
  assert.equal(session.agent?.display_name, "Anna");
  pool.current.receive({ type: "typing", conversation: "c1", from: "agent", active: true });
  assert.equal(session.typingIn.active, true);
  pool.current.receive({ type: "event", conversation: "c1", event: message(3, "q", "Hi, Anna here", "agent") });
  assert.equal(session.typingIn.active, false, "a message ends typing");
  pool.current.receive({ type: "typing", conversation: "c1", from: "agent", active: true });
  clock.advance(7000);
  assert.equal(session.typingIn.active, false, "typing expires");
  assert.deepEqual(seen, [
    ["started", false],
    ["agent_joined", true],
    ["message", true],
  ]);
});

test("typing is only sent in an open conversation; errors mark messages failed", () => {
  const { pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: null });
  session.typing(false);
  assert.equal(pool.current.messages().filter((m) => m.type === "typing").length, 0);
  session.sendText("hi");
  const cid = pool.current.last().client_id as string;
  pool.current.receive({ type: "error", code: "rate_limited", message: "Slow down", client_id: cid });
  assert.equal(session.transcript.find(cid)?.state, "failed");
  assert.equal(session.transcript.find(cid)?.error, "rate_limited", "the code, for the widget to word");
  session.retry(cid);
  assert.equal(pool.current.last().client_id, cid);
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  session.typing(false);
  assert.deepEqual(pool.current.last(), { type: "typing", conversation: null, active: true });
  pool.current.receive({ type: "error", code: "bad_request", message: "Bad", client_id: null });
  assert.equal(session.notice, "bad_request");
});

test("a site that is not allowed (close 4403): refused, and nothing reconnects", () => {
  const { clock, pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.serverClose(4403, "origin not allowed");
  assert.equal(session.link, "refused");
  assert.equal(clock.pending, 0, "no retry scheduled");
  session.start();
  session.sendText("anyone there?");
  session.reconnectNow();
  clock.advance(60_000);
  assert.equal(pool.sockets.length, 1, "no second socket");
  assert.equal(session.link, "refused");
});

test("other close codes still reconnect", () => {
  const { clock, pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.serverClose(4000, "restart");
  assert.equal(session.link, "reconnecting");
  clock.advance(1000);
  assert.equal(pool.sockets.length, 2);
});

test("availability: unknown before the welcome, then as the server says, kept across a reconnect", () => {
  const { pool, session, clock } = setup();
  const device = { can_share_screen: false, can_cobrowse: true, touch: true, time_zone: "Europe/Berlin", utc_offset_minutes: 60 };
  const withDevice = new VisitorSession({
    wsUrl: "wss://support.example/ws/visitor",
    storage: new MemoryStore(),
    page: () => null,
    device: () => device,
    createSocket: pool.factory,
    timers: clock,
    now: clock.nowFn,
  });
  withDevice.start();
  pool.current.open();
  assert.deepEqual((pool.current.messages()[0] as { device?: unknown }).device, device, "the hello says what the browser can do");
  withDevice.stop();

  session.start();
  pool.current.open();
  assert.equal(session.agentsAvailable, null);
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: null, agents_available: false });
  assert.equal(session.agentsAvailable, false);
  pool.current.receive({ type: "availability", agents_available: true });
  assert.equal(session.agentsAvailable, true);
  pool.current.serverClose(1006);
  assert.equal(session.agentsAvailable, true, "the last word stands while reconnecting");
});

test("an address left is sent trimmed and read back from the conversation's events", () => {
  const { pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1"), agents_available: false });
  assert.equal(session.leaveEmail("  vera@example.com "), true);
  assert.deepEqual(pool.current.last(), { type: "leave_email", email: "vera@example.com" });
  assert.equal(session.visitorEmail, null);
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "email_left", email: "vera@example.com" } });
  assert.equal(session.visitorEmail, "vera@example.com");
});

test("a transfer names the new agent, or puts the visitor back to waiting", () => {
  const { pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1") });
  const anna = { id: 7, display_name: "Anna" };
  const agentName = () => session.agent?.display_name;
  const ben = { id: 8, display_name: "Ben" };
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 2, at: 2, kind: "agent_joined", agent: anna } });
  // seq 3 is a note: the server never sends it, and the gap is no trouble.
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 4, at: 4, kind: "transferred", by: anna, agent: ben, note: null } });
  assert.equal(session.state, "active");
  assert.equal(agentName(), "Ben");
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 5, at: 5, kind: "transferred", by: ben, agent: null, note: null } });
  assert.equal(session.state, "waiting");
  assert.equal(agentName(), undefined);
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 6, at: 6, kind: "agent_joined", agent: anna } });
  assert.equal(session.state, "active");
  assert.equal(agentName(), "Anna");
});

test("seq gaps where agents' notes are do not hold back after_seq: synced and live events mark them complete", () => {
  const { clock, pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1", "active") });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: message(2, "x", "hi") });
  // Seqs 3 and 4 are internal notes: the replay leaves them out and says it went up to 4.
  pool.current.receive({ type: "synced", conversation: "c1", last_seq: 4 });
  assert.equal(session.transcript.lastSeq, 4);
  // Live: 5 is another note, 6 arrives; then the connection drops.
  pool.current.receive({ type: "event", conversation: "c1", event: message(6, "y", "hello?", "agent") });
  assert.equal(session.transcript.lastSeq, 6);
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  assert.equal(pool.current.messages()[0].after_seq, 6, "the reconnect asks only for what came after 6");
});

test("during a replay, events do not mark the gaps before them complete (only synced does)", () => {
  const { clock, pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1", "active") });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: message(5, "x", "later", "agent") });
  assert.equal(session.transcript.lastSeq, 1, "2..4 not yet replayed");
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  assert.equal(pool.current.messages()[0].after_seq, 1);
});

test("a colleague taking part writes, and the visitor still talks to the agent handling it", () => {
  const { pool, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: summary("c1") });
  const anna = { id: 7, display_name: "Anna" };
  const ben = { id: 8, display_name: "Ben" };
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 2, at: 2, kind: "agent_joined", agent: anna } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 3, at: 3, kind: "agent_invited", agent: ben, role: "participant", by: anna, note: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 4, at: 4, kind: "message", from: "agent", agent: ben, client_id: "b1", body: { kind: "text", text: "Ben here" } } });
  assert.equal(session.state, "active");
  assert.equal(session.agent?.display_name, "Anna");
  // The owner's newer name still counts.
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 5, at: 5, kind: "message", from: "agent", agent: { ...anna, display_name: "Anna K." }, client_id: "a1", body: { kind: "text", text: "Thanks, Ben" } } });
  assert.equal(session.agent?.display_name, "Anna K.");
});

test("a page change without a load is said on a welcomed socket; one between hello and welcome goes with the welcome", () => {
  const clock = new FakeClock();
  const pool = new SocketPool();
  let page = { url: "https://shop.example/app", title: "Shop" };
  const session = new VisitorSession({ wsUrl: "wss://support.example/ws/visitor", storage: new MemoryStore(), page: () => page, createSocket: pool.factory, timers: clock, now: clock.nowFn });
  const welcome = () => pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t", conversation: null, agents_available: true, private_selectors: [] });
  const said = () => pool.current.messages().filter((m) => m.type === "page_changed").map((m) => (m.page as { url: string }).url);
  session.pageChanged();
  assert.equal(pool.sockets.length, 0, "no socket is opened for it");

  // The hello says the page of the moment.
  page = { url: "https://shop.example/app/cards", title: "Cards" };
  session.start();
  pool.current.open();
  assert.deepEqual(pool.current.messages()[0].page, page);
  // The router moves on before the welcome: not lost, said once welcomed.
  page = { url: "https://shop.example/app/cards/2", title: "Card 2" };
  session.pageChanged();
  assert.deepEqual(said(), [], "nothing before the welcome");
  welcome();
  assert.deepEqual(said(), ["https://shop.example/app/cards/2"]);
  page = { url: "https://shop.example/app/help", title: "Help" };
  session.pageChanged();
  assert.deepEqual(pool.current.last(), { type: "page_changed", page });

  // A move while the link is down: the next hello says it, and nothing more.
  pool.current.serverClose(1006);
  page = { url: "https://shop.example/app/offline", title: "Offline" };
  session.pageChanged();
  clock.advance(60_000);
  pool.current.open();
  assert.equal((pool.current.messages()[0].page as { url: string }).url, "https://shop.example/app/offline");
  welcome();
  assert.deepEqual(said(), [], "the hello said it already");
});

test("another user identified on this browser starts afresh: no token, no transcript of the one before", () => {
  const { clock, pool, storage, session } = setup();
  storage.set(TOKEN_KEY, "ada-token");
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "ada-token", conversation: summary("c1", "active") });
  // An anonymous visitor who logs in keeps their chat.
  session.identify("user-42", "Ada", null, "sig-ada");
  assert.equal(storage.get(TOKEN_KEY), "ada-token");
  assert.equal(storage.get(IDENTITY_KEY), "user-42");
  pool.current.receive({ type: "event", conversation: "c1", event: message(1, "a1", "my account number is 123") });
  assert.equal(session.transcript.getEvents().length, 1);
  // Ada's last words never reached the server (the link is down).
  pool.current.serverClose(1006);
  session.sendText("and my PIN is 1234");

  // Ada logged out without Sightline.reset(); Grace logs in on the same browser.
  session.identify("user-7", "Grace", null, "sig-grace");
  assert.equal(storage.get(TOKEN_KEY), null, "Ada's visitor token is forgotten");
  assert.equal(storage.get(IDENTITY_KEY), "user-7");
  assert.equal(session.transcript.getEvents().length, 0, "Grace does not see Ada's chat");
  assert.equal(session.transcript.outboxItems().length, 0, "nor Ada's unsent message");
  // A late event of Ada's conversation is not shown either.
  pool.current.receive({ type: "event", conversation: "c1", event: message(2, "a2", "and my PIN") });
  assert.equal(session.transcript.getEvents().length, 0);
  // A new socket says no token: the server makes Grace a new visitor.
  clock.advance(60_000);
  pool.current.open();
  assert.equal(pool.current.messages()[0].token, null);
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "grace-token", conversation: null });
  assert.deepEqual(pool.current.last(), { type: "identify", id: "user-7", name: "Grace", email: null, signature: "sig-grace", ref: "identify" });
  assert.ok(!pool.current.messages().some((m) => m.type === "send"), "Ada's message is not sent as Grace's");
  assert.equal(storage.get(TOKEN_KEY), "grace-token");
});

test("reset() (the site's logout) forgets the visitor and the identity", () => {
  const { clock, pool, storage, session } = setup();
  session.start();
  pool.current.open();
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t1", conversation: summary("c1", "active") });
  session.identify("user-42", "Ada", null, "sig");
  pool.current.receive({ type: "event", conversation: "c1", event: message(1, "a1", "hello") });
  session.reset();
  assert.equal(storage.get(TOKEN_KEY), null);
  assert.equal(storage.get(IDENTITY_KEY), null);
  assert.equal(session.transcript.getEvents().length, 0);
  clock.advance(60_000);
  pool.current.open();
  assert.equal(pool.current.messages()[0].token, null);
  pool.current.receive({ type: "visitor_welcome", protocol: 1, token: "t2", conversation: null });
  assert.ok(!pool.current.messages().some((m) => m.type === "identify"), "anonymous until the page identifies again");
  // The next user's identify is no other user's: nothing more is forgotten.
  session.identify("user-9", null, null, "sig9");
  assert.equal(storage.get(TOKEN_KEY), "t2");
});
