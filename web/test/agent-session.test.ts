import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationSummary, Event } from "../src/protocol.gen";
import { AgentSession } from "../src/lib/agent-session";
import { FakeClock, SocketPool } from "./helpers";

const ME = { id: 1, display_name: "Anna" };
const OTHER = { id: 2, display_name: "Ben" };

function summary(id: string, status: ConversationSummary["status"], agent = status === "waiting" ? null : ME, created = 1): ConversationSummary {
  return { id, status, agent, created_at: created, last_seq: 1, last_activity_at: created, preview: "hi", page: null, visitor_online: true, share: null, grants: [] };
}

function message(seq: number, text: string, from: "visitor" | "agent" = "visitor", clientId = "v" + seq): Event {
  return { seq, at: seq, kind: "message", from, agent: from === "agent" ? ME : null, client_id: clientId, body: { kind: "text", text } };
}

function setup() {
  const clock = new FakeClock();
  const pool = new SocketPool();
  const session = new AgentSession({ wsUrl: "ws://x/ws/agent", createSocket: pool.factory, timers: clock, now: clock.nowFn });
  const beeps: string[] = [];
  session.onNewWaiting((e) => beeps.push(e.summary.id));
  session.start();
  pool.current.open();
  return { clock, pool, session, beeps };
}

test("welcome fills queue and mine, syncs own conversations", () => {
  const { pool, session, beeps } = setup();
  assert.deepEqual(pool.current.messages()[0], { type: "agent_hello", protocol: 1, away: false });
  pool.current.receive({
    type: "agent_welcome",
    protocol: 1,
    agent: ME,
    is_admin: true,
    conversations: [summary("w2", "waiting", null, 5), summary("w1", "waiting", null, 3), summary("m1", "active")],
  });
  assert.equal(session.isAdmin, true);
  assert.deepEqual(session.waiting().map((e) => e.summary.id), ["w1", "w2"]);
  assert.deepEqual(session.mine().map((e) => e.summary.id), ["m1"]);
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "m1", after_seq: 0 });
  assert.deepEqual(beeps, [], "no notice for what was already waiting at login");
});

test("new waiting conversations notify; taken by another agent leaves the queue", () => {
  const { pool, session, beeps } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [] });
  pool.current.receive({ type: "conversation_updated", conversation: summary("w1", "waiting") });
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("w1", "waiting"), preview: "more" } });
  assert.deepEqual(beeps, ["w1"], "one notice per new conversation");
  assert.equal(session.waiting().length, 1);
  session.select("w1");
  pool.current.receive({ type: "conversation_updated", conversation: summary("w1", "active", OTHER) });
  assert.equal(session.waiting().length, 0);
  assert.equal(session.mine().length, 0);
  assert.equal(session.selected, null);
  assert.match(session.notice?.text ?? "", /taken by Ben/);
});

test("accept → active and mine → sync → messages with unread counts", () => {
  const { pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("w1", "waiting"), summary("w2", "waiting")] });
  // Selecting a waiting conversation reads it before accepting.
  session.select("w1");
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "w1", after_seq: 0 });
  pool.current.receive({ type: "event", conversation: "w1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "synced", conversation: "w1", last_seq: 1 });
  // The visitor writes again: waiting conversations reach agents as summaries only.
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("w1", "waiting"), last_seq: 2 } });
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "w1", after_seq: 1 });
  pool.current.receive({ type: "event", conversation: "w1", event: message(2, "hello") });
  pool.current.receive({ type: "synced", conversation: "w1", last_seq: 2 });
  session.accept("w1");
  const sent = pool.current.last();
  assert.equal(typeof sent.ref, "string", "an accept carries a request reference");
  assert.deepEqual(sent, { type: "accept", conversation: "w1", ref: sent.ref });
  assert.equal(session.get("w1")?.accepting, true);
  // The agent_joined event comes live, then the summary.
  pool.current.receive({ type: "event", conversation: "w1", event: { seq: 3, at: 3, kind: "agent_joined", agent: ME } });
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("w1", "active"), last_seq: 3 } });
  assert.equal(session.get("w1")?.accepting, false);
  assert.equal(session.get("w1")?.summary.status, "active");
  assert.deepEqual(session.get("w1")?.transcript.getEvents().map((e) => e.seq), [1, 2, 3]);
  assert.equal(session.get("w1")?.unread, 0, "replayed messages are not unread");
  assert.equal(session.selected, "w1");
  assert.deepEqual(session.mine().map((e) => e.summary.id), ["w1"]);
  // Accept a second one and look at it; the first gets unread messages.
  session.accept("w2");
  pool.current.receive({ type: "conversation_updated", conversation: summary("w2", "active") });
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "w2", after_seq: 0 });
  session.select("w2");
  pool.current.receive({ type: "event", conversation: "w1", event: message(4, "anyone?") });
  pool.current.receive({ type: "event", conversation: "w1", event: message(5, "hello??") });
  assert.equal(session.get("w1")?.unread, 2);
  assert.equal(session.unreadTotal(), 2);
  assert.equal(session.get("w1")?.summary.preview, "hello??");
  session.select("w1");
  assert.equal(session.unreadTotal(), 0);
});

test("sending text and links; validation; resend after reconnect", () => {
  const { clock, pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("m1", "active")] });
  assert.equal(session.sendText("m1", "  ").ok, false);
  assert.equal(session.sendLink("m1", "javascript:alert(1)", "").ok, false);
  assert.equal(session.sendText("zz", "hi").ok, false);
  assert.equal(session.sendText("m1", "Hello!").ok, true);
  const text = pool.current.last();
  assert.equal(text.type, "send");
  assert.equal(text.conversation, "m1");
  assert.deepEqual(text.body, { kind: "text", text: "Hello!" });
  assert.equal(session.sendLink("m1", "northwind.example/help", "  Help centre ").ok, true);
  assert.deepEqual(pool.current.last().body, { kind: "link", url: "https://northwind.example/help", title: "Help centre" });
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("m1", "active")] });
  const sends = pool.current.messages().filter((m) => m.type === "send");
  assert.deepEqual(sends.map((m) => m.client_id), [text.client_id, sends[1].client_id]);
  assert.equal(sends.length, 2);
});

test("closing, dismissing, and a conversation that vanished while away", () => {
  const { clock, pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("m1", "active"), summary("m2", "active")] });
  session.close("m1");
  assert.deepEqual(pool.current.last(), { type: "close", conversation: "m1" });
  pool.current.receive({ type: "event", conversation: "m1", event: { seq: 2, at: 2, kind: "closed", by: "agent", agent: ME } });
  assert.equal(session.get("m1")?.summary.status, "closed");
  assert.equal(session.mine().length, 2, "closed stays listed until dismissed");
  session.dismiss("m1");
  assert.equal(session.mine().length, 1);
  // The summary update that follows the closed event does not bring it back.
  pool.current.receive({ type: "conversation_updated", conversation: summary("m1", "closed") });
  assert.equal(session.mine().length, 1);
  assert.equal(session.get("m1"), undefined);
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [] });
  assert.equal(session.get("m2")?.summary.status, "closed");
});

test("a failed accept removes the conversation and shows why; auth errors stop", () => {
  const { pool, session } = setup();
  let lost = 0;
  session.onAuthLost(() => lost++);
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("w1", "waiting")] });
  session.accept("w1");
  const ref = pool.current.last().ref;
  pool.current.receive({ type: "error", code: "invalid_state", message: "Already accepted by Ben", client_id: null, ref });
  assert.equal(session.get("w1"), undefined);
  assert.equal(session.notice?.text, "Already accepted by Ben.");
  pool.current.receive({ type: "error", code: "not_authenticated", message: "Log in", client_id: null });
  assert.equal(lost, 1);
  assert.equal(session.link, "stopped");
});

test("errors about other requests leave a conversation being accepted alone", () => {
  const { pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("w1", "waiting"), summary("w2", "waiting")] });
  session.select("w1");
  session.accept("w1");
  const ref = pool.current.last().ref;
  assert.equal(typeof ref, "string");
  // A share signal refused for another reason, with its own reference, without one, with a null one.
  for (const other of [{ ref: "share-signal-7" }, {}, { ref: null }]) {
    for (const code of ["forbidden", "invalid_state", "not_found"]) {
      pool.current.receive({ type: "error", code, message: "Another console tab is showing this screen share", client_id: null, ...other });
      assert.equal(session.get("w1")?.accepting, true, `${code} ${JSON.stringify(other)}: still accepting`);
    }
  }
  assert.equal(session.selected, "w1");
  assert.deepEqual(session.waiting().map((e) => e.summary.id), ["w1", "w2"]);
  assert.equal(session.notice?.text, "Another console tab is showing this screen share.", "the error is still shown");
  // The answer to the accept itself still lands.
  pool.current.receive({ type: "conversation_updated", conversation: summary("w1", "active") });
  assert.equal(session.get("w1")?.accepting, false);
  assert.equal(session.selected, "w1");
  // A late error with the answered accept's reference changes nothing any more.
  pool.current.receive({ type: "error", code: "forbidden", message: "no", client_id: null, ref });
  assert.equal(session.get("w1")?.summary.status, "active");
});

test("an error for one accept touches only that conversation", () => {
  const { clock, pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("w1", "waiting"), summary("w2", "waiting"), summary("w3", "waiting")] });
  session.accept("w1");
  const ref1 = pool.current.last().ref;
  session.accept("w2");
  const ref2 = pool.current.last().ref;
  assert.notEqual(ref1, ref2);
  // Refused for a reason that keeps the conversation (too many requests): only w2 stops accepting.
  pool.current.receive({ type: "error", code: "rate_limited", message: "Slow down", client_id: null, ref: ref2 });
  assert.equal(session.get("w2")?.accepting, false);
  assert.equal(session.get("w2")?.summary.status, "waiting", "kept");
  assert.equal(session.get("w1")?.accepting, true);
  // Refused because it is gone: only w1 leaves.
  pool.current.receive({ type: "error", code: "not_found", message: "No such conversation", client_id: null, ref: ref1 });
  assert.equal(session.get("w1"), undefined);
  assert.deepEqual(session.waiting().map((e) => e.summary.id), ["w2", "w3"]);
  // References belong to one connection: after a reconnect an old one matches nothing.
  session.accept("w3");
  const ref3 = pool.current.last().ref;
  pool.current.serverClose(1006);
  clock.advance(1000);
  pool.current.open();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("w2", "waiting"), summary("w3", "waiting")] });
  assert.equal(session.get("w3")?.accepting, false, "a new connection starts with no pending accept");
  session.accept("w3");
  pool.current.receive({ type: "error", code: "not_found", message: "No such conversation", client_id: null, ref: ref3 });
  assert.equal(session.get("w3")?.accepting, true, "the old reference is not the new accept's");
});

test("visitor typing shows and expires", () => {
  const { clock, pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("m1", "active")] });
  pool.current.receive({ type: "typing", conversation: "m1", from: "visitor", active: true });
  assert.equal(session.get("m1")?.visitorTyping.active, true);
  clock.advance(6000);
  assert.equal(session.get("m1")?.visitorTyping.active, false);
  session.typing("m1", false);
  assert.deepEqual(pool.current.last(), { type: "typing", conversation: "m1", active: true });
});

test("close code 4001 (logged out elsewhere, disabled) stops and reports lost auth", async () => {
  const { clock, pool, session } = setup();
  let lost = 0;
  session.onAuthLost(() => lost++);
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [] });
  pool.current.serverClose(4001, "logged out");
  await Promise.resolve();
  assert.equal(lost, 1);
  assert.equal(session.link, "stopped");
  clock.advance(60000);
  assert.equal(pool.sockets.length, 1, "no reconnect");
});

test("away is remembered, said in the hello, set by the agent and by their other consoles", () => {
  const clock = new FakeClock();
  const pool = new SocketPool();
  const kept: boolean[] = [];
  let stored = true;
  const session = new AgentSession({
    wsUrl: "ws://x/ws/agent",
    createSocket: pool.factory,
    timers: clock,
    now: clock.nowFn,
    awayStore: { get: () => stored, set: (v) => { stored = v; kept.push(v); } },
  });
  session.start();
  pool.current.open();
  assert.deepEqual(pool.current.messages()[0], { type: "agent_hello", protocol: 1, away: true }, "the remembered choice");
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [], away: true });
  assert.equal(session.away, true);
  session.setAway(false);
  assert.deepEqual(pool.current.last(), { type: "set_away", away: false, ref: "away-1" });
  assert.equal(stored, false);
  // Switching back at once is refused by the server: the choice it holds stands.
  session.setAway(true);
  pool.current.receive({ type: "error", code: "rate_limited", message: "a moment ago", client_id: null, ref: "away-2" });
  assert.equal(session.away, false);
  assert.equal(stored, false);
  // Another console of the same agent stepped away.
  pool.current.receive({ type: "away_changed", away: true });
  assert.equal(session.away, true);
  assert.deepEqual(kept, [true, false, true, false, true]);
});

test("office hours: the welcome says whether they are on, and a change comes as office_hours", () => {
  const { pool, session } = setup();
  const heard: boolean[] = [];
  session.subscribe(() => heard.push(session.officeOpen));
  assert.equal(session.officeOpen, true, "open until told otherwise (a server without office hours)");
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [], away: false, office_open: false });
  assert.equal(session.officeOpen, false);
  pool.current.receive({ type: "office_hours", open: true });
  assert.equal(session.officeOpen, true);
  assert.equal(heard[heard.length - 1], true, "subscribers heard the change");
});

test("a transfer: asked with a reference, the conversation leaves us when the server says it is another's", () => {
  const { pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("m1", "active")] });
  session.select("m1");
  session.listAgents();
  assert.deepEqual(pool.current.last(), { type: "list_agents" });
  const listed = () => session.agents?.map((p) => [p.agent.display_name, p.away]);
  assert.equal(listed(), undefined, "asked, not answered");
  pool.current.receive({ type: "agents", agents: [{ agent: ME, away: false }, { agent: OTHER, away: true }] });
  assert.deepEqual(listed(), [["Anna", false], ["Ben", true]]);
  assert.deepEqual(session.transfer("m1", 2, "Ben", "x".repeat(4001)), { ok: false, reason: "The note is too long." });
  assert.deepEqual(session.transfer("m1", 2, "Ben", "  refund approved "), { ok: true });
  const sent = pool.current.last();
  assert.deepEqual(sent, { type: "transfer", conversation: "m1", to: 2, note: "refund approved", ref: sent.ref });
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("m1", "active", OTHER), last_seq: 3 } });
  assert.equal(session.get("m1"), undefined);
  assert.equal(session.selected, null);
  assert.equal(session.notice?.text, "Handed to Ben.");
  assert.deepEqual(session.transfer("m1", 2, "Ben", ""), { ok: false, reason: "This conversation is not open." });
});

test("a refused transfer keeps the conversation; a handed-over one arrives with its history", () => {
  const { pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [summary("m1", "active")] });
  session.transfer("m1", 2, "Ben", "");
  const ref = pool.current.last().ref;
  pool.current.receive({ type: "error", code: "not_found", message: "that agent is not online", client_id: null, ref });
  assert.equal(session.get("m1")?.summary.status, "active");
  assert.equal(session.handingOver.size, 0);
  // Ben hands us his conversation: we learn it from the summary and replay it.
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("b1", "active", ME), last_seq: 4 } });
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "b1", after_seq: 0 });
  const note: Event = { seq: 3, at: 3, kind: "note", agent: OTHER, client_id: "n1", text: "VIP" };
  pool.current.receive({ type: "event", conversation: "b1", event: note });
  pool.current.receive({ type: "event", conversation: "b1", event: { seq: 4, at: 4, kind: "transferred", by: OTHER, agent: ME, note: "over to you" } });
  assert.equal(session.get("b1")?.summary.agent?.id, ME.id);
  assert.ok(session.mine().some((e) => e.summary.id === "b1"));
  // Notes are sent as their own message, never as a chat message.
  assert.deepEqual(session.sendNote("b1", "checked the invoice"), { ok: true });
  const n = pool.current.last();
  assert.deepEqual(n, { type: "note", conversation: "b1", client_id: n.client_id, text: "checked the invoice" });
  assert.deepEqual(session.sendNote("b1", "  "), { ok: false, reason: "Write a note first." });
});

test("invited as an observer: listed, synced, read-only; taken out with a notice", () => {
  const { pool, session } = setup();
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [] });
  // Ben invites us into his conversation, read-only.
  const theirs = { ...summary("b1", "active", OTHER), last_seq: 4, invitees: [{ agent: ME, role: "observer" as const }] };
  pool.current.receive({ type: "conversation_updated", conversation: theirs });
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "b1", after_seq: 0 });
  assert.deepEqual(session.mine().map((e) => e.summary.id), ["b1"]);
  assert.equal(session.get("b1")?.invitedAs, "observer");
  assert.equal(session.isMine(theirs), false);
  assert.equal(session.mayWrite(theirs), false);
  assert.deepEqual(session.sendText("b1", "hello"), { ok: false, reason: "This conversation is not open." });
  assert.deepEqual(session.sendNote("b1", "hello"), { ok: false, reason: "This conversation is not open." });
  // Made a participant: we write.
  const taking = { ...theirs, invitees: [{ agent: ME, role: "participant" as const }] };
  pool.current.receive({ type: "conversation_updated", conversation: taking });
  assert.equal(session.get("b1")?.invitedAs, "participant");
  assert.deepEqual(session.sendText("b1", "hello"), { ok: true });
  assert.equal(pool.current.last().type, "send");
  // Taken out: it leaves our list, and we are told.
  session.select("b1");
  pool.current.receive({ type: "conversation_updated", conversation: { ...theirs, invitees: [] } });
  assert.equal(session.get("b1"), undefined);
  assert.match(session.notice?.text ?? "", /no longer in this conversation \(ask Ben/);
});

test("an invitee leaves, sees a close, and is given the conversation", () => {
  const { pool, session } = setup();
  const theirs = (id: string) => ({ ...summary(id, "active", OTHER), invitees: [{ agent: ME, role: "participant" as const }] });
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [theirs("b1"), theirs("b2"), theirs("b3")] });
  assert.deepEqual(session.mine().map((e) => e.summary.id).sort(), ["b1", "b2", "b3"]);
  // Leaving.
  session.select("b1");
  assert.equal(session.leave("b1"), true);
  assert.deepEqual(pool.current.last(), { type: "leave", conversation: "b1" });
  pool.current.receive({ type: "conversation_updated", conversation: summary("b1", "active", OTHER) });
  assert.equal(session.get("b1"), undefined);
  assert.equal(session.notice?.text, "You left the conversation.");
  // Closed while we were in it: it stays, closed, until dismissed.
  pool.current.receive({ type: "conversation_updated", conversation: summary("b2", "closed", OTHER) });
  assert.equal(session.get("b2")?.summary.status, "closed");
  assert.ok(session.mine().some((e) => e.summary.id === "b2"));
  // Handed to us: ours.
  pool.current.receive({ type: "conversation_updated", conversation: summary("b3", "active", ME) });
  assert.equal(session.get("b3")?.invitedAs, null);
  assert.equal(session.isMine(session.get("b3")!.summary), true);
  // Inviting from one of ours.
  assert.deepEqual(session.invite("b3", 2, "observer", " watch "), { ok: true });
  assert.deepEqual(pool.current.last(), { type: "invite", conversation: "b3", agent: 2, role: "observer", note: "watch" });
  assert.deepEqual(session.invite("b2", 2, "observer", ""), { ok: false, reason: "This conversation is not open." });
  assert.equal(session.uninvite("b3", 2), true);
  assert.deepEqual(pool.current.last(), { type: "uninvite", conversation: "b3", agent: 2 });
});

test("a conversation handed to us is told once its history is here, with the hand-over's note; a caller's session key is not a hand-over", () => {
  const { pool, session } = setup();
  const told: string[] = [];
  session.onHandedToMe((e, ev) => told.push(`${e.summary.id}|${ev.by.display_name}|${ev.note}`));
  pool.current.receive({ type: "agent_welcome", protocol: 1, agent: ME, is_admin: false, conversations: [] });
  // Ben hands us c1 (its first four events were his).
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("c1", "active", ME), last_seq: 4 } });
  assert.deepEqual(pool.current.last(), { type: "sync", conversation: "c1", after_seq: 0 });
  assert.deepEqual(told, [], "not before the history");
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 2, at: 2, kind: "agent_joined", agent: OTHER } });
  pool.current.receive({ type: "event", conversation: "c1", event: { seq: 3, at: 3, kind: "transferred", by: OTHER, agent: ME, note: "refund approved" } });
  pool.current.receive({ type: "event", conversation: "c1", event: message(4, "still there?") });
  pool.current.receive({ type: "synced", conversation: "c1", last_seq: 4 });
  assert.deepEqual(told, ["c1|Ben|refund approved"]);
  // A later summary of the same conversation tells nothing again.
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("c1", "active", ME), last_seq: 4, preview: "x" } });
  // A caller's session key: ours without a hand-over in its history.
  pool.current.receive({ type: "conversation_updated", conversation: { ...summary("k1", "active", ME), last_seq: 2 } });
  pool.current.receive({ type: "event", conversation: "k1", event: { seq: 1, at: 1, kind: "started", page: null } });
  pool.current.receive({ type: "event", conversation: "k1", event: { seq: 2, at: 2, kind: "joined_with_key", agent: ME } });
  pool.current.receive({ type: "synced", conversation: "k1", last_seq: 2 });
  assert.deepEqual(told, ["c1|Ben|refund approved"]);
});
