// (d) Text that looks like HTML is shown literally on both sides, never parsed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

const FROM_VISITOR = `<img src=x onerror=alert(1)> <b>bold</b> <script>alert(2)</script>`;
const FROM_AGENT = `<img src=y onerror="alert(3)"><a href="javascript:alert(4)">click</a> &amp; &lt;`;

test("HTML in messages is shown as text", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await visitor.evaluate(() => {
    window.__xss = 0;
    window.alert = () => window.__xss++;
  });
  await agent.evaluate(() => {
    window.__xss = 0;
    window.alert = () => window.__xss++;
  });
  await openWidget(visitor);
  await visitorSend(visitor, FROM_VISITOR);
  await waitForWidgetTexts(visitor, [FROM_VISITOR]);

  // The queue preview shows it literally too.
  const preview = agent.locator("[data-testid=queue-item] [data-testid=queue-preview]").first();
  await preview.waitFor({ state: "visible" });
  assert.equal(await preview.textContent(), FROM_VISITOR);
  await acceptByPreview(agent, "<img src=x");
  await agentSend(agent, FROM_AGENT);
  // A javascript: link is refused by the console before it is sent.
  await agent.locator("[data-testid=link-toggle]").click();
  await agent.locator("[data-testid=link-url]").fill("javascript:alert(5)");
  await agent.locator("[data-testid=link-send]").click();
  assert.equal(await agent.locator("[data-testid=composer-error]").textContent(), "Only http and https links can be sent.");

  await waitForWidgetTexts(visitor, [FROM_VISITOR, FROM_AGENT]);
  await waitForConsoleTexts(agent, [FROM_VISITOR, FROM_AGENT]);

  for (const [page, scope] of [
    [visitor, "[data-sightline] [data-testid=log]"],
    [agent, "[data-testid=transcript]"],
  ]) {
    const log = page.locator(scope);
    assert.equal(await log.locator("img").count(), 0, "no <img> created");
    assert.equal(await log.locator("b").count(), 0, "no <b> created");
    assert.equal(await log.locator("script").count(), 0, "no <script> created");
    assert.equal(await log.locator("a[href^='javascript']").count(), 0, "no javascript: link");
    const texts = await log.locator("[data-testid=message-text]").allTextContents();
    assert.deepEqual(texts, [FROM_VISITOR, FROM_AGENT]);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.__xss), 0, "no script ran");
  }
  assertNoProblems(stack);
});
