// Opt-in desktop notifications for new visitors: asked from a click, shown only
// while the console's tab is hidden, opening the conversation when clicked; a
// browser that blocks them is explained. Headless Chromium shows no permission
// prompt and no notification, so the page gets a stand-in `Notification` that
// answers the prompt as told and records what would be shown.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

/** @param {NotificationPermission} answer */
function fakeNotifications(answer) {
  window.__notes = [];
  let hidden = false;
  Object.defineProperty(document, "hidden", { get: () => hidden, configurable: true });
  window.__setHidden = (value) => (hidden = value);
  // The browser remembers its answer across reloads.
  let permission = sessionStorage.getItem("test.permission") ?? "default";
  window.Notification = /** @type {typeof Notification} */ (/** @type {unknown} */ (class {
    static get permission() {
      return permission;
    }
    static async requestPermission() {
      permission = answer;
      sessionStorage.setItem("test.permission", answer);
      return permission;
    }
    constructor(title, options) {
      this.title = title;
      this.body = options?.body;
      this.tag = options?.tag;
      window.__notes.push(/** @type {any} */ (this));
    }
    close() {}
  }));
}

async function visitorWrites(label, text) {
  const v = await stack.page(label);
  await v.goto(stack.base + "/demo");
  await openWidget(v);
  await visitorSend(v, text);
  await waitForWidgetTexts(v, [text]);
  return v;
}

test("desktop notifications for new visitors, only while the tab is hidden", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await agent.addInitScript(fakeNotifications, "granted");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const toggle = agent.locator("[data-testid=notify-toggle]");
  assert.equal(await toggle.getAttribute("aria-pressed"), "false", "off until asked for");
  await toggle.click();
  await waitFor(async () => (await toggle.getAttribute("aria-pressed")) === "true", "turned on");

  // In view: the queue shows the visitor, no notification.
  await visitorWrites("visible", "first while looking");
  await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "first while looking" }).waitFor();
  assert.equal(await agent.evaluate(() => window.__notes.length), 0, "no notification while the tab is in view");

  // Hidden: one notification, in words, and its click opens the conversation.
  await agent.evaluate(() => window.__setHidden(true));
  await visitorWrites("hidden", "<b>need help</b> with my order");
  await waitFor(async () => (await agent.evaluate(() => window.__notes.length)) === 1, "a notification");
  const note = await agent.evaluate(() => ({ title: window.__notes[0].title, body: window.__notes[0].body, tag: window.__notes[0].tag }));
  assert.match(note.title, /^New visitor: Visitor \d{4}$/);
  assert.equal(note.body, "<b>need help</b> with my order", "the preview as plain text");
  const id = await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "need help" }).getAttribute("data-id");
  assert.equal(note.tag, `waiting-${id}`);
  await agent.evaluate(() => window.__notes[0].onclick());
  await waitForConsoleTexts(agent, ["<b>need help</b> with my order"]);

  // The choice is kept in this browser, and turned off with the same button.
  await agent.reload();
  await waitFor(async () => (await toggle.getAttribute("aria-pressed")) === "true", "still on after a reload");
  await toggle.click();
  await waitFor(async () => (await toggle.getAttribute("aria-pressed")) === "false", "turned off");
  assertNoProblems(stack);
});

test("a browser that blocks notifications is explained", { timeout: 60000 }, async () => {
  const agent = await stack.page("blocked");
  await agent.addInitScript(fakeNotifications, "denied");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const toggle = agent.locator("[data-testid=notify-toggle]");
  await toggle.click();
  await waitFor(async () => /blocks notifications/.test((await agent.locator("[data-testid=toast]").textContent()) ?? ""), "explained");
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  assert.match(await toggle.getAttribute("title"), /site settings/);
  assertNoProblems(stack);
});
