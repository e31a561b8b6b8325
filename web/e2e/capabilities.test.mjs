// Capabilities up front (issue 11, point 4): the console offers what THIS
// visitor's browser can do. (a) A phone visitor (touch, 390×844, no
// getDisplayMedia) makes the console offer "Ask for a screenshot" instead of
// "Ask to see screen", with a tooltip that says why; the agent asks, the visitor
// declines and the agent is told; the agent asks again, the visitor picks a
// picture and it arrives in the agent's chat; a withdrawn request leaves the
// phone at once. (b) A share invitation that reaches the phone offers the picture
// picker instead of a share. (c) The same visitor back on a desktop browser: the
// console offers the screen share again (no stale offer). (d) A desktop visitor
// gets the screen share button. (e) A phone caller on /join (session key): the
// key's invitation offers the picture picker, and a screenshot request shows there.
// E2E_SHOTS=dir saves the console at 1280×800 and the phone at 390×844.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { assertAccessible } from "./axe.mjs";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, login, openWidget, visitorSend, waitFor, waitForWidgetTexts, widgetMessages } from "./harness.mjs";

const stack = useStack();
const SHOTS = process.env.E2E_SHOTS || "";
const state = {};

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);
const tool = (agent, id) => agent.locator(`[data-testid=${id}]`);

/** A page in a context of its own (own storage), failing the test on page errors. */
async function pageIn(contextOptions, label, initScript) {
  const context = await stack.browser.newContext(contextOptions);
  const page = await context.newPage();
  page.on("pageerror", (err) => stack.problems.push(`[${label}] page error: ${err.message}`));
  page.on("dialog", async (d) => {
    stack.problems.push(`[${label}] unexpected dialog: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  await page.addInitScript(() => {
    window.__sightlineTestHooks = true;
  });
  if (initScript) await page.addInitScript(initScript);
  return page;
}

/** A phone: touch, a small screen, and a browser without screen capture. */
const phonePage = () =>
  pageIn({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, "phone", () => {
    delete MediaDevices.prototype.getDisplayMedia;
  });

/** A PNG of a phone's "error screen", drawn by Chromium. */
async function phoneScreenshotPng(page) {
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 390;
    c.height = 844;
    const g = c.getContext("2d");
    g.fillStyle = "#f3f4f6";
    g.fillRect(0, 0, 390, 844);
    g.fillStyle = "#b91c1c";
    g.fillRect(20, 300, 350, 120);
    g.fillStyle = "#fff";
    g.font = "bold 28px sans-serif";
    g.fillText("Error 4711", 120, 370);
    return c.toDataURL("image/png");
  });
  return Buffer.from(dataUrl.split(",")[1], "base64");
}

async function ask(agent, message) {
  await waitFor(async () => (await tool(agent, "screenshot-ask").isVisible()) && !(await tool(agent, "screenshot-ask").isDisabled()), "the agent may ask for a screenshot");
  await tool(agent, "screenshot-ask").click();
  if (message) await agent.locator("[data-testid=dialog-message]").fill(message);
  await agent.locator("[data-testid=dialog-submit]").click();
  await agent.locator("[data-testid=dialog]").waitFor({ state: "detached" });
  await agent.locator("[data-testid=screenshot-state]").waitFor({ state: "visible" });
}

/** The screenshot steps in the agent's transcript, in order. */
const agentSteps = (agent) => agent.locator("[data-testid=transcript] [data-testid=system][data-kind^=screenshot-]").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind").slice("screenshot-".length)));

test("(a) a phone visitor is asked for a screenshot, declines, then sends one", { timeout: 120000 }, async () => {
  const agent = await pageIn({ viewport: { width: 1280, height: 800 } }, "agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const phone = await phonePage();
  await phone.goto(stack.base + "/demo");
  await openWidget(phone);
  await visitorSend(phone, "The app shows an error on my phone");
  await waitForWidgetTexts(phone, ["The app shows an error on my phone"]);
  await acceptByPreview(agent, "The app shows an error on my phone");
  Object.assign(state, { agent, phone });

  // The console offers a screenshot, not a share, and says why.
  await tool(agent, "screenshot-ask").waitFor({ state: "visible" });
  assert.equal(await tool(agent, "share-invite-open").isVisible(), false, "no screen share offered to a phone");
  assert.match(await tool(agent, "screenshot-ask").getAttribute("title"), /phone or tablet, which cannot share its screen/);
  assert.equal(await tool(agent, "screenshot-ask").getAttribute("aria-label"), "Ask for a screenshot");

  // Asked, then declined: the phone's card goes, the agent is told, the header clears.
  await ask(agent, "Could you send me a screenshot of the error?");
  const card = widget(phone, "screenshot-card");
  await card.waitFor({ state: "visible" });
  assert.equal(await widget(phone, "screenshot-text").textContent(), "Could you send me a screenshot of the error?");
  assert.match(await card.textContent(), /Administrator asks for a screenshot/);
  if (SHOTS) await phone.screenshot({ path: path.join(SHOTS, "capabilities-phone-request-390x844.png") });
  await assertAccessible(phone, "phone with a screenshot request");
  await widget(phone, "screenshot-decline").click();
  await card.waitFor({ state: "hidden" });
  await waitFor(async () => JSON.stringify(await agentSteps(agent)) === '["asked","declined"]', "the agent sees the decline");
  assert.match(await agent.locator("[data-testid=transcript] [data-kind=screenshot-declined]").textContent(), /declined to send a screenshot/);
  await agent.locator("[data-testid=screenshot-state]").waitFor({ state: "detached" });

  // Asked again: the visitor picks a picture and it arrives in the agent's chat.
  await ask(agent);
  await card.waitFor({ state: "visible" });
  if (SHOTS) await agent.screenshot({ path: path.join(SHOTS, "capabilities-console-asked-1280x800.png") });
  await assertAccessible(agent, "console with a screenshot request open");
  const chooser = phone.waitForEvent("filechooser");
  await widget(phone, "screenshot-choose").click();
  await (await chooser).setFiles({ name: "screenshot.png", mimeType: "image/png", buffer: await phoneScreenshotPng(phone) });
  const image = agent.locator("[data-testid=transcript] [data-testid=image-message]");
  await image.waitFor({ state: "visible" });
  assert.match(await image.textContent(), /390×844/);
  await waitFor(async () => JSON.stringify(await agentSteps(agent)) === '["asked","declined","asked","sent"]', "the request is answered");
  await card.waitFor({ state: "hidden" });
  await agent.locator("[data-testid=screenshot-state]").waitFor({ state: "detached" });
  await widget(phone, "image-thumb").waitFor({ state: "visible" });

  // A request the agent withdraws leaves the phone at once.
  await ask(agent);
  await card.waitFor({ state: "visible" });
  await agent.locator("[data-testid=screenshot-withdraw]").click();
  await card.waitFor({ state: "hidden" });
  await waitFor(async () => (await agentSteps(agent)).at(-1) === "withdrawn", "withdrawn");
  if (SHOTS) await agent.screenshot({ path: path.join(SHOTS, "capabilities-console-1280x800.png") });
  assertNoProblems(stack);
});

test("(b) a share invitation on the phone offers the picture picker instead", { timeout: 60000 }, async () => {
  const { agent, phone } = state;
  // An invitation sent regardless (e.g. before the device was known).
  assert.ok(await agent.evaluate(() => window.__sightlineAgentShare.shares.invite(window.__sightlineAgentCobrowse.selected() ?? "", null)), "invitation sent");
  const invitation = widget(phone, "share-invite-card");
  await invitation.waitFor({ state: "visible" });
  assert.equal(await invitation.getAttribute("data-alternative"), "screenshot");
  assert.match(await widget(phone, "share-no-capture").textContent(), /This device cannot share its screen/);
  assert.equal(await widget(phone, "share-accept").count(), 0, "no share offered");
  if (SHOTS) await phone.screenshot({ path: path.join(SHOTS, "capabilities-phone-invitation-390x844.png") });
  await assertAccessible(phone, "phone with a share invitation");
  const before = await agent.locator("[data-testid=transcript] [data-testid=image-message]").count();
  const chooser = phone.waitForEvent("filechooser");
  await widget(phone, "share-screenshot").click();
  await (await chooser).setFiles({ name: "screenshot.png", mimeType: "image/png", buffer: await phoneScreenshotPng(phone) });
  await invitation.waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=transcript] [data-testid=image-message]").count()) === before + 1, "the picture arrives");
  const declined = agent.locator("[data-testid=transcript] [data-testid=system][data-share-state=declined]");
  await declined.waitFor({ state: "visible" });
  assert.match(await declined.textContent(), /sent a screenshot instead/);
  // The invitation's header line ("Invitation sent · Withdraw") is gone.
  await waitFor(async () => (await agent.locator("[data-testid=chat-head-status] [data-testid=share-state]").count()) === 0, "no stale invitation in the header");
  assertNoProblems(stack);
});

test("(c) the same visitor back on a desktop browser is offered the screen share", { timeout: 60000 }, async () => {
  const { agent, phone } = state;
  const token = await phone.evaluate(() => localStorage.getItem("sightline.visitor_token"));
  assert.ok(token, "the phone kept a visitor token");
  await phone.close();
  const desktop = await pageIn({ viewport: { width: 1280, height: 800 } }, "desktop", `localStorage.setItem("sightline.visitor_token", ${JSON.stringify(token)})`);
  await desktop.goto(stack.base + "/demo");
  await openWidget(desktop);
  // The conversation comes back (the text, then the pictures sent from the phone).
  await waitFor(async () => (await widgetMessages(desktop)).some((m) => m.text === "The app shows an error on my phone"), "the conversation is back");
  await tool(agent, "share-invite-open").waitFor({ state: "visible" });
  assert.equal(await tool(agent, "screenshot-ask").isVisible(), false, "no stale screenshot offer");
  assert.equal(await tool(agent, "share-invite-open").getAttribute("title"), "Ask the visitor to share their screen");
  await desktop.close();
  assertNoProblems(stack);
});

test("(d) a desktop visitor gets the screen share button", { timeout: 60000 }, async () => {
  const { agent } = state;
  const desktop = await pageIn({ viewport: { width: 1280, height: 800 } }, "desktop visitor");
  await desktop.goto(stack.base + "/demo");
  await openWidget(desktop);
  await visitorSend(desktop, "Hello from my laptop");
  await waitForWidgetTexts(desktop, ["Hello from my laptop"]);
  await acceptByPreview(agent, "Hello from my laptop");
  await tool(agent, "share-invite-open").waitFor({ state: "visible" });
  assert.equal(await tool(agent, "share-invite-open").isDisabled(), false);
  assert.equal(await tool(agent, "screenshot-ask").isVisible(), false);
  assert.equal(await tool(agent, "cobrowse-invite").getAttribute("title"), "Ask the visitor to let you see their page");
  assertNoProblems(stack);
});

test("(e) a phone caller on /join answers a session key's invitation with a picture, then a screenshot request", { timeout: 90000 }, async () => {
  const { agent } = state;
  await agent.locator("[data-testid=share-key-create]").click();
  const key = await waitFor(async () => agent.locator("[data-testid=share-key]").getAttribute("data-key"), "key shown");
  const caller = await phonePage();
  await caller.goto(stack.base + "/join");
  await caller.locator("[data-testid=share-code-input]").fill(key);
  await caller.locator("[data-testid=share-code-submit]").click();
  // The invitation the key carries offers the picture picker, not a share that would fail.
  const invitation = caller.locator("[data-testid=share-invite-card]");
  await invitation.waitFor({ state: "visible" });
  assert.equal(await invitation.getAttribute("data-alternative"), "screenshot");
  assert.equal(await caller.locator("[data-testid=share-accept]").count(), 0, "no share offered");
  await assertAccessible(caller, "/join on a phone with an invitation");
  if (SHOTS) await caller.screenshot({ path: path.join(SHOTS, "capabilities-join-phone-invitation-390x844.png") });
  await agent.locator("[data-testid=share-key-dialog]").waitFor({ state: "detached" });
  const before = await agent.locator("[data-testid=transcript] [data-testid=image-message]").count();
  const chooser = caller.waitForEvent("filechooser");
  await caller.locator("[data-testid=share-screenshot]").click();
  await (await chooser).setFiles({ name: "screenshot.png", mimeType: "image/png", buffer: await phoneScreenshotPng(caller) });
  await invitation.waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=transcript] [data-testid=image-message]").count()) === before + 1, "the picture arrives at the agent");
  await agent.locator("[data-testid=transcript] [data-testid=system][data-share-state=declined]").waitFor({ state: "visible" });
  // The caller sees the picture in the log, as a thumbnail that loaded.
  const thumb = caller.locator("[data-testid=join-thumb]");
  await waitFor(async () => (await thumb.count()) === 1 && (await thumb.getAttribute("data-loaded")) === "true", "the caller's thumbnail loaded");

  // The console knows this caller cannot share: it offers a screenshot request,
  // which shows on /join as a card the caller can decline.
  assert.equal(await tool(agent, "share-invite-open").isVisible(), false, "no screen share offered to the phone caller");
  await ask(agent, "One more, of the settings page please");
  const card = caller.locator("[data-testid=screenshot-card]");
  await card.waitFor({ state: "visible" });
  assert.equal(await caller.locator("[data-testid=screenshot-text]").textContent(), "One more, of the settings page please");
  if (SHOTS) await caller.screenshot({ path: path.join(SHOTS, "capabilities-join-phone-request-390x844.png") });
  await assertAccessible(caller, "/join on a phone with a screenshot request");
  await caller.locator("[data-testid=screenshot-decline]").click();
  await card.waitFor({ state: "hidden" });
  await waitFor(async () => (await agentSteps(agent)).at(-1) === "declined", "the agent sees the decline");
  await caller.close();
  assertNoProblems(stack);
});
