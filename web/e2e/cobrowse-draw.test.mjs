// The agent draws on the mirror while co-browsing: lines and arrows appear on
// the visitor's page on the element where each began, scroll with the page,
// fade after a few seconds unless pinned, and never take the visitor's clicks;
// either side clears them for both.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();
const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);
const CONTINUE = "#transfer .actions .btn-primary";

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
      return { x: outer.x + (r.x + r.width * fx) * scale, y: outer.y + (r.y + r.height * fy) * scale, scale, inView: r.bottom > 0 && r.top < frame.offsetHeight };
    },
    [selector, fx, fy],
  );
}

/** The drawings on the visitor's page (in the widget's shadow root), each with its box and paths. */
function visitorStrokes(visitor) {
  return visitor.evaluate(() => {
    const root = document.querySelector("[data-sightline]")?.shadowRoot;
    return [...(root?.querySelectorAll("[data-testid=drawing-stroke]") ?? [])].map((g) => {
      const r = g.getBoundingClientRect();
      return { id: g.getAttribute("data-id"), pinned: g.getAttribute("data-pinned") === "true", box: { left: r.left, top: r.top, right: r.right, bottom: r.bottom }, d: g.querySelector("path")?.getAttribute("d") ?? "" };
    });
  });
}

/** The drawings over the agent's mirror. */
function agentStrokes(agent) {
  return agent.evaluate(() => [...document.querySelectorAll("[data-testid=cobrowse-mirror] [data-testid=drawing-stroke]")].map((g) => ({ id: g.getAttribute("data-id"), pinned: g.getAttribute("data-pinned") === "true" })));
}

const box = (page, selector) => page.evaluate((sel) => document.querySelector(sel).getBoundingClientRect().toJSON(), selector);

async function coBrowse(viewport) {
  const visitor = await stack.page("visitor");
  await visitor.setViewportSize(viewport);
  const { agent } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: `draw ${viewport.width}`, visitorPage: visitor });
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await widget(visitor, "minimize").click();
  await widget(visitor, "panel").waitFor({ state: "hidden" });
  // The visitor brings the form's button into view; the mirror follows.
  await visitor.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: "center" }), CONTINUE);
  await waitFor(async () => (await inMirrorAt(agent, CONTINUE))?.inView === true, "the Continue button in the mirror's view");
  return { agent, visitor };
}

/**
 * A drag across the Continue button, from 10 % to 90 % of its width: with the
 * agent's mouse, or (`touch`) a finger on a touch screen.
 */
async function drawAcrossContinue(agent, { touch = false } = {}) {
  await waitFor(async () => {
    const a = await inMirrorAt(agent, CONTINUE, 0.1, 0.3);
    const b = await inMirrorAt(agent, CONTINUE, 0.9, 0.7);
    await new Promise((r) => setTimeout(r, 150));
    const a2 = await inMirrorAt(agent, CONTINUE, 0.1, 0.3);
    // Still: the mirror has caught up with the visitor's scrolling.
    return a && b && a2 && Math.abs(a.x - a2.x) < 0.5 && Math.abs(a.y - a2.y) < 0.5;
  }, "the mirror at rest");
  const from = await inMirrorAt(agent, CONTINUE, 0.1, 0.3);
  const to = await inMirrorAt(agent, CONTINUE, 0.9, 0.7);
  if (touch) {
    const cdp = await agent.context().newCDPSession(agent);
    const at = (t) => [{ x: from.x + (to.x - from.x) * t, y: from.y + (to.y - from.y) * t, id: 1 }];
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: at(0) });
    for (let i = 1; i <= 12; i++) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: at(i / 12) });
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await cdp.detach();
  } else {
    await agent.mouse.move(from.x, from.y);
    await agent.mouse.down();
    await agent.mouse.move(to.x, to.y, { steps: 12 });
    await agent.mouse.up();
  }
  return { scale: from.scale };
}

test("a line drawn on the mirror lands on the visitor's element, scrolls with the page, lets clicks through and goes with the page", { timeout: 120000 }, async () => {
  const { agent, visitor } = await coBrowse({ width: 1000, height: 700 });
  const draw = agent.locator("[data-testid=cobrowse-draw]");
  await draw.click();
  assert.equal(await draw.getAttribute("aria-pressed"), "true");
  assert.equal(await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-draw"), "true");
  // Pinned, so that it cannot fade while the checks below run on a slow machine
  // (fading is the next test's).
  await agent.locator("[data-testid=cobrowse-draw-pin]").click();

  await drawAcrossContinue(agent);
  // Over the mirror at once, at the mirror's scale.
  assert.equal((await agentStrokes(agent)).length, 1, "the agent sees the line over the mirror");

  // On the visitor's page: from 10 % across the button (30 % down) to 90 % (70 % down).
  const near = async () => {
    const [s] = await visitorStrokes(visitor);
    const b = await box(visitor, CONTINUE);
    if (!s) return null;
    // The line is 4 px wide: its ends lie within a few pixels of the spots.
    const ok =
      Math.abs(s.box.left - (b.left + 0.1 * b.width)) <= 6 &&
      Math.abs(s.box.right - (b.left + 0.9 * b.width)) <= 6 &&
      Math.abs(s.box.top - (b.top + 0.3 * b.height)) <= 6 &&
      Math.abs(s.box.bottom - (b.top + 0.7 * b.height)) <= 6;
    return ok ? { s, b } : null;
  };
  const first = await waitFor(near, "the line across the Continue button of the visitor's page");
  assert.equal(first.s.pinned, true);

  // The visitor scrolls: the line goes with the button.
  const scrolled = await visitor.evaluate(() => {
    const before = window.scrollY;
    window.scrollBy(0, -90);
    return before - window.scrollY;
  });
  assert.ok(scrolled > 40, `the page scrolled (${scrolled} px)`);
  const after = await waitFor(async () => {
    const n = await near();
    return n && Math.abs(n.b.top - first.b.top - scrolled) <= 1 ? n : null;
  }, "the line still across the button after scrolling");
  assert.ok(Math.abs(after.s.box.top - first.s.box.top - scrolled) <= 2, "the line moved with the page");

  // The visitor clicks the button right under the line: the page's handler runs.
  await visitor.evaluate((sel) => {
    const w = /** @type {any} */ (window);
    w.__continueClicks = 0;
    document.querySelector(sel).addEventListener("click", (e) => {
      e.preventDefault();
      w.__continueClicks++;
    });
  }, CONTINUE);
  const b = await box(visitor, CONTINUE);
  const on = { x: b.left + 0.5 * b.width, y: b.top + 0.5 * b.height };
  assert.equal(await visitor.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.matches("#transfer .actions .btn-primary"), on), true, "the button, not the drawing, is under the spot");
  await visitor.mouse.click(on.x, on.y);
  assert.equal(await visitor.evaluate(() => /** @type {any} */ (window).__continueClicks), 1, "the visitor's click went through the line");
  assert.equal((await visitorStrokes(visitor)).length, 1, "the line was there all along");

  // The visitor's window gets narrower: the page reflows and the button moves;
  // the line still starts 10 % across it and 30 % down (it is anchored to the
  // button, not to a place on the screen).
  const wide = await box(visitor, CONTINUE);
  await visitor.setViewportSize({ width: 560, height: 700 });
  await visitor.evaluate((sel) => document.querySelector(sel).scrollIntoView({ block: "center" }), CONTINUE);
  const narrow = await box(visitor, CONTINUE);
  assert.ok(Math.abs(narrow.left - wide.left) > 20, `the button moved (${wide.left} → ${narrow.left})`);
  await waitFor(async () => {
    const [s] = await visitorStrokes(visitor);
    const b = await box(visitor, CONTINUE);
    return s && Math.abs(s.box.left - (b.left + 0.1 * b.width)) <= 6 && Math.abs(s.box.top - (b.top + 0.3 * b.height)) <= 6;
  }, "the line still starting on the button in the narrower window");

  // The visitor loads the page again: the new page has no drawings, and the
  // mirror drops its pinned line too.
  assert.equal((await agentStrokes(agent)).length, 1);
  await visitor.reload();
  await waitFor(async () => (await agentStrokes(agent)).length === 0, "the mirror's line gone with the visitor's old page");
  assert.equal((await visitorStrokes(visitor)).length, 0);
  assertNoProblems(stack);
});

test("a pinned line stays while an unpinned arrow fades; the visitor clears, then the agent clears, on both sides; a long line goes on unbroken", { timeout: 120000 }, async () => {
  const { agent, visitor } = await coBrowse({ width: 1100, height: 760 });
  await agent.locator("[data-testid=cobrowse-draw]").click();
  const pin = agent.locator("[data-testid=cobrowse-draw-pin]");
  const arrow = agent.locator("[data-testid=cobrowse-draw-arrow]");
  await pin.click();
  assert.equal(await pin.getAttribute("aria-pressed"), "true");
  await drawAcrossContinue(agent);
  await waitFor(async () => (await visitorStrokes(visitor)).some((s) => s.pinned), "the pinned line on the visitor's page");

  // Then an arrow, not pinned, drawn after it.
  await pin.click();
  await arrow.click();
  assert.equal(await arrow.getAttribute("aria-pressed"), "true");
  const amount = await inMirrorAt(agent, "#amount", 0.2, 0.5);
  assert.ok(amount?.inView, "the amount field in the mirror's view");
  await agent.mouse.move(amount.x, amount.y + 60);
  await agent.mouse.down();
  await agent.mouse.move(amount.x + 20, amount.y + 30, { steps: 5 });
  await agent.mouse.move(amount.x, amount.y, { steps: 5 });
  await agent.mouse.up();
  const both = await waitFor(async () => {
    const s = await visitorStrokes(visitor);
    return s.length === 2 ? s : null;
  }, "both lines on the visitor's page");
  const arrowStroke = both.find((s) => !s.pinned);
  assert.equal(arrowStroke.d.match(/M/g)?.length, 2, `the arrow's path is its line and its head: ${arrowStroke.d}`);

  // The arrow, drawn later, fades; then the pinned line is still there, on both sides.
  await waitFor(async () => (await visitorStrokes(visitor)).length === 1, "the arrow faded from the visitor's page", 20000);
  assert.deepEqual((await visitorStrokes(visitor)).map((s) => s.pinned), [true]);
  await waitFor(async () => (await agentStrokes(agent)).length === 1, "the arrow faded from the mirror", 20000);
  assert.deepEqual((await agentStrokes(agent)).map((s) => s.pinned), [true]);

  // The visitor clears (the button shows while there are drawings): the agent's mirror clears too.
  await widget(visitor, "visitor-clear-drawings").click();
  assert.equal((await visitorStrokes(visitor)).length, 0);
  await widget(visitor, "visitor-clear-drawings").waitFor({ state: "detached" });
  await waitFor(async () => (await agentStrokes(agent)).length === 0, "the visitor's clear reached the mirror");

  // The agent draws again (pinned), with a finger this time, and clears: the
  // visitor's page clears.
  await arrow.click();
  await pin.click();
  await drawAcrossContinue(agent, { touch: true });
  await waitFor(async () => (await visitorStrokes(visitor)).length === 1, "the new line on the visitor's page");
  await widget(visitor, "visitor-clear-drawings").waitFor({ state: "visible" });
  await agent.locator("[data-testid=cobrowse-clear-drawings]").click();
  assert.equal((await agentStrokes(agent)).length, 0);
  await waitFor(async () => (await visitorStrokes(visitor)).length === 0, "the agent's clear reached the visitor's page");
  await widget(visitor, "visitor-clear-drawings").waitFor({ state: "detached" });

  // A long scribble is more points than one stroke carries: it goes on as a
  // second stroke from where the first ended, with no gap on the visitor's page.
  const start = await inMirrorAt(agent, "#reference", 0.05, 0.5);
  await agent.mouse.move(start.x, start.y);
  await agent.mouse.down();
  for (let i = 1; i <= 320; i++) await agent.mouse.move(start.x + i * 1.2, start.y + (i % 2 ? -12 : 12));
  await agent.mouse.up();
  const ends = await waitFor(
    () =>
      visitor.evaluate(() => {
        const root = document.querySelector("[data-sightline]")?.shadowRoot;
        const paths = [...(root?.querySelectorAll("[data-testid=drawing-stroke]") ?? [])].map((g) => /** @type {SVGPathElement} */ (g.querySelectorAll("path")[1]));
        if (paths.length !== 2) return null;
        const onScreen = (/** @type {SVGPathElement} */ p, /** @type {number} */ at) => {
          const q = p.getPointAtLength(at);
          const m = /** @type {DOMMatrix} */ (p.getScreenCTM());
          return { x: q.x * m.a + q.y * m.c + m.e, y: q.x * m.b + q.y * m.d + m.f };
        };
        return { firstEnd: onScreen(paths[0], paths[0].getTotalLength()), secondStart: onScreen(paths[1], 0), firstPoints: (paths[0].getAttribute("d")?.match(/L/g)?.length ?? 0) + 1 };
      }),
    "the scribble as two strokes on the visitor's page",
  );
  assert.equal(ends.firstPoints, 256, "the first stroke is full (MAX_STROKE_POINTS)");
  assert.ok(Math.hypot(ends.firstEnd.x - ends.secondStart.x, ends.firstEnd.y - ends.secondStart.y) <= 1.5, `the second stroke goes on where the first ended: ${JSON.stringify(ends)}`);
  assertNoProblems(stack);
});
