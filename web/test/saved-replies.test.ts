import { test } from "node:test";
import assert from "node:assert/strict";
import { matchReplies, mayChange, replyPreview, slashQuery } from "../src/lib/saved-replies";
import type { SavedReply } from "../src/protocol.gen";

const reply = (id: number, shortcut: string, title: string, body: string, created_by: number | null = 1): SavedReply => ({ id, shortcut, title, body, created_by, updated_at: 0 });

test("slashQuery: a slash and letters, caret at the end, nothing else", () => {
  assert.equal(slashQuery("/ref", 4), "ref");
  assert.equal(slashQuery("/", 1), "");
  assert.equal(slashQuery("/Ref", 4), "ref");
  assert.equal(slashQuery("/ref", 2), null, "caret inside");
  assert.equal(slashQuery("hello /ref", 10), null, "not at the start");
  assert.equal(slashQuery("/ref and more", 13), null, "a space: a sentence now");
  assert.equal(slashQuery("/ref\n", 5), null);
  assert.equal(slashQuery("", 0), null);
});

test("matchReplies ranks shortcut, prefix, infix, title, body, and caps the list", () => {
  const all = [
    reply(1, "hello", "Greeting", "Hello! How can I help?"),
    reply(2, "refund", "Refunds", "We refund within 14 days."),
    reply(3, "refund-late", "Late refunds", "After 14 days we cannot refund."),
    reply(4, "card", "Lost card", "Block it under Cards, then call us."),
    reply(5, "xrefund", "Other", "text"),
    reply(6, "bye", "Closing", "Anything else about your refund?"),
  ];
  assert.deepEqual(matchReplies(all, "refund").map((r) => r.id), [2, 3, 5, 6]);
  assert.deepEqual(matchReplies(all, "lost").map((r) => r.id), [4], "by title");
  assert.deepEqual(matchReplies(all, "CARDS").map((r) => r.id), [4], "by text, any case");
  assert.deepEqual(matchReplies(all, "").map((r) => r.id), [6, 4, 1, 2, 3, 5], "everything, by shortcut");
  assert.equal(matchReplies(all, "", 3).length, 3);
  assert.deepEqual(matchReplies(all, "zzz"), []);
});

test("replyPreview folds lines and cuts long texts", () => {
  assert.equal(replyPreview("Hello\n\n  there"), "Hello there");
  assert.equal(replyPreview("x".repeat(100), 10), "xxxxxxxxx…");
  assert.equal([...replyPreview("é".repeat(100), 10)].length, 10);
});

test("mayChange: the author or an admin", () => {
  const r = reply(1, "a", "", "b", 7);
  assert.equal(mayChange(r, { id: 7, is_admin: false }), true);
  assert.equal(mayChange(r, { id: 8, is_admin: false }), false);
  assert.equal(mayChange(r, { id: 8, is_admin: true }), true);
  assert.equal(mayChange(reply(2, "a", "", "b", null), { id: 8, is_admin: false }), false);
});
