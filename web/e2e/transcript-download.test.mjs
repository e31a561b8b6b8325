// The transcript as a download, from the console: the agent clicks the download
// button in the conversation's header (and in History) and gets a text file with
// the conversation, the visitor's words verbatim.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitForWidgetTexts } from "./harness.mjs";

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
