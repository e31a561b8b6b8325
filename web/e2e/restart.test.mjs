// The server restarts (close code 1012): both sides come back by themselves and
// the conversation goes on with nothing lost.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

test("both sides reconnect after a server restart", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "Before the restart");
  await acceptByPreview(agent, "Before the restart");
  await agentSend(agent, "Agent before the restart");
  await waitForWidgetTexts(visitor, ["Before the restart", "Agent before the restart"]);

  await stack.server.restart();
  await waitFor(async () => (await agent.locator("[data-testid=link-state]").getAttribute("data-state")) === "online", "agent back online", 20000);
  await waitFor(async () => visitor.locator("[data-testid=status]").isHidden(), "visitor back online", 20000);

  await visitorSend(visitor, "After the restart");
  await agentSend(agent, "Agent after the restart");
  const expected = ["Before the restart", "Agent before the restart", "After the restart", "Agent after the restart"];
  const v = await waitForWidgetTexts(visitor, expected);
  const a = await waitForConsoleTexts(agent, expected);
  assert.deepEqual(
    v.map((m) => m.seq),
    a.map((m) => m.seq),
  );
  assert.equal(await agent.locator("[data-testid=queue-item]").count(), 1, "still one conversation");
  assertNoProblems(stack);
});
