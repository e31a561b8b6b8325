// Accessibility: axe-core (WCAG 2 A and AA rules) finds nothing serious or critical
// on the widget, the console and /join, at a desktop size and, for what visitors
// use, at a phone's; the live regions a screen reader follows have names; and on a
// touch screen every text field is at least 16 px, so that iOS does not zoom in.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible } from "./axe.mjs";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** A page of its own context, failing the test on page errors like `stack.page`. */
async function pageAt(label, viewport, options = {}) {
  const context = await stack.browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  page.on("pageerror", (err) => stack.problems.push(`[${label}] page error: ${err.message}`));
  page.on("dialog", async (dialog) => {
    stack.problems.push(`[${label}] unexpected dialog: ${dialog.type()} ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  return page;
}

/** The live regions on the page (the widget's shadow root included), with their names. */
async function liveRegions(page) {
  return page.evaluate(() => {
    const roots = [document, ...Array.from(document.querySelectorAll("sightline-widget"), (h) => /** @type {ShadowRoot} */ (h.shadowRoot))];
    return roots.flatMap((root) =>
      Array.from(root.querySelectorAll('[role=log], [role=status], [role=alert], [aria-live]'), (el) => {
        const by = el.getAttribute("aria-labelledby");
        const named = by ? by.split(/\s+/).map((id) => /** @type {Document | ShadowRoot} */ (el.getRootNode()).getElementById?.(id)?.textContent?.trim() ?? "").join(" ") : "";
        return {
          testid: el.getAttribute("data-testid"),
          role: el.getAttribute("role"),
          live: el.getAttribute("aria-live") ?? (el.getAttribute("role") === "log" || el.getAttribute("role") === "status" ? "implicit" : null),
          name: (el.getAttribute("aria-label") ?? "").trim() || named,
        };
      }),
    );
  });
}

/** Asserts that the region `testid` exists with this role and a name. */
function assertNamedRegion(regions, testid, role) {
  const r = regions.find((x) => x.testid === testid);
  assert.ok(r, `a live region [data-testid=${testid}] exists; found ${JSON.stringify(regions)}`);
  assert.equal(r.role, role, `[data-testid=${testid}] has role ${role}`);
  assert.ok(r.name, `[data-testid=${testid}] has an accessible name`);
}

test("the widget: closed, waiting, chatting, on a desktop and on a phone", { timeout: 180000 }, async () => {
  const agent = await pageAt("agent", DESKTOP);
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    const visitor = await pageAt(`visitor-${size}`, viewport);
    await visitor.goto(stack.base + "/demo");
    await visitor.locator("[data-testid=launcher]").waitFor({ state: "visible" });
    await assertAccessible(visitor, `widget closed, ${size}`);

    await openWidget(visitor);
    const first = `Hello from the ${size}`;
    await visitorSend(visitor, first);
    await waitForWidgetTexts(visitor, [first]);
    await visitor.locator("[data-sightline] [data-testid=hint]").waitFor({ state: "visible" });
    await assertAccessible(visitor, `widget waiting, ${size}`);

    await acceptByPreview(agent, first);
    await agentSend(agent, "Hi! How can I help?");
    await visitorSend(visitor, "My order has not arrived.");
    await agentSend(agent, "Let me look: https://example.com/orders");
    await waitForWidgetTexts(visitor, [first, "Hi! How can I help?", "My order has not arrived.", "Let me look: https://example.com/orders"]);
    await assertAccessible(visitor, `widget chatting, ${size}`);

    const regions = await liveRegions(visitor);
    assertNamedRegion(regions, "log", "log");
    assertNamedRegion(regions, "status", "status");
    await visitor.context().close();
  }
  assertNoProblems(stack);
});

test("the console: login, inbox, admin, install, profile", { timeout: 180000 }, async () => {
  const agent = await pageAt("agent", DESKTOP);
  await agent.goto(stack.base + "/console");
  await agent.locator("[data-testid=login-name]").waitFor({ state: "visible" });
  await assertAccessible(agent, "console login");
  await agent.locator("[data-testid=login-name]").fill("admin");
  await agent.locator("[data-testid=login-password]").fill("not the password");
  await agent.locator("[data-testid=login-submit]").click();
  await agent.locator("[data-testid=login-error]").waitFor({ state: "visible" });
  await assertAccessible(agent, "console login, refused");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  // One conversation waiting, one active and open.
  const one = await pageAt("visitor-one", DESKTOP);
  const two = await pageAt("visitor-two", DESKTOP);
  for (const [v, text] of [[one, "I need help with an invoice"], [two, "Where is my parcel?"]]) {
    await v.goto(stack.base + "/demo");
    await openWidget(v);
    await visitorSend(v, text);
    await waitForWidgetTexts(v, [text]);
  }
  await acceptByPreview(agent, "Where is my parcel?");
  await agentSend(agent, "Let me check.");
  await waitForConsoleTexts(agent, ["Where is my parcel?", "Let me check."]);
  await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "invoice" }).waitFor();
  await assertAccessible(agent, "console inbox");
  const regions = await liveRegions(agent);
  assertNamedRegion(regions, "transcript", "log");
  assertNamedRegion(regions, "queue-announcer", "status");
  assertNamedRegion(regions, "toast", "status");
  assertNamedRegion(regions, "link-state", "status");
  await waitFor(async () => /waiting/i.test((await agent.locator("[data-testid=queue-announcer]").textContent()) ?? ""), "the queue announced the waiting visitor");

  // The waiting one, selected.
  await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "invoice" }).click();
  await agent.locator("[data-testid=accept]").waitFor({ state: "visible" });
  await assertAccessible(agent, "console inbox, waiting selected");

  await agent.locator("[data-testid=nav-admin]").click();
  await agent.locator("[data-testid=user-row]").first().waitFor({ state: "visible" });
  await assertAccessible(agent, "console admin");

  await agent.locator("[data-testid=nav-install]").click();
  await agent.locator("[data-testid=install-snippet]").waitFor({ state: "visible" });
  await assertAccessible(agent, "console install");

  await agent.locator("[data-testid=profile-open]").click();
  await agent.locator("[data-testid=dialog]").waitFor({ state: "visible" });
  await assertAccessible(agent, "console profile dialog");
  assertNoProblems(stack);
});

test("/join, on a desktop and on a phone", { timeout: 60000 }, async () => {
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    const caller = await pageAt(`join-${size}`, viewport);
    await caller.goto(stack.base + "/join");
    await caller.locator("[data-testid=share-code-input]").waitFor({ state: "visible" });
    await assertAccessible(caller, `join, ${size}`);
    // A wrong code: the error is shown, and still nothing serious.
    await caller.locator("[data-testid=share-code-input]").fill("000000000");
    await caller.locator("[data-testid=share-code-submit]").click();
    await waitFor(async () => /wrong or has expired/.test((await caller.locator("[data-testid=share-code-error]").textContent()) ?? ""), "wrong code message");
    await assertAccessible(caller, `join with an error, ${size}`);
    const regions = await liveRegions(caller);
    assertNamedRegion(regions, "join-status", "status");
    assertNamedRegion(regions, "join-log", "log");
    await caller.context().close();
  }

  // With a session key: the conversation's lines and the invitation.
  const agent = await pageAt("join-agent", DESKTOP);
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  await agent.locator("[data-testid=share-key-create]").click();
  const key = await waitFor(async () => agent.locator("[data-testid=share-key]").getAttribute("data-key"), "key shown");
  await assertAccessible(agent, "console session key dialog");
  const caller = await pageAt("join-phone", PHONE);
  await caller.goto(stack.base + "/join");
  await caller.locator("[data-testid=share-code-input]").fill(key);
  await caller.locator("[data-testid=share-code-submit]").click();
  await caller.locator("[data-testid=share-invite-card]").waitFor({ state: "visible" });
  await waitFor(async () => /connected with/.test((await caller.locator("[data-testid=join-log]").textContent()) ?? ""), "the log has a line");
  await assertAccessible(caller, "join, invited, phone");
  await caller.context().close();
  await agent.context().close();
  assertNoProblems(stack);
});

test("on a touch screen, text fields are 16 px or more (no zoom on focus)", { timeout: 90000 }, async () => {
  const touch = { hasTouch: true, isMobile: true, deviceScaleFactor: 3 };
  /** The computed font size of each field the locator finds, after checking the media query matches. */
  const sizes = async (page, selector) => {
    assert.equal(await page.evaluate(() => matchMedia("(pointer: coarse)").matches), true, "the emulated touch screen is a coarse pointer");
    return page.locator(selector).evaluateAll((els) => els.map((el) => ({ el: el.getAttribute("data-testid") || el.tagName, px: parseFloat(getComputedStyle(el).fontSize) })));
  };
  const assertLarge = (found, what) => {
    assert.ok(found.length > 0, `${what}: fields found`);
    for (const f of found) assert.ok(f.px >= 16, `${what}: ${f.el} is ${f.px}px, under 16px`);
  };

  const visitor = await pageAt("touch-visitor", PHONE, touch);
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  assertLarge(await sizes(visitor, "[data-sightline] [data-testid=input]"), "widget composer");
  await visitor.context().close();

  const agent = await pageAt("touch-agent", PHONE, touch);
  await agent.goto(stack.base + "/console");
  await agent.locator("[data-testid=login-name]").waitFor({ state: "visible" });
  assertLarge(await sizes(agent, "input:not([type=checkbox]):not([type=radio]), textarea, select"), "console login");
  await agent.context().close();

  // The console past its login is laid out for a larger screen than a phone's: a tablet.
  const tablet = await pageAt("touch-tablet", { width: 1024, height: 1366 }, touch);
  await login(tablet, stack.base, "admin", stack.server.adminPassword);
  await tablet.locator("[data-testid=profile-open]").click();
  await tablet.locator("[data-testid=dialog]").waitFor({ state: "visible" });
  assertLarge(await sizes(tablet, "[data-testid=dialog] :is(input, textarea, select)"), "console profile dialog");
  await tablet.keyboard.press("Escape");
  await tablet.locator("[data-testid=dialog]").waitFor({ state: "detached" });
  const fields = "input:not([type=checkbox], [type=radio], [type=color], [type=file], [type=hidden]), textarea, select";
  assertLarge(await sizes(tablet, fields), "console inbox");
  for (const [nav, ready] of [["nav-history", "history-search"], ["nav-admin", "user-add-name"], ["nav-install", "site-origin-input"]]) {
    await tablet.locator(`[data-testid=${nav}]`).click();
    await tablet.locator(`[data-testid=${ready}]`).waitFor({ state: "visible" });
    assertLarge(await sizes(tablet, fields), `console ${nav}`);
  }
  await tablet.context().close();

  const caller = await pageAt("touch-join", PHONE, touch);
  await caller.goto(stack.base + "/join");
  await caller.locator("[data-testid=share-code-input]").waitFor({ state: "visible" });
  assertLarge(await sizes(caller, "input, textarea, select"), "/join");
  await caller.context().close();

  // With a mouse the fields keep their designed size.
  const desk = await pageAt("desk-visitor", DESKTOP);
  await desk.goto(stack.base + "/demo");
  assert.equal(await desk.evaluate(() => matchMedia("(pointer: coarse)").matches), false, "a desktop has a fine pointer");
  await openWidget(desk);
  assert.equal(await desk.locator("[data-sightline] [data-testid=input]").evaluate((el) => getComputedStyle(el).fontSize), "14px");
  await desk.goto(stack.base + "/join");
  assert.equal(await desk.locator("[data-testid=join-input]").evaluate((el) => getComputedStyle(el).fontSize), "15px");
  await desk.context().close();
  assertNoProblems(stack);
});
