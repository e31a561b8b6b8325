// The transcript as a download, from the console: the agent clicks the download
// button in the conversation's header (and in History) and gets a text file with
// the conversation, the visitor's words verbatim. The visitor downloads theirs
// from the widget's end card, in the widget's language.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

async function downloadText(page, locator) {
  const download = page.waitForEvent("download");
  await locator.click();
  const file = await download;
  const chunks = [];
  for await (const c of await file.createReadStream()) chunks.push(c);
  return { name: file.suggestedFilename(), text: Buffer.concat(chunks).toString("utf8") };
}

test("the agent downloads the transcript from the conversation and from History", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  const first = "My card <b>was</b> declined";
  await visitorSend(visitor, first);
  await waitForWidgetTexts(visitor, [first]);
  await acceptByPreview(agent, "declined");
  await agentSend(agent, "Let me check that for you.");
  await waitForWidgetTexts(visitor, [first, "Let me check that for you."]);

  const { name, text } = await downloadText(agent, agent.locator("[data-testid=chat-pane] [data-testid=transcript-download]"));
  assert.match(name, /^conversation-\d{4}-\d{2}-\d{2}\.txt$/);
  assert.match(text, /^Conversation with /);
  assert.match(text, /\] Visitor: My card <b>was<\/b> declined\n/);
  assert.match(text, /\] Administrator: Let me check that for you\.\n/);

  await agent.locator("[data-testid=nav-history]").click();
  await agent.locator("[data-testid=history-item]").first().click();
  await agent.locator("[data-testid=history-transcript]").waitFor({ state: "visible" });
  const again = await downloadText(agent, agent.locator("[data-testid=history-detail] [data-testid=transcript-download]"));
  assert.equal(again.text, text, "the same file from History");
  assertNoProblems(stack);
});

test("a German visitor downloads the transcript from the end card, in German", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent-de");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const context = await stack.browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 800 } });
  const visitor = await context.newPage();
  visitor.on("pageerror", (err) => stack.problems.push(`[visitor-de] page error: ${err.message}`));
  const asked = [];
  visitor.on("request", (r) => r.url().includes("/api/visitor/transcript") && asked.push(new URL(r.url()).searchParams.get("lang")));
  const widget = (id) => visitor.locator(`[data-sightline] [data-testid=${id}]`);

  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  const first = "Hallo, mein Paket fehlt paketdlzq";
  await visitorSend(visitor, first);
  await waitForWidgetTexts(visitor, [first]);
  await acceptByPreview(agent, "paketdlzq");
  await agentSend(agent, "Das tut mir leid.");
  await waitForWidgetTexts(visitor, [first, "Das tut mir leid."]);
  await agent.locator("[data-testid=close-conversation]").click();
  await widget("end-card").waitFor({ state: "visible" });
  await widget("rate-score").nth(3).click();
  await widget("rate-comment").fill("Sehr nett");
  await widget("rate-send").click();
  await widget("rate-thanks").waitFor({ state: "visible" });
  await waitFor(async () => (await widget("rate-given").getAttribute("data-score").catch(() => null)) === "4", "the rating stored");

  assert.equal(await widget("transcript-download").textContent(), "Verlauf herunterladen");
  const { name, text } = await downloadText(visitor, widget("transcript-download"));
  assert.deepEqual(asked, ["de"], "the widget names its language");
  assert.match(name, /^conversation-\d{4}-\d{2}-\d{2}\.txt$/);
  assert.match(text, /^Unterhaltung mit .+\nBegonnen am \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(/);
  assert.match(text, /\] Sie: Hallo, mein Paket fehlt paketdlzq\n/);
  assert.match(text, /\] Administrator: Das tut mir leid\.\n/);
  assert.match(text, /\] Administrator hat die Unterhaltung beendet\.\n/);
  assert.match(text, /\] Sie haben die Unterhaltung mit 4 von 5 ★★★★☆ bewertet: Sehr nett\n/);
  for (const english of ["Conversation with", "Started", "You", "joined", "ended the", "rated", " of 5"]) {
    assert.ok(!text.includes(english), `${JSON.stringify(english)} in the German copy:\n${text}`);
  }
  await context.close();
  assertNoProblems(stack);
});
