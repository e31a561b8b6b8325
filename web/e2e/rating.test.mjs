// The end of a conversation, as the visitor sees it: once it is closed, the
// widget shows a card that asks how it was (five score buttons, an optional
// comment, Send), thanks them with the score given, and offers the transcript
// as a download. The agent sees the rating live in the conversation and in
// History. A German visitor reads the card in German.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { assertAccessible } from "./axe.mjs";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();
const SHOTS = process.env.RATING_SHOTS || "";

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

async function shoot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  for (const [w, h] of [
    [1280, 800],
    [390, 844],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await widget(page, "end-card").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/${name}-${w}x${h}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 860 });
}

async function downloadText(page, locator) {
  const download = page.waitForEvent("download");
  await locator.click();
  const file = await download;
  const chunks = [];
  for await (const c of await file.createReadStream()) chunks.push(c);
  return { name: file.suggestedFilename(), text: Buffer.concat(chunks).toString("utf8") };
}

/** A visitor on the demo page who chatted with the admin, who then closed the conversation. */
async function chatAndClose(visitor, agent, first, reply) {
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, first);
  await waitForWidgetTexts(visitor, [first]);
  await acceptByPreview(agent, first.split(" ").pop());
  await agentSend(agent, reply);
  await waitForWidgetTexts(visitor, [first, reply]);
  await agent.locator("[data-testid=close-conversation]").click();
  await waitFor(async () => (await agent.locator("[data-testid=chat-status]").textContent()) === "closed", "agent sees closed");
  await widget(visitor, "end-card").waitFor({ state: "visible" });
}

test("the visitor rates the closed conversation, the agent sees it, and the transcript downloads", { timeout: 180000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await stack.page("visitor");
  const first = "My parcel never arrived parcelzq";
  await chatAndClose(visitor, agent, first, "I am sorry, it is on its way again.");

  // The card: the question, five named score buttons, nothing pressed, no comment box yet.
  const card = widget(visitor, "end-card");
  assert.equal(await card.locator(".end-q").textContent(), "How was this conversation?");
  const scores = widget(visitor, "rate-score");
  assert.equal(await scores.count(), 5);
  assert.deepEqual(await scores.evaluateAll((els) => els.map((b) => b.getAttribute("aria-label"))), [
    "1 of 5: Very bad",
    "2 of 5: Bad",
    "3 of 5: Okay",
    "4 of 5: Good",
    "5 of 5: Very good",
  ]);
  assert.equal(await widget(visitor, "rate-comment").isVisible(), false);
  assert.equal(await widget(visitor, "hint").textContent(), "Write a message to start a new conversation.");
  await assertAccessible(visitor, "end card");

  // A deliberate choice, then a comment (the visitor's words, markup and all), then Send.
  await scores.nth(3).click();
  assert.equal(await scores.nth(3).getAttribute("aria-pressed"), "true");
  assert.equal(await scores.nth(4).getAttribute("aria-pressed"), "false");
  const comment = "Quick <b>and</b> kind";
  await widget(visitor, "rate-comment").fill(comment);
  await assertAccessible(visitor, "end card with a score chosen");
  await shoot(visitor, "end-card-chosen");
  await widget(visitor, "rate-send").click();

  // Thanks, with the score given (what the server stored).
  const thanks = widget(visitor, "rate-thanks");
  await thanks.waitFor({ state: "visible" });
  assert.match(await thanks.textContent(), /^Thanks for your feedback/);
  assert.equal(await widget(visitor, "rate-given").getAttribute("aria-label"), "You rated 4 of 5");
  assert.equal(await widget(visitor, "rate-given").textContent(), "★★★★☆");
  assert.equal(await scores.first().isVisible(), false, "no second rating offered");
  await assertAccessible(visitor, "end card after rating");
  await shoot(visitor, "end-card-thanks");

  // The agent: live in the conversation, the comment as text.
  const rating = agent.locator("[data-testid=chat-pane] [data-testid=rating]");
  await rating.waitFor({ state: "visible" });
  assert.equal(await rating.getAttribute("data-score"), "4");
  assert.match(await rating.textContent(), /rated the conversation 4 of 5/);
  assert.equal(await rating.locator("[data-testid=rating-comment]").textContent(), comment);
  assert.equal(await rating.locator("b").count(), 0, "the visitor's markup is text");
  await assertAccessible(agent, "console with a rating");
  if (SHOTS) await agent.screenshot({ path: `${SHOTS}/console-rating.png` });

  // And in History: the score in the list and the row in the transcript.
  await agent.locator("[data-testid=nav-history]").click();
  const row = agent.locator("[data-testid=history-item]").first();
  await row.waitFor({ state: "visible" });
  await waitFor(async () => (await row.locator("[data-testid=history-rating] .rating-badge").getAttribute("data-score").catch(() => null)) === "4", "the score in History");
  assert.equal(await row.locator("[data-testid=history-rating] .rating-badge").getAttribute("aria-label"), "Rated 4 of 5");
  await assertAccessible(agent, "History with a rating");
  if (SHOTS) await agent.screenshot({ path: `${SHOTS}/history-rating.png` });
  await row.click();
  const stored = agent.locator("[data-testid=history-transcript] [data-testid=rating]");
  await stored.waitFor({ state: "visible" });
  assert.equal(await stored.locator("[data-testid=rating-comment]").textContent(), comment);

  // The transcript: a file with the conversation's messages and the rating.
  const { name, text } = await downloadText(visitor, widget(visitor, "transcript-download"));
  assert.match(name, /^conversation-\d{4}-\d{2}-\d{2}\.txt$/);
  assert.match(text, /\] You: My parcel never arrived parcelzq\n/);
  assert.match(text, /\] Administrator: I am sorry, it is on its way again\.\n/);
  assert.match(text, /\] You rated the conversation 4 of 5 ★★★★☆: Quick <b>and<\/b> kind\n/);

  // A reload shows the same card, rated (the server's word, not the page's memory).
  await visitor.reload();
  await openWidget(visitor);
  await widget(visitor, "rate-thanks").waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "rate-given").getAttribute("data-score"), "4");

  // Writing again starts a new conversation as before: the card goes.
  await visitorSend(visitor, "One more thing newconvzq");
  await waitForWidgetTexts(visitor, ["One more thing newconvzq"]);
  await waitFor(async () => (await widget(visitor, "end-card").count()) === 0, "the card leaves with the old conversation");
  // Back in the inbox (from History), the agent finds the new conversation waiting.
  await agent.locator("[data-testid=nav-inbox]").click();
  await acceptByPreview(agent, "newconvzq");
  await waitForConsoleTexts(agent, ["One more thing newconvzq"]);
  assertNoProblems(stack);
});

test("a German visitor reads the end card in German; every tab shows the one stored rating", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent-de");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const context = await stack.browser.newContext({ locale: "de-DE", viewport: { width: 390, height: 844 } });
  const visitor = await context.newPage();
  visitor.on("pageerror", (err) => stack.problems.push(`[visitor-de] page error: ${err.message}`));
  await chatAndClose(visitor, agent, "Hallo, mein Paket fehlt paketzq", "Das tut mir leid.");
  const card = widget(visitor, "end-card");
  assert.equal(await card.locator(".end-q").textContent(), "Wie war dieses Gespräch?");
  assert.equal(await widget(visitor, "rate-score").first().getAttribute("aria-label"), "1 von 5: Sehr schlecht");
  assert.equal(await widget(visitor, "transcript-download").textContent(), "Verlauf herunterladen");
  await widget(visitor, "rate-score").nth(1).click();
  assert.equal(await card.locator("label").textContent(), "Möchten Sie noch etwas ergänzen? (optional)");
  await assertAccessible(visitor, "German end card");
  await shoot(visitor, "end-card-de");

  // A comment over the limit cannot be sent, and the counter says so.
  await widget(visitor, "rate-comment").fill("x".repeat(1001));
  assert.equal(await widget(visitor, "rate-send").isDisabled(), true);
  assert.equal(await card.locator(".end-count").textContent(), "1001 / 1000");
  await widget(visitor, "rate-comment").fill("");

  // Another tab of the same visitor rates: the first tab shows that rating.
  const other = await context.newPage();
  await other.goto(stack.base + "/demo");
  await openWidget(other);
  await widget(other, "rate-score").nth(4).click();
  await widget(other, "rate-send").click();
  await widget(other, "rate-thanks").waitFor({ state: "visible" });
  assert.equal(await widget(other, "rate-given").getAttribute("aria-label"), "Ihre Bewertung: 5 von 5");
  // The first tab hears of it and shows the stored rating (5), not its own choice.
  await widget(visitor, "rate-thanks").waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "rate-given").getAttribute("data-score"), "5");
  assert.match(await widget(visitor, "rate-thanks").textContent(), /^Danke für Ihr Feedback/);
  await context.close();
  assertNoProblems(stack);
});
