// The agent shows things on the visitor's page while co-browsing: the pointer
// with the agent's name (on the same spot of the same element whatever the two
// windows' sizes), a ripple on a click, an outline that follows its element as
// the page scrolls. None of it takes the visitor's clicks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();
const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** Where, in the agent's window, a spot of an element of the mirrored page is drawn. */
function inMirrorAt(agent, selector, fx = 0.5, fy = 0.5) {
  return agent.evaluate(
    ([sel, fx, fy]) => {
      const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
      const el = frame?.contentDocument?.querySelector(sel);
      if (!frame || !el) return null;
      const outer = frame.getBoundingClientRect();
      const scale = outer.width / (frame.offsetWidth || outer.width);
      const r = el.getBoundingClientRect();
      return { x: outer.x + (r.x + r.width * fx) * scale, y: outer.y + (r.y + r.height * fy) * scale, scale };
    },
    [selector, fx, fy],
  );
}

/** The agent's pointer on the visitor's page: its tip, its name, and the element under the tip. */
function pointerOnPage(visitor) {
  return visitor.evaluate(() => {
    const root = document.querySelector("[data-sightline]")?.shadowRoot;
    const p = /** @type {HTMLElement | null} */ (root?.querySelector("[data-testid=agent-pointer]") ?? null);
    if (!p || p.hidden) return null;
    const r = p.getBoundingClientRect();
    // The tip is the box's top left corner (the transition may still be moving it).
    const under = document.elementFromPoint(r.left + 1, r.top + 1);
    return { x: r.left, y: r.top, name: p.textContent, under: under?.id || under?.tagName || null };
  });
}

async function coBrowse(viewport) {
  const visitor = await stack.page("visitor");
  await visitor.setViewportSize(viewport);
  const { agent } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: `guide ${viewport.width}`, visitorPage: visitor });
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await waitFor(async () => (await inMirrorAt(agent, "#amount")) !== null, "the form in the mirror");
  // The chat panel folded away, as a visitor does to use the page.
  await widget(visitor, "minimize").click();
  await widget(visitor, "panel").waitFor({ state: "hidden" });
  return { agent, visitor };
}

test("the agent's pointer lands on the same element at two window sizes, pings on a click, and never takes the visitor's clicks", { timeout: 120000 }, async () => {
  const { agent, visitor } = await coBrowse({ width: 1180, height: 800 });
  const onAmount = async () => {
    const at = await inMirrorAt(agent, "#amount", 0.3, 0.5);
    assert.ok(at, "the amount field in the mirror");
    await agent.mouse.move(at.x - 30, at.y - 30);
    await agent.mouse.move(at.x, at.y, { steps: 4 });
    // Settled (it glides) 30 % across the field and halfway down, on the field.
    let p = null;
    await waitFor(async () => {
      p = await pointerOnPage(visitor);
      const f = await visitor.evaluate(() => document.querySelector("#amount").getBoundingClientRect().toJSON());
      return !!p && p.under === "amount" && Math.abs(p.x - (f.x + 0.3 * f.width)) <= 3 && Math.abs(p.y - (f.y + 0.5 * f.height)) <= 3;
    }, "the pointer 30 % across the amount field of the visitor's page");
    return p;
  };
  const wide = await onAmount();
  assert.ok(wide?.name && wide.name.length > 0, "the pointer carries the agent's name");
  // The page moves under a resting pointer (a banner appears above the form):
  // the pointer goes with the field, though the agent's mouse did not move. A
  // pointer placed by page coordinates would stay where the field was.
  await visitor.evaluate(() => {
    const banner = document.createElement("div");
    banner.id = "late-banner";
    banner.style.height = "140px";
    banner.textContent = "Late banner";
    document.querySelector("main").prepend(banner);
  });
  await waitFor(async () => {
    const p = await pointerOnPage(visitor);
    const f = await visitor.evaluate(() => document.querySelector("#amount").getBoundingClientRect().toJSON());
    return !!p && p.under === "amount" && Math.abs(p.x - (f.x + 0.3 * f.width)) <= 3 && Math.abs(p.y - (f.y + 0.5 * f.height)) <= 3 && Math.abs(p.y - wide.y) >= 100;
  }, "the resting pointer followed the field down the page");
  await visitor.evaluate(() => document.querySelector("#late-banner").remove());
  await waitFor(async () => (await agent.evaluate(() => !(/** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe")))?.contentDocument?.querySelector("#late-banner"))) === true, "the banner gone from the mirror");
  const wideField = await visitor.evaluate(() => document.querySelector("#amount").getBoundingClientRect().toJSON());

  // The visitor's window gets much narrower: the page reflows, the field moves;
  // the mirror follows, and the pointer still lands on the field.
  await visitor.setViewportSize({ width: 560, height: 800 });
  await waitFor(async () => Number(await agent.locator("[data-testid=cobrowse-mirror] iframe").evaluate((f) => /** @type {HTMLIFrameElement} */ (f).offsetWidth)) === 560, "the mirror at the visitor's new width");
  const narrowField = await visitor.evaluate(() => document.querySelector("#amount").getBoundingClientRect().toJSON());
  assert.notDeepEqual([Math.round(narrowField.x), Math.round(narrowField.width)], [Math.round(wideField.x), Math.round(wideField.width)], "the field moved or changed size");
  const narrow = await onAmount();
  assert.ok(narrow);
  // The same spot of the field at both sizes, though the field moved: a raw
  // pixel position would have missed it.
  assert.notEqual(Math.round(narrow.x), Math.round(wide.x));

  // The visitor clicks where the pointer is: the field gets the click.
  await visitor.mouse.click(narrow.x + 2, narrow.y + 2);
  assert.equal(await visitor.evaluate(() => document.activeElement?.id), "amount", "the visitor's click went through the pointer");

  // A click on the mirror: a ripple on the visitor's page.
  const payee = await inMirrorAt(agent, "#payee");
  await agent.mouse.click(payee.x, payee.y);
  await widget(visitor, "agent-ping").waitFor({ state: "attached" });
  // Leaving the mirror takes the pointer away.
  await agent.mouse.move(2, 2);
  await waitFor(async () => (await pointerOnPage(visitor)) === null, "the pointer gone from the visitor's page");
  assertNoProblems(stack);
});

test("a highlight outlines an element on the visitor's page and follows it as the page scrolls", { timeout: 120000 }, async () => {
  const { agent, visitor } = await coBrowse({ width: 1000, height: 640 });
  await agent.locator("[data-testid=cobrowse-highlight]").click();
  assert.equal(await agent.locator("[data-testid=cobrowse-highlight]").getAttribute("aria-pressed"), "true");
  const at = await inMirrorAt(agent, "#payee");
  const frameBox = await agent.locator("[data-testid=cobrowse-mirror] iframe").boundingBox();
  assert.ok(at.y < frameBox.y + frameBox.height, "the field is in the visitor's view");
  await agent.mouse.click(at.x, at.y);
  const outline = () =>
    visitor.evaluate(() => {
      const o = /** @type {HTMLElement | null} */ (document.querySelector("[data-sightline]")?.shadowRoot?.querySelector("[data-testid=agent-highlight]") ?? null);
      const f = document.querySelector("#payee").getBoundingClientRect();
      if (!o || o.hidden) return null;
      const r = o.getBoundingClientRect();
      // The outline surrounds the field (4 px out on each side).
      return Math.abs(r.left - (f.left - 4)) <= 1 && Math.abs(r.top - (f.top - 4)) <= 1 && Math.abs(r.width - (f.width + 8)) <= 1 && Math.abs(r.height - (f.height + 8)) <= 1;
    });
  await waitFor(async () => (await outline()) === true, "the outline around the payee field");
  // The visitor scrolls: the outline goes with the field.
  await visitor.evaluate(() => window.scrollBy(0, 120));
  assert.ok((await visitor.evaluate(() => window.scrollY)) > 0, "the page scrolled");
  await waitFor(async () => (await outline()) === true, "the outline still around the field after scrolling");
  // The visitor can still click the field under the outline.
  await visitor.locator("#payee").click();
  assert.equal(await visitor.evaluate(() => document.activeElement?.id), "payee");
  // The same element again takes the outline away.
  const again = await inMirrorAt(agent, "#payee");
  await agent.mouse.click(again.x, again.y);
  await waitFor(async () => (await outline()) === null, "the outline gone");
  assertNoProblems(stack);
});
