// The console's layout for looking at a visitor's screen, and at every width:
// (a) an invitation is a line in the chat header ("Invitation sent · Withdraw"),
//     with no viewer, and Withdraw takes the visitor's prompt away (screen share
//     and co-browsing);
// (b) at 1280×800 during a live share the viewer gets at least 65 % of the width,
//     the chat is a side panel whose composer a notice never covers, the queue is
//     a rail that unfolds, a held frame says "Frozen"; at 1024×768 nothing
//     scrolls sideways; when the share ends the usual layout is back;
// (c) the same 65 % for co-browsing;
// (d) at 900 and 390 px the queue is a drawer (opens; Escape and a click outside
//     close it), and from 320 px up the top bar fits and its buttons are reachable.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible } from "./axe.mjs";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { assertVideoAdvancing, invite, startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);
const byId = (page, id) => page.locator(`[data-testid=${id}]`);

/** The agent at a size, in a fresh conversation with a visitor. */
async function chatAt(width, height, text) {
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text });
  await agent.setViewportSize({ width, height });
  return { agent, visitor };
}

async function box(page, testid) {
  const b = await byId(page, testid).boundingBox();
  assert.ok(b, `${testid} has a box`);
  return b;
}

/** Nothing on the page is wider than the window. */
async function assertNoSideScroll(page, label) {
  const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth, body: document.body.scrollWidth }));
  assert.ok(m.scroll <= m.inner && m.body <= m.inner, `${label}: no horizontal scrollbar (${JSON.stringify(m)})`);
}

/** The top bar's content fits it, and the element at the profile button's centre is that button. */
async function assertTopBarFits(page, label) {
  const bar = await page.locator(".topbar").evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right }));
  assert.ok(bar.scroll <= bar.client, `${label}: the top bar does not overflow (${JSON.stringify(bar)})`);
  const hit = await byId(page, "profile-open").evaluate((btn) => {
    const r = btn.getBoundingClientRect();
    const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return { inside: !!at && btn.contains(at), right: r.right, width: innerWidth };
  });
  assert.ok(hit.inside && hit.right <= hit.width, `${label}: the profile button is on screen and on top (${JSON.stringify(hit)})`);
}

/** The element at the composer's centre is the composer or inside it. */
async function composerUncovered(page) {
  return byId(page, "composer").evaluate((form) => {
    const r = form.getBoundingClientRect();
    const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!at && form.contains(at);
  });
}

test("(a) an invitation shows 'Invitation sent · Withdraw' in the chat header and no viewer; Withdraw takes the prompt away", { timeout: 120000 }, async () => {
  const { agent, visitor } = await chatAt(1280, 800, "layout test a");
  await invite(agent);
  const head = agent.locator("[data-testid=chat-pane] header.chat-head");
  await waitFor(async () => /Invitation sent/.test((await head.textContent()) ?? ""), "the header says the invitation is sent");
  const withdraw = head.locator("[data-testid=share-cancel]");
  assert.equal((await withdraw.textContent())?.trim(), "Withdraw");
  assert.ok(await withdraw.isVisible(), "Withdraw is shown in the header");
  assert.equal(await byId(agent, "share-state").getAttribute("data-state"), "invited");
  assert.ok(await byId(agent, "share-panel").isHidden(), "no share panel before the visitor answers");
  assert.ok(await byId(agent, "share-viewer").isHidden(), "no viewer before the visitor answers");
  await widget(visitor, "share-invite-card").waitFor({ state: "visible" });
  // The panel still has not opened once the visitor has the invitation.
  assert.ok(await byId(agent, "share-viewer").isHidden(), "still no viewer while the visitor decides");
  await assertAccessible(agent, "invitation pending");

  await withdraw.click();
  await widget(visitor, "share-invite-card").waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=transcript] :is([data-share-state=ended], [data-share-state=cancelled])").count()) === 1, "the agent's transcript records the end");
  await waitFor(async () => !/Invitation sent/.test((await head.textContent()) ?? ""), "the header line goes");
  assert.ok(await byId(agent, "share-invite-open").isEnabled(), "the agent may invite again");

  // Co-browsing: the same line, the same Withdraw.
  await byId(agent, "cobrowse-invite").click();
  await byId(agent, "dialog-submit").click();
  await byId(agent, "dialog").waitFor({ state: "detached" });
  await waitFor(async () => /Invitation sent/.test((await head.textContent()) ?? ""), "the header says the co-browsing request is sent");
  assert.equal(await head.locator("[data-testid=cobrowse-state]").getAttribute("data-state"), "asked");
  assert.ok(await byId(agent, "cobrowse-panel").isHidden(), "no co-browsing panel before the visitor answers");
  await widget(visitor, "cobrowse-request").waitFor({ state: "visible" });
  await head.locator("[data-testid=cobrowse-end]").click();
  await widget(visitor, "cobrowse-request").waitFor({ state: "hidden" });
  await waitFor(async () => !/Invitation sent/.test((await head.textContent()) ?? ""), "the header line goes");
  assertNoProblems(stack);
});

test("(b) 1280×800 (and 1920×1080) during a live share: the viewer is the main area, the chat a side panel, the queue a rail", { timeout: 150000 }, async () => {
  const { agent, visitor } = await chatAt(1280, 800, "layout test b");
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await assertVideoAdvancing(agent);

  const viewer = await box(agent, "share-viewer");
  console.log(`viewer at 1280×800: ${Math.round(viewer.width)} px (${((viewer.width / 1280) * 100).toFixed(1)} %)`);
  assert.ok(viewer.width >= 0.65 * 1280, `the viewer gets at least 65 % of the width: ${viewer.width}`);
  assert.ok(viewer.x + viewer.width <= 1280 && viewer.y + viewer.height <= 800, "the viewer is inside the window");
  const chat = await box(agent, "chat-pane");
  assert.ok(await byId(agent, "chat-pane").isVisible(), "the chat is visible");
  assert.ok(chat.width >= 280 && chat.width <= 400, `the chat is a side panel: ${chat.width}`);
  assert.ok(chat.x >= viewer.x + viewer.width - 1, "the chat is beside the viewer, not over it");
  assert.ok(await byId(agent, "composer-input").isVisible(), "the composer is in the side panel");
  assert.ok(await composerUncovered(agent), "nothing covers the composer");
  await assertNoSideScroll(agent, "1280");
  await assertTopBarFits(agent, "1280 while sharing");
  // The toolbar is one row of icon buttons, each with a name and a tooltip.
  const tools = await agent.locator("[data-testid=share-viewer] .sv-bar button").evaluateAll((els) =>
    els.map((b) => ({ id: b.getAttribute("data-testid"), label: b.getAttribute("aria-label") || b.textContent?.trim(), title: b.getAttribute("title"), mid: (b.getBoundingClientRect().top + b.getBoundingClientRect().bottom) / 2 })),
  );
  for (const t of tools) assert.ok(t.label && t.title, `${t.id} has a name and a tooltip`);
  const mids = tools.map((t) => t.mid);
  assert.ok(Math.max(...mids) - Math.min(...mids) < 8, `the viewer's tools fit one row at 1280: ${JSON.stringify(mids)}`);

  // A notice while sharing: above the composer, never over it.
  await byId(agent, "profile-open").click();
  await byId(agent, "dialog-submit").click();
  await byId(agent, "dialog").waitFor({ state: "detached" });
  await byId(agent, "toast").waitFor({ state: "visible" });
  const toast = await box(agent, "toast");
  const composer = await box(agent, "composer");
  assert.ok(toast.y + toast.height <= composer.y, `the notice is above the composer: ${JSON.stringify({ toast, composer })}`);
  assert.ok(await composerUncovered(agent), "the composer is not covered while a notice shows");

  // The queue is a rail of initials (each a button with a tooltip) that unfolds and folds again.
  const rail = await box(agent, "queue");
  assert.ok(rail.width <= 80, `the queue is a rail: ${rail.width}`);
  const item = agent.locator("[data-testid=queue-item]").first();
  assert.ok(await item.isVisible(), "the conversation is in the rail");
  assert.match((await item.getAttribute("title")) ?? "", /Visitor/);
  const nameWidth = () => agent.locator("[data-testid=queue-item] .conv-main").first().evaluate((el) => el.getBoundingClientRect().width);
  assert.ok((await nameWidth()) <= 1, "only initials on the rail (the name is for screen readers)");
  await byId(agent, "queue-rail-toggle").click();
  await waitFor(async () => (await box(agent, "queue")).width >= 280, "the rail unfolds");
  assert.ok((await nameWidth()) > 100, "names in the unfolded queue");
  assert.ok((await box(agent, "share-viewer")).width >= 0.65 * 1280, "the unfolded queue lies over the viewer; the viewer keeps its size");
  await agent.keyboard.press("Escape");
  await waitFor(async () => (await box(agent, "queue")).width <= 80, "Escape folds it again");
  await item.click();
  assert.equal(await item.getAttribute("aria-current"), "true", "a rail item is still a button");

  // A held frame says so on the picture.
  await byId(agent, "share-freeze").click();
  await byId(agent, "share-frozen-badge").waitFor({ state: "visible" });
  assert.match(await byId(agent, "share-frozen-badge").textContent(), /Frozen/);
  await assertAccessible(agent, "live share, frozen, at 1280");
  assert.equal(await byId(agent, "share-freeze").getAttribute("aria-label"), "Back to live");
  await byId(agent, "share-frozen-live").click();
  await byId(agent, "share-frozen-badge").waitFor({ state: "hidden" });
  assert.equal(await byId(agent, "share-viewer").getAttribute("data-frozen"), "false");

  // 1920×1080: the viewer grows with the window, the chat stays a side panel.
  await agent.setViewportSize({ width: 1920, height: 1080 });
  await waitFor(async () => (await box(agent, "share-viewer")).width >= 0.65 * 1920, "the viewer takes most of 1920");
  const wide = await box(agent, "share-viewer");
  console.log(`viewer at 1920×1080: ${Math.round(wide.width)} px (${((wide.width / 1920) * 100).toFixed(1)} %)`);
  assert.ok(wide.x + wide.width <= 1920 && wide.y + wide.height <= 1080, "the viewer is inside the window at 1920");
  const wideChat = await box(agent, "chat-pane");
  assert.ok(wideChat.width >= 280 && wideChat.width <= 480, `the chat is a side panel at 1920: ${wideChat.width}`);
  assert.ok(wideChat.x >= wide.x + wide.width - 1, "the chat is beside the viewer at 1920");
  assert.ok(await composerUncovered(agent), "the composer at 1920");
  await assertNoSideScroll(agent, "1920 while sharing");
  await assertTopBarFits(agent, "1920 while sharing");

  // 1024×768 still fits.
  await agent.setViewportSize({ width: 1024, height: 768 });
  await waitFor(async () => (await box(agent, "share-viewer")).width > 500, "the viewer at 1024");
  await assertNoSideScroll(agent, "1024 while sharing");
  await assertTopBarFits(agent, "1024 while sharing");
  assert.ok(await composerUncovered(agent), "the composer at 1024");
  const c1024 = await box(agent, "composer");
  assert.ok(c1024.x + c1024.width <= 1024 && c1024.y + c1024.height <= 768, "the composer is inside the window at 1024");

  // The share ends: the usual layout is back.
  await agent.setViewportSize({ width: 1280, height: 800 });
  await byId(agent, "share-end").click();
  await byId(agent, "share-panel").waitFor({ state: "hidden" });
  await waitFor(async () => (await box(agent, "queue")).width >= 250, "the queue is a column again");
  assert.ok((await box(agent, "chat-pane")).width >= 700, "the chat is the main area again");
  assertNoProblems(stack);
});

test("(c) 1280×800 while co-browsing: the mirror gets at least 65 % of the width", { timeout: 120000 }, async () => {
  const { agent, visitor } = await chatAt(1280, 800, "layout test c");
  await byId(agent, "cobrowse-invite").click();
  await byId(agent, "dialog-submit").click();
  await byId(agent, "dialog").waitFor({ state: "detached" });
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await byId(agent, "cobrowse-mirror").getAttribute("data-live")) === "true", "the mirror shows the page", 30000);
  const panel = await box(agent, "cobrowse-panel");
  console.log(`co-browsing panel at 1280×800: ${Math.round(panel.width)} px (${((panel.width / 1280) * 100).toFixed(1)} %)`);
  assert.ok(panel.width >= 0.65 * 1280, `the mirror's panel gets at least 65 %: ${panel.width}`);
  assert.ok((await box(agent, "queue")).width <= 80, "the queue is a rail");
  assert.ok(await composerUncovered(agent), "nothing covers the composer");
  await assertNoSideScroll(agent, "co-browsing 1280");
  await assertAccessible(agent, "co-browsing at 1280");
  await byId(agent, "cobrowse-freeze").click();
  await byId(agent, "cobrowse-frozen").waitFor({ state: "visible" });
  await byId(agent, "cobrowse-freeze").click();
  await byId(agent, "cobrowse-frozen").waitFor({ state: "detached" });
  await byId(agent, "cobrowse-end").click();
  await byId(agent, "cobrowse-panel").waitFor({ state: "hidden" });
  await waitFor(async () => (await box(agent, "queue")).width >= 250, "the queue is a column again");
  assertNoProblems(stack);
});

test("(d) below 1024 px the queue is a drawer; the top bar fits from 320 px up", { timeout: 120000 }, async () => {
  const { agent } = await chatAt(1280, 800, "layout test d");
  for (const [width, height] of [
    [900, 800],
    [390, 844],
  ]) {
    const label = `${width} px`;
    await agent.setViewportSize({ width, height });
    await byId(agent, "queue").waitFor({ state: "hidden" });
    await assertNoSideScroll(agent, label);
    await assertTopBarFits(agent, label);
    const open = byId(agent, "queue-drawer-toggle");
    assert.equal(await open.getAttribute("aria-expanded"), "false");
    await open.click();
    await byId(agent, "queue").waitFor({ state: "visible" });
    assert.equal(await open.getAttribute("aria-expanded"), "true");
    const drawer = await box(agent, "queue");
    assert.ok(drawer.x >= 0 && drawer.x + drawer.width <= width, `${label}: the drawer is inside the window`);
    await assertNoSideScroll(agent, `${label}, drawer open`);
    await assertAccessible(agent, `${label}, drawer open`);
    await agent.keyboard.press("Escape");
    await byId(agent, "queue").waitFor({ state: "hidden" });
    // A click outside closes it too.
    await open.click();
    await byId(agent, "queue").waitFor({ state: "visible" });
    await agent.mouse.click(width - 20, height - 200);
    await byId(agent, "queue").waitFor({ state: "hidden" });
    // Choosing a conversation in it closes it.
    await open.click();
    await agent.locator("[data-testid=queue-item]").first().click();
    await byId(agent, "queue").waitFor({ state: "hidden" });
    assert.ok(await byId(agent, "composer-input").isVisible(), `${label}: the conversation is open`);
    assert.ok(await composerUncovered(agent), `${label}: the composer is not covered`);
    // The profile button works.
    await byId(agent, "profile-open").click();
    await byId(agent, "dialog").waitFor({ state: "visible" });
    await agent.keyboard.press("Escape");
    await byId(agent, "dialog").waitFor({ state: "detached" });
  }
  // On a phone the less important actions are behind "More", with their names.
  await byId(agent, "top-more").click();
  await byId(agent, "logout").waitFor({ state: "visible" });
  assert.match(await byId(agent, "logout").textContent(), /Log out/);
  assert.ok(await byId(agent, "change-password").isVisible());
  await assertNoSideScroll(agent, "390 px, menu open");
  await assertAccessible(agent, "390 px, menu open");
  await agent.keyboard.press("Escape");
  await byId(agent, "logout").waitFor({ state: "hidden" });
  // Every width from 320 px up: the top bar fits.
  for (const width of [320, 360, 480, 640, 768, 1024, 1280, 1366, 1440]) {
    await agent.setViewportSize({ width, height: 800 });
    await assertTopBarFits(agent, `${width} px`);
    await assertNoSideScroll(agent, `${width} px`);
  }
  assertNoProblems(stack);
});
