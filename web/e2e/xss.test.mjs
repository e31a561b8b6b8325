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
  }

  // Barrier: one more message each way, rendered after the hostile ones (and their
  // queue previews and notices) on both sides.
  await visitorSend(visitor, "after the visitor's");
  await waitForConsoleTexts(agent, [FROM_VISITOR, FROM_AGENT, "after the visitor's"]);
  await agentSend(agent, "after the agent's");
  await waitForWidgetTexts(visitor, [FROM_VISITOR, FROM_AGENT, "after the visitor's", "after the agent's"]);
  for (const page of [visitor, agent]) {
    // Nowhere on the page (shadow roots included) is there an element with an
    // event-handler attribute, a javascript: URL or a script made of message text.
    const injected = await page.evaluate(() => {
      const found = [];
      const walk = (root) => {
        for (const el of root.querySelectorAll("*")) {
          const bad = [...el.attributes].some((a) => /^on/i.test(a.name) || /^\s*javascript:/i.test(a.value));
          if (bad || (el.tagName === "SCRIPT" && /alert/.test(el.textContent || ""))) found.push(el.outerHTML.slice(0, 120));
          if (el.shadowRoot) walk(el.shadowRoot);
        }
      };
      walk(document);
      return found;
    });
    assert.deepEqual(injected, [], "no injected handlers or scripts");
    // An injected <img src=x onerror=…> would have failed to load by the time a probe
    // requested after it does.
    await page.evaluate(
      () =>
        new Promise((resolve) => {
          const probe = new Image();
          probe.onload = probe.onerror = resolve;
          probe.src = "x?probe";
        }),
    );
    assert.equal(await page.evaluate(() => window.__xss), 0, "no script ran");
  }
  assertNoProblems(stack);
});
