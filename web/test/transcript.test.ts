import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "../src/protocol.gen";
import { Transcript } from "../src/lib/transcript";

function msg(seq: number, clientId: string, text: string, from: "visitor" | "agent" = "visitor"): Event {
  return { seq, at: 1000 + seq, kind: "message", from, agent: null, client_id: clientId, body: { kind: "text", text } };
}

function texts(t: Transcript): string[] {
  return t.items().map((i) => {
    if (i.type === "event") return i.event.kind === "message" && i.event.body.kind === "text" ? `${i.seq}:${i.event.body.text}` : `${i.seq}:${i.event.kind}`;
    return `${i.item.state}${i.item.seq ?? ""}:${i.item.body.kind === "text" ? i.item.body.text : ""}`;
  });
}

test("orders events by seq and ignores duplicates", () => {
  const t = new Transcript("c1");
  assert.equal(t.addEvent(msg(2, "b", "two")), true);
  assert.equal(t.addEvent(msg(1, "a", "one")), true);
  assert.equal(t.addEvent(msg(3, "c", "three")), true);
  assert.equal(t.addEvent(msg(2, "b", "two again")), false);
  assert.deepEqual(texts(t), ["1:one", "2:two", "3:three"]);
  assert.equal(t.size, 3);
});

test("lastSeq is the end of the gap-free prefix", () => {
  const t = new Transcript("c1");
  assert.equal(t.lastSeq, 0);
  t.addEvent(msg(1, "a", "1"));
  t.addEvent(msg(2, "b", "2"));
  t.addEvent(msg(4, "d", "4"));
  assert.equal(t.lastSeq, 2);
  assert.equal(t.maxSeq, 4);
  t.addEvent(msg(3, "c", "3"));
  assert.equal(t.lastSeq, 4);
  assert.equal(t.addEvent({ ...msg(0, "z", "bad") }), false);
});

test("outbox: pending → acked → replaced by the event", () => {
  const t = new Transcript("c1");
  t.addEvent(msg(1, "x", "hello"));
  t.enqueue("me1", { kind: "text", text: "mine" });
  t.enqueue("me2", { kind: "text", text: "mine too" });
  assert.deepEqual(texts(t), ["1:hello", "pending:mine", "pending:mine too"]);
  assert.deepEqual(t.pending().map((o) => o.clientId), ["me1", "me2"]);
  assert.equal(t.ack("me1", 3), true);
  // An agent message took seq 2 meanwhile; acked item sits at its seq.
  assert.deepEqual(texts(t), ["1:hello", "acked3:mine", "pending:mine too"]);
  t.addEvent(msg(2, "y", "agent says", "agent"));
  assert.deepEqual(texts(t), ["1:hello", "2:agent says", "acked3:mine", "pending:mine too"]);
  t.addEvent(msg(3, "me1", "mine"));
  assert.deepEqual(texts(t), ["1:hello", "2:agent says", "3:mine", "pending:mine too"]);
  assert.equal(t.find("me1"), undefined);
  assert.equal(t.ack("me1", 3), true, "a repeated ack is still ours");
  assert.equal(t.ack("nope", 9), false);
});

test("an event before its ack removes the outbox item; the late ack is harmless", () => {
  const t = new Transcript("c1");
  t.enqueue("me1", { kind: "text", text: "hi" });
  t.addEvent(msg(1, "me1", "hi"));
  assert.deepEqual(texts(t), ["1:hi"]);
  assert.equal(t.ack("me1", 1), true);
  assert.deepEqual(texts(t), ["1:hi"]);
});

test("an ack for a seq already present with our client id drops the item", () => {
  const t = new Transcript("c1");
  t.addEvent(msg(1, "other", "x"));
  const item = t.enqueue("me1", { kind: "text", text: "hi" });
  // Simulate the event arriving without removing (different object), then ack.
  assert.equal(item.state, "pending");
  t.ack("me1", 2);
  assert.equal(t.find("me1")?.state, "acked");
});

test("failed messages can be retried or discarded", () => {
  const t = new Transcript("c1");
  t.enqueue("a", { kind: "text", text: "one" });
  t.enqueue("b", { kind: "text", text: "two" });
  assert.equal(t.fail("a", "Too many messages"), true);
  assert.equal(t.find("a")?.error, "Too many messages");
  assert.deepEqual(t.pending().map((o) => o.clientId), ["b"]);
  assert.equal(t.retry("a")?.state, "pending");
  assert.deepEqual(t.pending().map((o) => o.clientId), ["a", "b"]);
  t.fail("b", "no");
  assert.equal(t.discard("b"), true);
  assert.deepEqual(texts(t), ["pending:one"]);
  assert.equal(t.retry("zzz"), undefined);
});

test("reset keeps unsent messages for the new conversation", () => {
  const t = new Transcript("old");
  t.addEvent(msg(1, "a", "old one"));
  t.enqueue("p", { kind: "text", text: "pending" });
  t.enqueue("q", { kind: "text", text: "acked" });
  t.ack("q", 2);
  t.reset("new");
  assert.equal(t.conversationId, "new");
  assert.equal(t.lastSeq, 0);
  assert.deepEqual(texts(t), ["pending:pending"]);
});

test("notifies subscribers on change only", () => {
  const t = new Transcript("c");
  let n = 0;
  const off = t.subscribe(() => n++);
  t.addEvent(msg(1, "a", "x"));
  t.addEvent(msg(1, "a", "x"));
  assert.equal(n, 1);
  off();
  t.addEvent(msg(2, "b", "y"));
  assert.equal(n, 1);
});

test("a large shuffled replay with repeats ends complete and ordered", () => {
  const t = new Transcript("c");
  const seqs: number[] = [];
  for (let i = 1; i <= 200; i++) seqs.push(i, i);
  for (let i = seqs.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [seqs[i], seqs[j]] = [seqs[j], seqs[i]];
  }
  for (const s of seqs) t.addEvent(msg(s, "c" + s, "m" + s));
  const ev = t.getEvents();
  assert.equal(ev.length, 200);
  assert.deepEqual(ev.map((e) => e.seq), Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal(t.lastSeq, 200);
});
