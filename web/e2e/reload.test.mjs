// (b) The conversation survives a reload and navigation to another demo page.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

test("reload and navigation keep the transcript", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "Where is my statement?");
  await waitForWidgetTexts(visitor, ["Where is my statement?"]);
  const token = await visitor.evaluate(() => localStorage.getItem("sightline.visitor_token"));
  assert.ok(token && token.length >= 20, "token stored");

  await acceptByPreview(agent, "Where is my statement?");
  await agentSend(agent, "Under Accounts, top right.");
  const expected = ["Where is my statement?", "Under Accounts, top right."];
  await waitForWidgetTexts(visitor, expected);

  // Reload: the box re-opens by itself and shows the transcript.
  await visitor.reload();
  await visitor.locator("[data-testid=panel]").waitFor({ state: "visible" });
  const afterReload = await waitForWidgetTexts(visitor, expected);
  assert.deepEqual(
    afterReload.map((m) => m.from),
    ["visitor", "agent"],
  );
  assert.equal(await visitor.evaluate(() => localStorage.getItem("sightline.visitor_token")), token, "same token");

  // Navigate with a normal link click.
  await visitor.locator("a.nav-link, nav a", { hasText: "Accounts" }).first().click();
  await visitor.waitForURL(/\/demo\/account$/);
  assert.equal(await visitor.locator("h1").textContent(), "Your accounts");
  assert.ok((await visitor.locator("[data-testid=transactions] tbody tr").count()) >= 5, "transactions table");
  await visitor.locator("[data-testid=panel]").waitFor({ state: "visible" });
  await waitForWidgetTexts(visitor, expected);

  // Still the same conversation: the agent gets the next message in the same chat.
  await visitorSend(visitor, "Found it, thanks");
  await waitForWidgetTexts(visitor, [...expected, "Found it, thanks"]);
  await waitForConsoleTexts(agent, [...expected, "Found it, thanks"]);
  assert.equal(await agent.locator("[data-testid=queue-item]").count(), 1, "one conversation only");

  // The agent reloads the console: the conversation is still theirs, with its transcript.
  await agent.reload();
  await agent.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  const mine = agent.locator("[data-testid=queue-mine] [data-testid=queue-item]");
  await mine.waitFor({ state: "visible" });
  assert.equal(await mine.count(), 1);
  await mine.click();
  await waitForConsoleTexts(agent, [...expected, "Found it, thanks"]);
  assert.equal(await agent.locator("[data-testid=presence]").textContent(), "Online");

  // Closing the box is remembered too.
  await visitor.locator("[data-testid=minimize]").click();
  await visitor.goto(stack.base + "/demo/transfer");
  await visitor.locator("[data-testid=launcher]").waitFor({ state: "visible" });

  // An agent message while the box is closed shows an unread badge. It is also the
  // barrier for "stays closed": it reaches the widget after the replayed transcript,
  // so anything that would reopen the box on load has happened by then.
  await agentSend(agent, "Anything else?");
  await waitFor(async () => (await visitor.locator("[data-testid=unread]").textContent()) === "1" && (await visitor.locator("[data-testid=unread]").isVisible()), "unread badge");
  assert.equal(await visitor.locator("[data-testid=panel]").isVisible(), false, "stays closed");
  assert.equal(await visitor.locator("[data-testid=launcher]").getAttribute("aria-expanded"), "false");
  await openWidget(visitor);
  await waitForWidgetTexts(visitor, [...expected, "Found it, thanks", "Anything else?"]);
  assert.equal(await visitor.locator("[data-testid=unread]").isVisible(), false);

  // When the visitor leaves, the agent sees them go offline.
  await visitor.context().close();
  await waitFor(async () => (await agent.locator("[data-testid=presence]").textContent()) === "Offline", "visitor offline", 20000);
  assert.equal(await agent.locator("[data-testid=queue-item] .presence.off").count(), 1);
  assertNoProblems(stack);
});
