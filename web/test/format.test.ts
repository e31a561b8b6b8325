import { test } from "node:test";
import assert from "node:assert/strict";
import {
  charCount,
  checkLink,
  checkText,
  displayHost,
  ellipsize,
  fill,
  formatAgo,
  formatTime,
  safeHttpUrl,
  sentence,
  truncateBytes,
  utf8Length,
  visitorLabel,
} from "../src/lib/format";
import { newClientId, randomId } from "../src/lib/ids";

test("charCount counts Unicode scalar values, not UTF-16 units", () => {
  assert.equal(charCount("abc"), 3);
  assert.equal(charCount("😀😀"), 2);
  assert.equal("😀😀".length, 4);
});

test("utf8Length and truncateBytes agree and never split a character", () => {
  assert.equal(utf8Length("aé€😀"), 1 + 2 + 3 + 4);
  assert.equal(truncateBytes("aé€😀", 6), "aé€");
  assert.equal(truncateBytes("aé€😀", 9), "aé€");
  assert.equal(truncateBytes("aé€😀", 10), "aé€😀");
});

test("checkText refuses blank and over-long messages", () => {
  assert.deepEqual(checkText("  \n "), { ok: false, reason: "empty", count: 4 });
  assert.equal(checkText("x".repeat(4000)).ok, true);
  const long = checkText("😀".repeat(4001));
  assert.equal(long.ok, false);
  assert.equal(!long.ok && long.reason, "too_long");
  assert.deepEqual(checkText(" hi "), { ok: true, text: " hi " });
});

test("checkLink accepts http(s) only and normalises", () => {
  assert.deepEqual(checkLink("https://example.com/a?b=1"), { ok: true, url: "https://example.com/a?b=1" });
  assert.deepEqual(checkLink("example.com/help"), { ok: true, url: "https://example.com/help" });
  assert.deepEqual(checkLink("HTTP://Example.COM"), { ok: true, url: "http://example.com/" });
  assert.deepEqual(checkLink("javascript:alert(1)"), { ok: false, reason: "scheme" });
  assert.deepEqual(checkLink("data:text/html,hi"), { ok: false, reason: "scheme" });
  assert.deepEqual(checkLink("ftp://example.com"), { ok: false, reason: "scheme" });
  assert.deepEqual(checkLink(""), { ok: false, reason: "empty" });
  assert.deepEqual(checkLink("https://"), { ok: false, reason: "invalid" });
  assert.deepEqual(checkLink("https://user:pw@example.com/"), { ok: false, reason: "invalid" });
  assert.deepEqual(checkLink("https://example.com/" + "a".repeat(2100)), { ok: false, reason: "too_long" });
});

test("safeHttpUrl only lets explicit http(s) URLs through", () => {
  assert.equal(safeHttpUrl("https://a.example/x"), "https://a.example/x");
  assert.equal(safeHttpUrl("javascript:alert(1)"), null);
  assert.equal(safeHttpUrl(" JavaScript:alert(1)"), null);
  assert.equal(safeHttpUrl("example.com"), null);
  assert.equal(safeHttpUrl("//evil.example"), null);
});

test("displayHost strips www", () => {
  assert.equal(displayHost("https://www.example.com/x"), "example.com");
  assert.equal(displayHost("not a url"), "not a url");
});

test("formatTime shows the clock today and the date otherwise", () => {
  const now = new Date(2024, 4, 10, 15, 30).getTime();
  assert.equal(formatTime(new Date(2024, 4, 10, 9, 5).getTime(), now), "09:05");
  assert.equal(formatTime(new Date(2024, 2, 3, 14, 0).getTime(), now), "3 Mar 14:00");
  assert.equal(formatTime(new Date(2023, 11, 31, 23, 59).getTime(), now), "31 Dec 2023 23:59");
});

test("formatAgo is short", () => {
  const now = 10_000_000_000;
  assert.equal(formatAgo(now - 5_000, now), "now");
  assert.equal(formatAgo(now - 4 * 60_000, now), "4m");
  assert.equal(formatAgo(now - 3 * 3600_000, now), "3h");
  assert.equal(formatAgo(now - 2 * 86400_000, now), "2d");
  assert.equal(formatAgo(now + 60_000, now), "now");
});

test("sentence capitalises and ends server messages", () => {
  assert.equal(sentence("wrong name or password"), "Wrong name or password.");
  assert.equal(sentence("Done!"), "Done!");
  assert.equal(sentence("  "), "");
});

test("ellipsize, fill and visitorLabel", () => {
  assert.equal(ellipsize("hello", 5), "hello");
  assert.equal(ellipsize("hello world", 6), "hello…");
  assert.equal(fill("{name} is typing…", { name: "Anna" }), "Anna is typing…");
  assert.equal(fill("{x} {y}", { x: 1 }), "1 {y}");
  assert.match(visitorLabel("abc"), /^Visitor \d{4}$/);
  assert.equal(visitorLabel("abc"), visitorLabel("abc"));
});

test("ids are random, URL-safe and within the protocol limit", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = newClientId();
    assert.match(id, /^[A-Za-z0-9_-]{24}$/);
    assert.ok(!seen.has(id));
    seen.add(id);
  }
  assert.equal(randomId(5).length, 5);
});
