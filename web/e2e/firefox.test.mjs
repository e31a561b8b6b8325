// A visitor in Firefox ESR, an agent in Chromium: (a) chat, and the transcript
// after a reload; (b) screen sharing from the Xvfb display: consent, frames at the
// agent, stop, decline; (c) a picture picked with the file chooser; (d) in a
// headful Firefox, the visitor clicks "Block" in Firefox's own share prompt (real
// X clicks), and later requests are refused at once without it: the visitor reads
// how to lift the block, the agent that the browser refused (not that the picker
// was closed); the same after "Always block" and a reload with F5.
//
// Skipped with a message when firefox-esr, Xvfb or xdotool is missing, unless CI is set.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { assertNoProblems } from "./fixture.mjs";
import { acceptByPreview, agentSend, launchBrowser, login, startServer, waitFor, waitForConsoleTexts } from "./harness.mjs";
import { agentShareSteps, hookedPage, invite } from "./share-harness.mjs";
import { clickScreen, firefoxPage, firefoxSkipReason, firefoxWidgetMessages, inWidget, launchFirefox, pressInFirefox, sharePrompt, startXvfb } from "./firefox-harness.mjs";

const skip = firefoxSkipReason();
if (skip) console.log(skip);

/** @type {{ problems: string[], server?: any, base?: string, xvfb?: any, firefox?: any, chromium?: any, agent?: any, visitor?: any, files?: string }} */
const stack = { problems: [] };

if (!skip) {
  before(async () => {
    stack.server = await startServer();
    stack.base = stack.server.url;
    stack.files = mkdtempSync(path.join(os.tmpdir(), "sightline-firefox-"));
    stack.xvfb = await startXvfb();
    [stack.firefox, stack.chromium] = await Promise.all([launchFirefox(stack.xvfb.display), launchBrowser()]);
  });
  after(async () => {
    await stack.firefox?.close().catch(() => {});
    await stack.chromium?.close().catch(() => {});
    await stack.xvfb?.stop();
    if (process.env.E2E_DEBUG && stack.server) console.log(stack.server.logs.join(""));
    await stack.server?.stop();
    if (stack.files) rmSync(stack.files, { recursive: true, force: true });
  });
}

async function openFirefoxWidget(page) {
  const launcher = inWidget(page, "launcher");
  await widgetShows(page, "launcher");
  const expanded = await page.evaluate(() => document.querySelector("[data-sightline]").shadowRoot.querySelector("[data-testid=launcher]").getAttribute("aria-expanded"));
  if (expanded !== "true") await launcher.click();
  await widgetShows(page, "input");
}

async function firefoxSend(page, text) {
  await inWidget(page, "input").fill(text);
  await page.keyboard.press("Enter");
}

/** Waits until the Firefox widget shows exactly these texts, each sent (with a seq), in order. */
async function waitForFirefoxTexts(page, texts) {
  return waitFor(async () => {
    const msgs = await firefoxWidgetMessages(page);
    return msgs.length === texts.length && msgs.every((m, i) => m.seq !== null && m.state === "sent" && m.text === texts[i]) ? msgs : false;
  }, `Firefox widget shows ${JSON.stringify(texts)}; has ${JSON.stringify(await firefoxWidgetMessages(page).catch(() => []))}`);
}

/** Waits until the widget shows an element with this test id (laid out, not hidden). */
async function widgetShows(page, testid, timeout = 15000) {
  await waitFor(
    () => page.evaluate((id) => !!document.querySelector("[data-sightline]")?.shadowRoot?.querySelector(`[data-testid=${id}]`)?.getClientRects().length, testid),
    `the Firefox widget shows ${testid}`,
    timeout,
  );
}

/** Text of a widget element, or null when there is none. */
async function widgetText(page, testid) {
  return page.evaluate((id) => document.querySelector("[data-sightline]")?.shadowRoot?.querySelector(`[data-testid=${id}]`)?.textContent ?? null, testid);
}

/** The agent's video: size, playback position and decoded frames. */
async function agentVideo(agent) {
  return agent.locator("[data-testid=share-video]").evaluate((v) => ({ w: v.videoWidth, h: v.videoHeight, t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames }));
}

/** A visitor in Firefox (a browser context of its own) in a conversation the agent accepted. */
async function firefoxChat(browser, label, text) {
  const visitor = await firefoxPage(browser, label, stack.problems);
  await visitor.goto(stack.base + "/demo");
  await openFirefoxWidget(visitor);
  await firefoxSend(visitor, text);
  await waitForFirefoxTexts(visitor, [text]);
  await acceptByPreview(stack.agent, text);
  return visitor;
}

test("(a) chat: a Firefox visitor writes, the agent answers, a reload keeps the transcript", { skip: skip || false, timeout: 90000 }, async () => {
  const agent = (stack.agent = await hookedPage(stack.chromium, "agent", stack.problems));
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = (stack.visitor = await firefoxChat(stack.firefox, "firefox visitor", "Hello from Firefox"));
  assert.match(await visitor.evaluate(() => navigator.userAgent), /Firefox\/\d+/);
  await waitForConsoleTexts(agent, ["Hello from Firefox"]);
  await agentSend(agent, "Hi! How can I help?");
  await waitForConsoleTexts(agent, ["Hello from Firefox", "Hi! How can I help?"]);
  const before = await waitForFirefoxTexts(visitor, ["Hello from Firefox", "Hi! How can I help?"]);
  assert.deepEqual(
    before.map((m) => m.from),
    ["visitor", "agent"],
  );
  await waitFor(async () => /chatting with/i.test((await widgetText(visitor, "subtitle")) || ""), "subtitle names the agent");

  await visitor.reload();
  await widgetShows(visitor, "input");
  const afterReload = await waitForFirefoxTexts(visitor, ["Hello from Firefox", "Hi! How can I help?"]);
  assert.deepEqual(
    afterReload.map((m) => m.seq),
    before.map((m) => m.seq),
    "the same messages after the reload",
  );
  await firefoxSend(visitor, "Still here after a reload");
  await waitForConsoleTexts(agent, ["Hello from Firefox", "Hi! How can I help?", "Still here after a reload"]);
  assertNoProblems(stack);
});

test("(b) screen sharing from Firefox: consent, frames at the agent, stop, decline", { skip: skip || false, timeout: 90000 }, async () => {
  const { agent, visitor } = stack;
  assert.ok(agent && visitor, "runs after (a)");
  await invite(agent, "Could you show me the page?");
  await widgetShows(visitor, "share-invite-card");
  assert.equal(await widgetText(visitor, "share-invite-text"), "Could you show me the page?");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, "nothing captured before the click");
  await inWidget(visitor, "share-accept").click();

  await widgetShows(visitor, "share-active");
  await waitFor(
    () => visitor.evaluate(() => /** @type {HTMLVideoElement} */ (document.querySelector("[data-sightline]").shadowRoot.querySelector("[data-testid=share-preview]")).videoWidth > 0),
    "the visitor's preview shows the capture",
  );
  // The whole Xvfb screen reaches the agent, decoded and advancing.
  const first = await waitFor(async () => {
    const v = await agentVideo(agent);
    return v.w > 0 && v.frames > 0 ? v : false;
  }, "agent video has frames");
  assert.deepEqual([first.w, first.h], [1280, 800], "the Xvfb screen's size");
  await waitFor(async () => {
    const v = await agentVideo(agent);
    return v.frames >= first.frames + 3 && v.t > first.t + 0.5 ? v : false;
  }, `agent keeps decoding frames (from ${JSON.stringify(first)})`);
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited,accepted,choosing,sharing", "agent transcript: invited→accepted→choosing→sharing");
  await waitFor(async () => (await agent.locator("[data-testid=share-conn]").getAttribute("data-state")) === "direct", "agent shows direct");

  // "Stop sharing" in the Firefox widget.
  await inWidget(visitor, "share-stop").click();
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "agent sees ended");
  assert.match(await agent.locator("[data-testid=transcript] [data-share-state=ended]").last().textContent(), /stopped sharing their screen/);
  await waitFor(async () => agent.locator("[data-testid=share-panel]").isHidden(), "agent viewer closes");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, "capture stopped");
  await waitFor(async () => /Screen sharing ended/.test((await widgetText(visitor, "log")) || ""), "visitor log: ended");

  // Asked again, the visitor declines.
  await invite(agent);
  await widgetShows(visitor, "share-invite-card");
  await inWidget(visitor, "share-decline").click();
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "declined", "agent sees declined");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, "nothing captured");
  assertNoProblems(stack);
});

test("(c) pictures: the Firefox visitor picks a file, the agent gets it", { skip: skip || false, timeout: 90000 }, async () => {
  const { agent, visitor } = stack;
  assert.ok(agent && visitor, "runs after (a)");
  // A 240x160 PNG, orange with a black corner, drawn by the agent's browser.
  const png = await agent.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 240;
    c.height = 160;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#ff8000";
    ctx.fillRect(0, 0, 240, 160);
    ctx.fillStyle = "#000000";
    ctx.fillRect(0, 0, 20, 20);
    return c.toDataURL("image/png").split(",")[1];
  });
  const file = path.join(stack.files, "firefox-picture.png");
  writeFileSync(file, Buffer.from(png, "base64"));
  const [chooser] = await Promise.all([visitor.waitForFileChooser({ timeout: 10000 }), inWidget(visitor, "attach").click()]);
  await chooser.accept([file]);

  const msg = agent.locator("[data-testid=transcript] [data-testid=message][data-from=visitor] [data-testid=image-message]").last();
  await msg.waitFor({ state: "visible" });
  await msg.locator("[data-testid=image-show]").click();
  await msg.locator("[data-testid=image-thumb]").click();
  const full = agent.locator("[data-testid=image-full]");
  await waitFor(() => full.evaluate((i) => i.complete && i.naturalWidth > 0), "the agent's full picture loaded");
  const seen = await full.evaluate((i) => {
    const c = document.createElement("canvas");
    c.width = i.naturalWidth;
    c.height = i.naturalHeight;
    const ctx = c.getContext("2d");
    ctx.drawImage(i, 0, 0);
    return { size: [c.width, c.height], corner: Array.from(ctx.getImageData(5, 5, 1, 1).data), body: Array.from(ctx.getImageData(120, 80, 1, 1).data) };
  });
  assert.deepEqual(seen, { size: [240, 160], corner: [0, 0, 0, 255], body: [255, 128, 0, 255] });
  await agent.locator("[data-testid=image-viewer-close]").click();
  // The visitor sees their own picture in the chat.
  await waitFor(
    () => visitor.evaluate(() => [...document.querySelector("[data-sightline]").shadowRoot.querySelectorAll("[data-testid=image-thumb]")].some((t) => t.getAttribute("data-loaded") === "true")),
    "the visitor sees their picture",
  );
  assertNoProblems(stack);
});

/** The share problem the Firefox widget shows (its data-problem), or null. */
async function widgetProblem(page) {
  return page.evaluate(() => document.querySelector("[data-sightline]")?.shadowRoot?.querySelector("[data-testid=share-problem]")?.getAttribute("data-problem") ?? null);
}

/** How many times the agent's transcript shows this share step. */
async function agentStepCount(agent, step) {
  return (await agentShareSteps(agent)).filter((s) => s === step).length;
}

/**
 * The agent asks to see the screen and the visitor clicks "Share my screen" in the
 * widget. Resolves with the time of that click.
 */
async function askAndConsent(agent, visitor) {
  await invite(agent);
  await widgetShows(visitor, "share-invite-card");
  const clicked = Date.now();
  await inWidget(visitor, "share-accept").click();
  return clicked;
}

/** Firefox's own share prompt, once it is open with its buttons laid out. */
function promptOpens(firefox) {
  return waitFor(async () => {
    const prompt = await sharePrompt(firefox);
    return prompt?.block && prompt.more ? prompt : false;
  }, "Firefox's screen-sharing prompt opens");
}

/**
 * A person reads the prompt before they click in it. The widget takes a refusal
 * sooner than BLOCKED_WITHIN_MS (500 ms, web/src/lib/share-visitor.ts) after the
 * consent click for a standing block; the test's own clicks could be that fast.
 */
async function readPrompt(since) {
  const wait = since + 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** The visitor reloads the page with F5 (the browser's own reload, a real key). */
async function reloadWithF5(display, visitor) {
  const before = await visitor.evaluate(() => performance.timeOrigin);
  await pressInFirefox(display, "F5");
  await waitFor(async () => (await visitor.evaluate(() => performance.timeOrigin).catch(() => before)) !== before, "the page reloads");
  await widgetShows(visitor, "input");
}

/**
 * Asked once more, Firefox refuses at once without showing its prompt: the visitor
 * reads that their browser blocks sharing and how to lift it, the agent that the
 * browser refused (not that the picker was closed).
 */
async function refusedWithoutPrompt(agent, visitor, firefox, label, shot) {
  const failed = await agentStepCount(agent, "failed");
  await askAndConsent(agent, visitor);
  await waitFor(async () => (await widgetProblem(visitor)) === "denied", `${label}: the widget shows a standing block; shows ${await widgetProblem(visitor).catch(() => null)}`);
  assert.equal(await sharePrompt(firefox), null, `${label}: Firefox refused without its prompt`);
  const text = await widgetText(visitor, "share-problem");
  assert.match(text, /Your browser is blocking screen sharing for this site/);
  assert.match(text, /crossed-out screen icon at the start of the address bar/);
  assert.doesNotMatch(text, /closed the picker/);
  await waitFor(async () => (await agentStepCount(agent, "failed")) === failed + 1, `${label}: the agent sees failed`);
  const line = await agent.locator("[data-testid=transcript] [data-share-state=failed]").last().textContent();
  assert.match(line, /the visitor's browser refused without asking them \(screen sharing is blocked for this site\)/);
  assert.doesNotMatch(line, /closed the picker/);
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, `${label}: nothing captured`);
  if (process.env.E2E_SHOTS) {
    await visitor.screenshot({ path: path.join(process.env.E2E_SHOTS, `firefox-blocked-${shot}.png`) });
    stack.xvfb.screenshot(path.join(process.env.E2E_SHOTS, `firefox-blocked-${shot}-screen.png`));
    await agent.screenshot({ path: path.join(process.env.E2E_SHOTS, `firefox-blocked-${shot}-agent.png`) });
  }
}

test("(d) the visitor clicks Block in Firefox's own prompt: later requests are refused without it, the visitor reads how to lift the block, the agent that the browser refused", { skip: skip || false, timeout: 150000 }, async () => {
  assert.ok(stack.agent, "runs after (a)");
  const agent = stack.agent;
  const display = stack.xvfb.display;
  // A Firefox that asks before it shares a screen, as a visitor's does.
  const firefox = await launchFirefox(display, { capture: "prompt" });
  try {
    const visitor = await firefoxChat(firefox, "firefox visitor who blocks", "Firefox asks before sharing");

    // 1. The agent asks, the visitor consents in the widget, Firefox asks in its own
    //    prompt, and the visitor clicks "Block" there.
    let consented = await askAndConsent(agent, visitor);
    const prompt = await promptOpens(firefox);
    assert.match(prompt.text, /to see your screen\?/);
    if (process.env.E2E_SHOTS) stack.xvfb.screenshot(path.join(process.env.E2E_SHOTS, "firefox-share-prompt.png"));
    await readPrompt(consented);
    await clickScreen(display, prompt.block);
    // Firefox refuses this request with the error it gives for every refusal, after
    // the time a person took: the widget cannot tell yet that the refusal will stand.
    await waitFor(async () => (await widgetProblem(visitor)) === "cancelled", "the widget reports the refusal");
    await waitFor(async () => (await agentStepCount(agent, "cancelled")) === 1, "the agent sees it");
    // Both sides name what the visitor may have done: Block is one of them.
    assert.match((await widgetText(visitor, "share-problem")) ?? "", /chose Block/);
    assert.match(await agent.locator("[data-testid=transcript] [data-share-state=cancelled]").last().textContent(), /chose Block/);
    assert.equal(await sharePrompt(firefox), null, "the prompt closed");

    // 2. The block stands: asked again on the same page, Firefox refuses at once.
    await refusedWithoutPrompt(agent, visitor, firefox, "after Block", "after-block");

    // 3. Firefox's "Block" lasts until the visitor reloads the page (the browser's
    //    reload clears it): asked after an F5, the visitor sees the prompt again and
    //    picks "Always block" this time, under the arrow beside "Block".
    await reloadWithF5(display, visitor);
    consented = await askAndConsent(agent, visitor);
    const again = await promptOpens(firefox);
    await readPrompt(consented);
    await clickScreen(display, again.more);
    const menu = await waitFor(async () => (await sharePrompt(firefox))?.alwaysBlock ?? false, "the menu with Always block opens");
    await clickScreen(display, menu);
    await waitFor(async () => (await widgetProblem(visitor)) === "cancelled", "the widget reports the refusal");
    await waitFor(async () => (await agentStepCount(agent, "cancelled")) === 2, "the agent sees it");

    // 4. That block outlives a reload: after another F5, a request is refused at once
    //    with no prompt, and both sides read the same as in 2.
    await reloadWithF5(display, visitor);
    await refusedWithoutPrompt(agent, visitor, firefox, "after Always block and a reload", "after-reload");
    assertNoProblems(stack);
  } finally {
    await firefox.close().catch(() => {});
  }
});
