import { test } from "node:test";
import assert from "node:assert/strict";
import { QUEUE, colleagues, transferChoice } from "../src/lib/transfer";
import type { AgentPresence } from "../src/protocol.gen";

const presence = (id: number, display_name: string, away = false): AgentPresence => ({ agent: { id, display_name }, away });

test("colleagues: not me; available first, then away; by name within each", () => {
  const list = [presence(1, "Me"), presence(2, "Zoe"), presence(3, "Bea", true), presence(4, "Anna"), presence(5, "Al", true)];
  assert.deepEqual(
    colleagues(list, 1).map((p) => p.agent.display_name),
    ["Anna", "Zoe", "Al", "Bea"],
  );
  assert.deepEqual(colleagues(null, 1), [], "not listed yet");
});

test("transferChoice: the first available colleague until a pick, which stands while it is listed", () => {
  const others = colleagues([presence(2, "Zoe"), presence(3, "Bea", true), presence(4, "Anna")], 1);
  assert.equal(transferChoice(others, QUEUE, false), "4", "first available by name");
  assert.equal(transferChoice(others, "3", true), "3", "an away colleague can be picked");
  assert.equal(transferChoice(others, QUEUE, true), QUEUE, "the queue can be picked");
  assert.equal(transferChoice(others, "9", true), "4", "a pick that went offline falls back");
  assert.equal(transferChoice(colleagues([presence(3, "Bea", true)], 1), QUEUE, false), QUEUE, "nobody available: the queue");
});
