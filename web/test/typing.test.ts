import { test } from "node:test";
import assert from "node:assert/strict";
import { TypingIndicator, TypingSender } from "../src/lib/typing";
import { FakeClock } from "./helpers";

test("TypingSender: true once, refreshed every 3 s, false after 4 s idle", () => {
  const clock = new FakeClock();
  const sent: boolean[] = [];
  const s = new TypingSender((a) => sent.push(a), clock.nowFn, clock);
  s.input();
  s.input();
  clock.advance(1000);
  s.input();
  assert.deepEqual(sent, [true]);
  clock.advance(2000);
  s.input();
  assert.deepEqual(sent, [true, true]);
  clock.advance(3999);
  assert.deepEqual(sent, [true, true]);
  clock.advance(1);
  assert.deepEqual(sent, [true, true, false]);
  assert.equal(s.isActive, false);
});

test("TypingSender: clearing the field or sending stops at once, only once", () => {
  const clock = new FakeClock();
  const sent: boolean[] = [];
  const s = new TypingSender((a) => sent.push(a), clock.nowFn, clock);
  s.input();
  s.input(true);
  s.stop();
  assert.deepEqual(sent, [true, false]);
  clock.advance(10000);
  assert.deepEqual(sent, [true, false]);
});

test("TypingIndicator expires by itself", () => {
  const clock = new FakeClock();
  const changes: boolean[] = [];
  const t = new TypingIndicator((a) => changes.push(a), clock, 6000);
  t.set(true);
  clock.advance(5000);
  t.set(true);
  clock.advance(5000);
  assert.equal(t.active, true);
  clock.advance(1000);
  assert.equal(t.active, false);
  t.set(false);
  assert.deepEqual(changes, [true, false]);
});
