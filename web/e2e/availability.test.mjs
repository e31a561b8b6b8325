// Availability, as a visitor and an agent see it: nobody logged in, an agent
// comes online, steps away (remembered across a reload), the visitor leaves an
// e-mail address that the agent sees; and the agent's own colour in the widget.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

const subtitle = (page) => page.locator("[data-testid=subtitle]").textContent();

test("visitors are told when nobody is available and leave an address the agent sees", { timeout: 120000 }, async () => {
  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await waitFor(async () => (await subtitle(visitor)) === "No one is available right now", "nobody logged in");

  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  await waitFor(async () => (await subtitle(visitor)) === "We typically reply in a few minutes", "an agent came online");
  const away = agent.locator("[data-testid=away-toggle]");
  assert.equal(await away.getAttribute("aria-pressed"), "false");
  assert.equal(await away.textContent(), "Available");

  await away.click();
  await waitFor(async () => (await away.getAttribute("aria-pressed")) === "true", "away pressed");
  assert.equal(await away.textContent(), "Away");
  await waitFor(async () => (await subtitle(visitor)) === "No one is available right now", "the agent stepped away");

  // The choice survives a reload of the console, and visitors are not told otherwise meanwhile.
  await agent.reload();
  await waitFor(async () => (await agent.locator("[data-testid=link-state]").getAttribute("data-state")) === "online", "console back online");
  assert.equal(await agent.locator("[data-testid=away-toggle]").getAttribute("aria-pressed"), "true");

  // The visitor writes anyway; the widget offers to take an address.
  await visitorSend(visitor, "Is anyone there? My card is blocked");
  await waitForWidgetTexts(visitor, ["Is anyone there? My card is blocked"]);
  const form = visitor.locator("[data-testid=away]");
  await form.waitFor({ state: "visible" });
  assert.match(await form.textContent(), /Leave your e-mail address/);
  // The browser's own check refuses what is no address; nothing reaches the server.
  await visitor.locator("[data-testid=email]").fill("not an address");
  await visitor.locator("[data-testid=email-save]").click();
  assert.equal(await visitor.locator("[data-testid=email]").evaluate((el) => /** @type {HTMLInputElement} */ (el).validity.valid), false);
  await visitor.locator("[data-testid=email]").fill("vera@example.com");
  await visitor.locator("[data-testid=email-save]").click();
  await waitFor(async () => (await visitor.locator("[data-testid=system]").allTextContents()).includes("We will reply to vera@example.com."), "the widget confirms");
  await form.waitFor({ state: "detached" });

  // The agent sees the address on the waiting conversation, as text.
  const item = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]");
  await item.first().click();
  await waitFor(async () => (await agent.locator("[data-testid=chat-email]").textContent()) === "✉ vera@example.com", "address in the header");
  assert.equal(await agent.locator("[data-testid=chat-email] a").count(), 0, "not a link");

  // The visitor's details: where they are, their browser and what it can do, the address.
  await agent.locator("[data-testid=details-toggle]").click();
  const details = agent.locator("[data-testid=details]");
  await details.waitFor({ state: "visible" });
  assert.match(await details.locator("[data-testid=details-page]").textContent(), /\/demo/);
  assert.match(await details.locator("[data-testid=details-browser]").textContent(), /^Chrome \d+ on Linux$/);
  assert.equal(await details.locator("[data-testid=details-share]").textContent(), "yes");
  assert.match(await details.locator("[data-testid=details-time]").textContent(), /^\d\d:\d\d \(UTC/);
  assert.equal(await details.locator("[data-testid=details-email]").textContent(), "vera@example.com");
  await waitFor(async () => (await details.locator("[data-testid=details-earlier]").textContent()) === "None", "no earlier conversations");
  await agent.locator("[data-testid=details-toggle]").click();
  await details.waitFor({ state: "detached" });

  // Back to available: the widget says so, and the agent's colour shows once they answer.
  await agent.locator("[data-testid=away-toggle]").click();
  await waitFor(async () => (await subtitle(visitor)) !== "No one is available right now", "available again");
  await agent.locator("[data-testid=profile-open]").click();
  await agent.locator("[data-testid=dialog-colour]").selectOption("teal");
  await agent.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => (await agent.locator("[data-testid=me-avatar]").getAttribute("data-colour")) === "teal", "profile saved");
  await acceptByPreview(agent, "Is anyone there? My card is blocked");
  await waitForConsoleTexts(agent, ["Is anyone there? My card is blocked"]);
  await agentSend(agent, "I am here now");
  await waitForWidgetTexts(visitor, ["Is anyone there? My card is blocked", "I am here now"]);
  const avatarColour = () => visitor.locator(".avatar").evaluate((el) => getComputedStyle(el).backgroundColor);
  await waitFor(async () => (await avatarColour()) === "rgb(15, 118, 110)", "the agent's teal in the widget's header");
  assertNoProblems(stack);
});
