// (a) A visitor on the demo writes; an agent sees it in the queue, accepts and
// answers (text and a link card); typing shows on both sides; the visitor sees it all.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import {
  acceptByPreview,
  agentSend,
  login,
  openWidget,
  visitorSend,
  waitFor,
  waitForConsoleTexts,
  waitForWidgetTexts,
  widgetMessages,
} from "./harness.mjs";

const stack = useStack();

test("visitor and agent chat through the widget and the console", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  assert.equal(await agent.locator("[data-testid=waiting-count]").textContent(), "0");
  assert.equal(await agent.title(), "Sightline Console");

  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  assert.match(await visitor.title(), /Northwind Bank/);
  // A hostile host stylesheet does not reach into the widget.
  await visitor.addStyleTag({
    content: "* { font-size: 31px !important; color: rgb(255, 0, 0) !important; line-height: 5 !important; font-family: serif !important } div, button, section { all: unset !important; display: block !important; width: 10px !important }",
  });
  await openWidget(visitor);
  const style = await visitor.evaluate(() => {
    const root = document.querySelector("[data-sightline]").shadowRoot;
    const launcher = getComputedStyle(root.querySelector("[data-testid=launcher]"));
    const title = getComputedStyle(root.querySelector(".title"));
    const panel = /** @type {HTMLElement} */ (root.querySelector("[data-testid=panel]"));
    return { launcherWidth: launcher.width, titleSize: title.fontSize, titleColor: title.color, panelWidth: panel.offsetWidth };
  });
  assert.deepEqual(style, { launcherWidth: "58px", titleSize: "15px", titleColor: "rgb(255, 255, 255)", panelWidth: 372 });
  assert.equal(await visitor.locator(".title").textContent(), "Northwind Bank support");
  await visitorSend(visitor, "Hello, my card was declined");
  const first = await waitForWidgetTexts(visitor, ["Hello, my card was declined"]);
  assert.equal(first[0].from, "visitor");
  assert.equal(first[0].seq, 2, "seq 1 is the started event");
  assert.equal(await visitor.locator("[data-testid=input]").inputValue(), "", "composer cleared");

  // The agent is notified: queue count, nav badge, title counter, one beep.
  await waitFor(async () => (await agent.locator("[data-testid=waiting-count]").textContent()) === "1", "waiting count 1");
  assert.equal(await agent.locator("[data-testid=nav-waiting]").textContent(), "1");
  await waitFor(async () => (await agent.title()) === "(1) Sightline Console", "title counter");
  assert.equal(await agent.locator("html").getAttribute("data-notices"), "1");
  const item = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]");
  assert.equal(await item.count(), 1);
  assert.match(await item.locator("[data-testid=queue-preview]").textContent(), /Hello, my card was declined/);

  await acceptByPreview(agent, "Hello, my card was declined");
  assert.equal(await agent.locator("[data-testid=waiting-count]").textContent(), "0");
  assert.equal(await agent.locator("[data-testid=mine-count]").textContent(), "1");
  await waitForConsoleTexts(agent, ["Hello, my card was declined"]);
  await waitFor(async () => (await agent.title()) === "Sightline Console", "title counter cleared");

  // The visitor learns who joined.
  await waitFor(async () => /admin/i.test(await visitor.locator("[data-testid=system]").first().textContent()), "joined line");
  await waitFor(async () => /chatting with/i.test(await visitor.locator("[data-testid=subtitle]").textContent()), "subtitle names the agent");

  // Typing, both ways.
  await visitor.locator("[data-testid=input]").pressSequentially("I was at the", { delay: 20 });
  await waitFor(async () => agent.locator("[data-testid=typing]").isVisible(), "agent sees visitor typing");
  assert.match(await agent.locator("[data-testid=typing]").textContent(), /is typing/);
  await agent.locator("[data-testid=composer-input]").pressSequentially("Let me", { delay: 20 });
  await waitFor(async () => visitor.locator("[data-testid=typing]").isVisible(), "visitor sees agent typing");
  assert.match(await visitor.locator("[data-testid=typing]").textContent(), /is typing…/);
  await visitor.locator("[data-testid=input]").fill("");

  await agentSend(agent, "Hi! I'm looking into it right now.");
  await waitFor(async () => !(await visitor.locator("[data-testid=typing]").isVisible()), "typing ends with the message");
  await agent.locator("[data-testid=link-toggle]").click();
  await agent.locator("[data-testid=link-url]").fill("https://northwind.example/help/cards");
  await agent.locator("[data-testid=link-title]").fill("Card help centre");
  await agent.locator("[data-testid=link-send]").click();

  const msgs = await waitForWidgetTexts(visitor, ["Hello, my card was declined", "Hi! I'm looking into it right now.", "Card help centrenorthwind.example"]);
  assert.deepEqual(
    msgs.map((m) => m.from),
    ["visitor", "agent", "agent"],
  );
  const seqs = msgs.map((m) => m.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in seq order");
  const card = visitor.locator("[data-testid=link-card]");
  assert.equal(await card.getAttribute("href"), "https://northwind.example/help/cards");
  assert.equal(await card.getAttribute("target"), "_blank");
  assert.equal(await card.getAttribute("rel"), "noopener noreferrer");

  // A visitor reply reaches the agent with the same seq as in the widget.
  await visitorSend(visitor, "Thanks!\nIt was at the supermarket.");
  const agentMsgs = await waitForConsoleTexts(agent, [
    "Hello, my card was declined",
    "Hi! I'm looking into it right now.",
    "Card help centrehttps://northwind.example/help/cards",
    "Thanks!\nIt was at the supermarket.",
  ]);
  const visitorMsgs = await widgetMessages(visitor);
  assert.deepEqual(
    agentMsgs.map((m) => m.seq),
    visitorMsgs.map((m) => m.seq),
    "both sides agree on sequence numbers",
  );

  // Closing from the console shows on the widget, which offers a new conversation.
  await agent.locator("[data-testid=close-conversation]").click();
  await waitFor(async () => (await visitor.locator("[data-testid=hint]").textContent()) === "Write a message to start a new conversation.", "start-new hint");
  assert.match(await visitor.locator("[data-testid=system]").last().textContent(), /ended the conversation/);
  await waitFor(async () => (await agent.locator("[data-testid=chat-status]").textContent()) === "closed", "agent sees closed");

  // Writing again starts a new conversation that shows up in the queue.
  await visitorSend(visitor, "One more question");
  await waitForWidgetTexts(visitor, ["One more question"]);
  await waitFor(async () => (await agent.locator("[data-testid=waiting-count]").textContent()) === "1", "new conversation waiting");
  await waitFor(async () => (await agent.locator("html").getAttribute("data-notices")) === "2", "second notice");
  assertNoProblems(stack);
});
