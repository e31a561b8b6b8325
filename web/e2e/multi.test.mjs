// Several conversations at once, and two agents competing for the queue.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import {
  acceptByPreview,
  agentSend,
  createAgent,
  login,
  openWidget,
  randomPassword,
  visitorSend,
  waitFor,
  waitForConsoleTexts,
  waitForWidgetTexts,
} from "./harness.mjs";

const stack = useStack();

test("an agent handles two conversations with unread counts", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  const v1 = await stack.page("visitor1");
  await v1.goto(stack.base + "/demo");
  await openWidget(v1);
  await visitorSend(v1, "First visitor here");
  const v2 = await stack.page("visitor2");
  await v2.goto(stack.base + "/demo/transfer");
  await openWidget(v2);
  await visitorSend(v2, "Second visitor here");
  await waitFor(async () => (await agent.locator("[data-testid=waiting-count]").textContent()) === "2", "two waiting");
  // Oldest first.
  assert.deepEqual(await agent.locator("[data-testid=queue-waiting] [data-testid=queue-preview]").allTextContents(), ["First visitor here", "Second visitor here"]);
  await waitFor(async () => (await agent.title()) === "(2) Sightline Console", "title counts both");

  await acceptByPreview(agent, "First visitor here");
  await acceptByPreview(agent, "Second visitor here");
  assert.equal(await agent.locator("[data-testid=mine-count]").textContent(), "2");
  assert.equal(await agent.locator("[data-testid=waiting-count]").textContent(), "0");
  await waitForConsoleTexts(agent, ["Second visitor here"]);

  // While the second is open, the first writes: unread badge and title counter.
  await visitorSend(v1, "Are you there?");
  await visitorSend(v1, "Hello?");
  const first = agent.locator("[data-testid=queue-mine] [data-testid=queue-item]", { hasText: "First visitor here" }).or(
    agent.locator("[data-testid=queue-mine] [data-testid=queue-item]", { hasText: "Hello?" }),
  );
  await waitFor(async () => (await first.locator("[data-testid=unread]").textContent()) === "2", "two unread");
  await waitFor(async () => (await agent.title()) === "(2) Sightline Console", "title counts unread");
  await agentSend(agent, "Reply for the second");

  await first.click();
  await waitForConsoleTexts(agent, ["First visitor here", "Are you there?", "Hello?"]);
  assert.equal(await first.locator("[data-testid=unread]").count(), 0, "read when opened");
  await waitFor(async () => (await agent.title()) === "Sightline Console", "title cleared");
  await agentSend(agent, "Reply for the first");

  await waitForWidgetTexts(v1, ["First visitor here", "Are you there?", "Hello?", "Reply for the first"]);
  await waitForWidgetTexts(v2, ["Second visitor here", "Reply for the second"]);
  assertNoProblems(stack);
});

test("a conversation accepted by one agent leaves the other's queue", { timeout: 120000 }, async () => {
  const password = randomPassword();
  await createAgent(stack.base, stack.server.adminPassword, { name: "carla", display_name: "Carla", password });
  const anna = await stack.page("anna");
  await login(anna, stack.base, "admin", stack.server.adminPassword);
  const carla = await stack.page("carla");
  await login(carla, stack.base, "carla", password);

  const v = await stack.page("visitor3");
  await v.goto(stack.base + "/demo");
  await openWidget(v);
  await visitorSend(v, "Who will take me?");
  for (const page of [anna, carla]) {
    await page.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Who will take me?" }).waitFor();
  }
  // Carla looks at it (a waiting conversation can be read before accepting) …
  await carla.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Who will take me?" }).click();
  await waitForConsoleTexts(carla, ["Who will take me?"]);
  // … but Anna accepts first.
  const convId = await anna.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Who will take me?" }).getAttribute("data-id");
  await acceptByPreview(anna, "Who will take me?");
  await waitFor(async () => (await carla.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Who will take me?" }).count()) === 0, "gone from Carla's queue");
  await waitFor(async () => /taken by/i.test((await carla.locator("[data-testid=toast]").textContent()) || ""), "Carla is told");
  assert.equal(await carla.locator("[data-testid=chat-empty]").isVisible(), true);
  await agentSend(anna, "I've got this one.");
  await waitForWidgetTexts(v, ["Who will take me?", "I've got this one."]);
  await waitFor(async () => /Admin|admin/.test(await v.locator("[data-testid=subtitle]").textContent()), "visitor sees Anna's name");

  // The visitor ends the conversation from the widget.
  await v.locator("[data-testid=end]").click();
  await waitFor(async () => (await v.locator("[data-testid=system]").last().textContent()) === "You ended the conversation", "visitor sees the end");
  assert.equal(await v.locator("[data-testid=end]").isVisible(), false, "no end button on a closed conversation");
  await waitFor(async () => (await anna.locator("[data-testid=chat-status]").textContent()) === "closed", "agent sees closed");
  assert.ok((await anna.locator("[data-testid=transcript] [data-testid=system]").last().textContent()).includes("ended the conversation"));
  assert.equal(await anna.locator("[data-testid=composer]").isVisible(), false, "no composer on a closed conversation");
  const mineBefore = Number(await anna.locator("[data-testid=mine-count]").textContent());
  await anna.locator("[data-testid=dismiss]").click();
  await waitFor(async () => Number(await anna.locator("[data-testid=mine-count]").textContent()) === mineBefore - 1, "dismissed");
  // A barrier: a new visitor's conversation reaches Anna's queue after anything the
  // server sent about the dismissed one, so once it shows, a late update would have too.
  const later = await stack.page("visitor4");
  await later.goto(stack.base + "/demo");
  await openWidget(later);
  await visitorSend(later, "Someone new");
  await anna.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Someone new" }).waitFor();
  assert.equal(await anna.locator(`[data-testid=queue-item][data-id="${convId}"]`).count(), 0, "stays dismissed");
  assert.equal(await anna.locator("[data-testid=chat-empty]").isVisible(), true);
  assertNoProblems(stack);
});
