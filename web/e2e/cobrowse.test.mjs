// Co-browsing between the widget and the console through the relay: the consent
// flow, nothing captured before Allow, typing and DOM changes in the agent's
// mirror, private and password fields never shown, and Stop by either side.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** Runs `fn` in the agent's mirror document (rrweb's sandboxed iframe). */
function inMirror(agent, fn, arg) {
  return agent.evaluate(
    ([source, a]) => {
      const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
      const doc = frame?.contentDocument;
      if (!doc) return null;
      return new Function("doc", "arg", `return (${source})(doc, arg);`)(doc, a);
    },
    [fn.toString(), arg],
  );
}

async function ask(agent, message) {
  await agent.locator("[data-testid=cobrowse-invite]").click();
  if (message !== undefined) await agent.locator("[data-testid=dialog-message]").fill(message);
  await agent.locator("[data-testid=dialog-submit]").click();
  await agent.locator("[data-testid=dialog]").waitFor({ state: "detached" });
}

const agentState = (agent) => agent.locator("[data-testid=cobrowse-state]").getAttribute("data-state");

test("ask, allow: the agent's mirror shows the page, typing and changes live; Stop ends it", { timeout: 120000 }, async () => {
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test a" });
  await ask(agent, "May I look at the transfer form with you?");
  await waitFor(async () => (await agentState(agent)) === "asked", "agent sees asked");

  await widget(visitor, "cobrowse-request").waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "cobrowse-request-text").textContent(), "May I look at the transfer form with you?");
  assert.match(await widget(visitor, "cobrowse-request").textContent(), /Private fields and passwords are never shown/);
  // Nothing is captured before the click.
  assert.deepEqual(await visitor.evaluate(() => ({ capturing: window.__sightlineCobrowse.capturing, bytes: window.__sightlineCobrowse.bytesSent })), { capturing: false, bytes: 0 });
  await widget(visitor, "cobrowse-allow").click();

  const indicator = widget(visitor, "cobrowse-indicator");
  await indicator.waitFor({ state: "visible" });
  assert.match(await indicator.textContent(), /is viewing this page/);
  await waitFor(async () => (await agentState(agent)) === "active", "agent sees active");
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror shows a page");
  await waitFor(async () => /Transfer money|Send money|Transfer/.test((await inMirror(agent, (doc) => doc.body?.textContent ?? "")) ?? ""), "mirror has the page's text");
  assert.match(await agent.locator("[data-testid=cobrowse-url]").textContent(), /\/demo\/transfer$/);

  // Typing into a visible field appears; a private field and the PIN never do.
  await visitor.locator("#payee").fill("Alex Johnson");
  await visitor.locator("#iban").fill("DE44 5001 0517 5407 3249 31");
  await visitor.locator("#pin").fill("735194");
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#payee")?.value)) === "Alex Johnson", "typed text in the mirror");
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#pin")?.value)) === "••••••••", "the PIN as a fixed-length mask");
  const mirrorHtml = await inMirror(agent, (doc) => doc.documentElement.outerHTML);
  assert.doesNotMatch(mirrorHtml, /5407|735194/, "neither the IBAN nor the PIN reached the agent");
  assert.equal(await inMirror(agent, (doc) => doc.querySelector("#iban")), null, "the private field is blocked whole");

  // A DOM change appears.
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "cb-added";
    p.textContent = "Added while co-browsing";
    document.querySelector("main").appendChild(p);
  });
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#cb-added")?.textContent)) === "Added while co-browsing", "DOM change in the mirror");
  // The widget itself is not mirrored.
  const widgetInMirror = await inMirror(agent, (doc) => {
    const host = doc.querySelector("sightline-widget");
    return { text: (host?.textContent ?? "") + (host?.shadowRoot?.textContent ?? ""), nodes: host?.shadowRoot?.childNodes.length ?? 0 };
  });
  assert.deepEqual(widgetInMirror, { text: "", nodes: 0 }, "the widget is an empty box in the mirror");

  // The visitor stops.
  await widget(visitor, "cobrowse-stop").click();
  await indicator.waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-panel]").isHidden()) || (await agentState(agent)) === "ended", "agent sees the end");
  assert.equal(await visitor.evaluate(() => window.__sightlineCobrowse.capturing), false);
  assertNoProblems(stack);
});

test("No thanks: the agent sees the decline and nothing is captured", { timeout: 90000 }, async () => {
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo", text: "cobrowse test b" });
  await ask(agent);
  await widget(visitor, "cobrowse-request").waitFor({ state: "visible" });
  await widget(visitor, "cobrowse-decline").click();
  await widget(visitor, "cobrowse-request").waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-invite]").isEnabled()), "the agent may ask again");
  assert.equal(await visitor.evaluate(() => window.__sightlineCobrowse.bytesSent), 0);
  assert.equal(await widget(visitor, "cobrowse-indicator").isHidden(), true);
  assertNoProblems(stack);
});

test("the agent ends co-browsing: the visitor's indicator goes and capture stops", { timeout: 90000 }, async () => {
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo", text: "cobrowse test c" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror shows a page");
  await agent.locator("[data-testid=cobrowse-end]").click();
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "hidden" });
  await waitFor(async () => (await visitor.evaluate(() => window.__sightlineCobrowse.capturing)) === false, "capture stopped");
  assertNoProblems(stack);
});
