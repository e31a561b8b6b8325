import { test } from "node:test";
import assert from "node:assert/strict";
import { diagText, diagnosticsIn } from "../src/lib/cobrowse-diag";

const custom = (payload: unknown) => ({ type: 5, timestamp: 1, data: { tag: "sightline/diag", payload } });

test("diagnostics are read out of the stream's items, and only well-formed ones", () => {
  const items = [
    { type: 3, timestamp: 1, data: {} },
    custom({ kind: "console", at: 5, level: "error", text: "boom" }),
    custom({ kind: "exception", at: 6, text: "TypeError: x is undefined", source: "https://shop.example/app.js:12" }),
    custom({ kind: "network", at: 7, method: "POST", url: "https://shop.example/api/pay", status: 502, ms: 340 }),
    custom({ kind: "network", at: 8, method: "GET", url: "https://shop.example/x", status: "502", ms: 1 }),
    custom({ kind: "console", at: 9, level: "log", text: "not a problem" }),
    { type: 5, timestamp: 1, data: { tag: "other", payload: { kind: "console", level: "error", text: "x" } } },
    custom({ kind: "console", at: 10, level: "warn", text: "x".repeat(2000) }),
    null,
    "junk",
  ];
  const got = diagnosticsIn(items);
  assert.equal(got.length, 4);
  assert.deepEqual(got.map(diagText).slice(0, 3), [
    "console.error: boom",
    "TypeError: x is undefined (https://shop.example/app.js:12)",
    "POST https://shop.example/api/pay → 502 (340 ms)",
  ]);
  assert.equal((got[3] as unknown as { text: string }).text.length, 500, "long text is cut");
  assert.equal(diagText({ kind: "network", at: 1, method: "GET", url: "u", status: 0, ms: 3 }), "GET u → failed (3 ms)");
});

test("text from the page is redacted before it could leave: queries, e-mail addresses, digit runs", async () => {
  const { redact } = await import("../src/widget/cobrowse-diag");
  assert.equal(redact("GET https://shop.example/pay?card=4111&cvc=123#x failed"), "GET https://shop.example/pay failed");
  assert.equal(redact("Invalid card 4111 1111 1111 1111 for jane.doe@example.com"), "Invalid card ▪ for ▪@▪");
  assert.equal(redact("order 12 of 3"), "order 12 of 3", "short numbers stay");
  assert.equal(redact("PIN 735194"), "PIN ▪");
});

test("what the widget reports fits the relay's checks: methods are short tokens, URLs carry no query", async () => {
  const { requestMethod, bareUrl } = await import("../src/widget/cobrowse-diag");
  assert.equal(requestMethod("post"), "POST");
  assert.equal(requestMethod("M-SEARCH"), "M-SEARCH");
  assert.equal(requestMethod("GET /x"), "OTHER", "a space is not in a method");
  assert.equal(requestMethod("ÜBER"), "OTHER");
  assert.equal(requestMethod("A".repeat(17)), "OTHER");
  assert.equal(bareUrl("/pay?card=4111#top", "https://shop.example/cart"), "https://shop.example/pay");
  assert.equal(bareUrl("data:text/plain,hi?x=1", "https://shop.example/"), "null" + "text/plain,hi");
});

test("a long console text is cut on whole characters, never inside an emoji", async () => {
  const { text } = await import("../src/widget/cobrowse-diag");
  const cut = text("x".repeat(299) + "😀" + "y".repeat(10));
  assert.equal(cut, "x".repeat(299) + "😀…");
});
