// (c) The visitor's connection is cut (TCP proxy) while both sides keep writing;
// afterwards both transcripts are complete, in order, without duplicates.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { CutProxy, acceptByPreview, agentSend, consoleMessages, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts, widgetMessages } from "./harness.mjs";

const proxy = new CutProxy();
const stack = useStack({
  beforeServer: async () => {
    await proxy.listen();
  },
  allowedOrigins: () => [proxy.origin],
  afterServer: (s) => proxy.setTarget(s.base),
  cleanup: () => proxy.close(),
});

function assertClean(msgs, label) {
  const seqs = msgs.map((m) => m.seq);
  assert.ok(seqs.every((s) => Number.isInteger(s)), `${label}: every message stored`);
  assert.equal(new Set(seqs).size, seqs.length, `${label}: no duplicate seq`);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${label}: ordered by seq`);
  const texts = msgs.map((m) => m.text);
  assert.equal(new Set(texts).size, texts.length, `${label}: no duplicate text`);
}

test("cut and restored connection loses and duplicates nothing", { timeout: 180000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  const visitor = await stack.page("visitor");
  await visitor.goto(proxy.origin + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "v1 hello");
  await waitForWidgetTexts(visitor, ["v1 hello"]);
  await acceptByPreview(agent, "v1 hello");
  await agentSend(agent, "a1 hi there");
  await waitForWidgetTexts(visitor, ["v1 hello", "a1 hi there"]);

  for (let round = 1; round <= 2; round++) {
    const before = (await widgetMessages(visitor)).map((m) => m.text);
    // The visitor writes, and the line drops at once (the ack, maybe the message, is lost).
    await visitorSend(visitor, `v${round}-a before cut`);
    const cut = proxy.cut(2000);
    const status = visitor.locator("[data-testid=status]");
    await waitFor(async () => (await status.isVisible()) && (await status.textContent()) === "Reconnecting…", "visitor sees Reconnecting…", 10000);
    assert.equal(await status.getAttribute("data-state"), "reconnecting");
    // Both sides keep writing while the visitor is offline.
    await visitorSend(visitor, `v${round}-b during cut`);
    await visitorSend(visitor, `v${round}-c during cut`);
    await agentSend(agent, `a${round}-b during cut`);
    await agentSend(agent, `a${round}-c during cut`);
    const offline = await widgetMessages(visitor);
    const pending = offline.filter((m) => m.state === "pending").map((m) => m.text);
    assert.ok(pending.includes(`v${round}-b during cut`) && pending.includes(`v${round}-c during cut`), `pending while offline: ${JSON.stringify(offline)}`);
    assert.ok(!offline.some((m) => m.text.startsWith(`a${round}-`)), "agent messages not seen while offline");
    await cut;

    // After the reconnect everything arrives exactly once.
    await waitFor(async () => (await status.isHidden()) && (await status.textContent()) === "", "status line cleared after reconnect", 30000);
    const visitorNew = [`v${round}-a before cut`, `v${round}-b during cut`, `v${round}-c during cut`];
    const agentNew = [`a${round}-b during cut`, `a${round}-c during cut`];
    const all = await waitFor(async () => {
      const m = await widgetMessages(visitor);
      return m.length === before.length + 5 && m.every((x) => x.state === "sent") ? m : false;
    }, "visitor has all messages", 30000);
    assertClean(all, "visitor");
    const texts = all.map((m) => m.text);
    assert.deepEqual(texts.slice(0, before.length), before, "earlier messages unchanged");
    assert.deepEqual(new Set(texts.slice(before.length)), new Set([...visitorNew, ...agentNew]));
    // Each side's own messages keep their order.
    const order = (list) => texts.filter((t) => list.includes(t));
    assert.deepEqual(order(visitorNew), visitorNew);
    assert.deepEqual(order(agentNew), agentNew);

    const agentView = await waitForConsoleTexts(agent, texts, 30000);
    assertClean(agentView, "agent");
    assert.deepEqual(
      agentView.map((m) => [m.seq, m.text]),
      all.map((m) => [m.seq, m.text]),
      "both sides have the same transcript",
    );
  }
  assert.ok(proxy.refused + proxy.connections > 2, "the proxy really carried the visitor");

  // The conversation still works normally.
  await visitorSend(visitor, "v3 after all that");
  await waitFor(async () => (await consoleMessages(agent)).some((m) => m.text === "v3 after all that" && m.seq), "agent gets the next message");
  assertNoProblems(stack);
});
