// Screen sharing between the widget and the console over real WebRTC (loopback):
// (a) invite → accept → the agent sees live frames and every step; (b) decline;
// (c) the browser's own stop; (d) the agent ends it; (g) text/motion mode reaches
// the visitor's sender; (i) a standing block (refused at once) told apart from a
// closed picker (refused later), and a browser that cannot capture.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { agentShareSteps, agentVideo, assertVideoAdvancing, invite, startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

test("(a) invite, accept: the agent sees the screen and every step", { timeout: 120000 }, async () => {
  const { agent, visitor } = await startChat(stack, { text: "share test a" });
  // Nothing is captured before the visitor's click.
  assert.equal(await visitor.evaluate(() => typeof window.__sightlineShare), "undefined", "share code not even loaded");
  await invite(agent, "Could you show me the transfer form?");
  await waitFor(async () => (await agent.locator("[data-testid=share-state]").getAttribute("data-state")) === "invited", "agent sees invited");

  const card = widget(visitor, "share-invite-card");
  await card.waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "share-invite-text").textContent(), "Could you show me the transfer form?");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, "no capture before the click");
  await widget(visitor, "share-accept").click();

  await widget(visitor, "share-active").waitFor({ state: "visible" });
  await waitFor(async () => (await widget(visitor, "share-preview").evaluate((v) => v.videoWidth)) > 0, "visitor preview shows the stream");
  const v = await assertVideoAdvancing(agent);
  assert.ok(v.w >= 640 && v.h >= 360, `agent video size ${v.w}x${v.h}`);
  await waitFor(async () => (await agent.locator("[data-testid=share-conn]").getAttribute("data-state")) === "direct", "agent shows direct");
  await waitFor(async () => (await widget(visitor, "share-conn").getAttribute("data-state")) === "direct", "visitor shows direct");
  await waitFor(async () => /\d+×\d+ · \d+ fps/.test(await agent.locator("[data-testid=share-stats]").textContent()), "agent sees live figures");
  await waitFor(async () => (await agent.locator("[data-testid=share-stats]").getAttribute("data-route")) === "direct", "route direct");
  const steps = await waitFor(async () => {
    const s = await agentShareSteps(agent);
    return s.join(",") === "invited,accepted,choosing,sharing" ? s : false;
  }, "agent transcript shows invited→accepted→choosing→sharing");
  assert.deepEqual(steps, ["invited", "accepted", "choosing", "sharing"]);
  assert.match(await agent.locator("[data-testid=transcript] [data-share-state=invited]").textContent(), /asked to see the screen: “Could you show me the transfer form\?”/);
  assert.match(await widget(visitor, "log").textContent(), /You shared your screen/);
  // The agent's connection is receive-only and never captured anything.
  const agentSide = await agent.evaluate(() => {
    const l = [...window.__sightlineAgentShare.shares.live.values()][0];
    return { dirs: l.peer.pc.getTransceivers().map((t) => t.currentDirection), senders: l.peer.pc.getSenders().filter((s) => s.track).length };
  });
  assert.deepEqual(agentSide, { dirs: ["recvonly"], senders: 0 });

  // Zoom, actual size, freeze.
  await agent.locator("[data-testid=share-actual]").click();
  assert.equal(await agent.locator("[data-testid=share-stage]").getAttribute("data-scale"), "1.000");
  await agent.locator("[data-testid=share-zoom-in]").click();
  assert.equal(await agent.locator("[data-testid=share-stage]").getAttribute("data-scale"), "1.250");
  await agent.locator("[data-testid=share-fit]").click();
  assert.equal(await agent.locator("[data-testid=share-stage]").getAttribute("data-fit"), "true");
  await agent.locator("[data-testid=share-freeze]").click();
  assert.equal(await agent.locator("[data-testid=share-viewer]").getAttribute("data-frozen"), "true");
  assert.ok(await agent.locator("[data-testid=share-frozen]").isVisible(), "frozen frame shown");
  await agent.locator("[data-testid=share-freeze]").click();
  assert.equal(await agent.locator("[data-testid=share-viewer]").getAttribute("data-frozen"), "false");

  // "Change what I share": the picker again, same connection, still sharing.
  const pc1 = await visitor.evaluate(() => window.__sightlineShare.pc !== null);
  assert.ok(pc1);
  // It sits under the preview, which opens from the sharing bar.
  await widget(visitor, "share-preview-toggle").click();
  await widget(visitor, "share-change").click();
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited,accepted,choosing,sharing,choosing,sharing", "change: choosing then sharing");
  await assertVideoAdvancing(agent, "after change");
  assertNoProblems(stack);
});

test("(b) decline: the agent sees it, nothing is captured", { timeout: 90000 }, async () => {
  const { agent, visitor } = await startChat(stack, { text: "share test b" });
  await invite(agent);
  await widget(visitor, "share-invite-card").waitFor({ state: "visible" });
  assert.match(await widget(visitor, "share-invite-text").textContent(), /May I see your screen/);
  await widget(visitor, "share-decline").click();
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited,declined", "agent sees declined");
  assert.match(await agent.locator("[data-testid=transcript] [data-share-state=declined]").textContent(), /declined to share their screen/);
  assert.ok(await agent.locator("[data-testid=share-panel]").isHidden(), "no viewer");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, "nothing captured");
  assert.equal(await widget(visitor, "share-invite-card").count(), 0);
  assert.match(await widget(visitor, "log").textContent(), /You declined to share your screen/);
  // The agent may ask again.
  assert.equal(await agent.locator("[data-testid=share-invite-open]").isDisabled(), false);
  assertNoProblems(stack);
});

async function shareLive(text) {
  const { agent, visitor } = await startChat(stack, { text });
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await assertVideoAdvancing(agent);
  return { agent, visitor };
}

test("(c) the browser's own stop is noticed and reported", { timeout: 90000 }, async () => {
  const { agent, visitor } = await shareLive("share test c");
  await visitor.evaluate(() => window.__sightlineShare.endTrack());
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "agent sees ended");
  assert.match(await agent.locator("[data-testid=transcript] [data-share-state=ended]").textContent(), /stopped sharing/);
  await waitFor(async () => agent.locator("[data-testid=share-panel]").isHidden(), "agent viewer closes");
  await waitFor(async () => (await widget(visitor, "share-active").count()) === 0, "visitor preview gone");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.pc), null, "visitor connection closed");
  assert.match(await widget(visitor, "log").textContent(), /Screen sharing ended/);
  assertNoProblems(stack);
});

test("(d) the agent ends the share: the visitor's preview goes away", { timeout: 90000 }, async () => {
  const { agent, visitor } = await shareLive("share test d");
  assert.ok(await widget(visitor, "share-preview").isVisible());
  await agent.locator("[data-testid=share-end]").click();
  await waitFor(async () => (await widget(visitor, "share-active").count()) === 0, "visitor preview gone");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.raw), null, "capture stopped");
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "agent transcript: ended");
  assert.match(await agent.locator("[data-testid=transcript] [data-share-state=ended]").textContent(), /ended the screen share/);
  assert.ok(await agent.locator("[data-testid=share-panel]").isHidden());
  assert.match(await widget(visitor, "log").textContent(), /Screen sharing ended/);
  // The history transcript tells the same story in words.
  const id = await agent.locator("[data-testid=queue-item][aria-current=true]").getAttribute("data-id");
  await agent.goto(stack.base + "/console#/history/" + encodeURIComponent(id));
  const history = agent.locator("[data-testid=history-transcript]");
  await history.waitFor({ state: "visible" });
  const states = await history.locator("[data-share-state]").evaluateAll((els) => els.map((e) => e.getAttribute("data-share-state")));
  assert.deepEqual(states, ["invited", "accepted", "choosing", "sharing", "ended"]);
  assert.match(await history.textContent(), /asked to see the screen.*agreed to share their screen.*is sharing their screen.*ended the screen share/s);
  assertNoProblems(stack);
});

test("(g) text/motion mode reaches the visitor's sender without renegotiation", { timeout: 90000 }, async () => {
  const { agent, visitor } = await shareLive("share test g");
  const read = () =>
    visitor.evaluate(() => {
      const s = window.__sightlineShare;
      const p = s.sender.getParameters();
      return { fps: p.encodings[0].maxFramerate, bitrate: p.encodings[0].maxBitrate, limits: s.share.setup.limits, hint: s.track.contentHint, sdp: s.pc.localDescription.sdp.length };
    });
  const text = await waitFor(async () => {
    const r = await read();
    return r.fps === r.limits.text_fps ? r : false;
  }, "text mode frame rate on the sender");
  assert.equal(text.bitrate, text.limits.max_bitrate_bps, "bitrate cap applied");
  assert.equal(text.hint, "detail");
  assert.equal(await agent.locator("[data-testid=share-mode]").getAttribute("data-mode"), "text");
  await agent.locator("[data-testid=share-mode]").click();
  const motion = await waitFor(async () => {
    const r = await read();
    return r.fps === r.limits.motion_fps ? r : false;
  }, "motion mode frame rate on the sender");
  assert.notEqual(motion.limits.motion_fps, motion.limits.text_fps);
  assert.equal(await agent.locator("[data-testid=share-mode]").getAttribute("data-mode"), "motion");
  await agent.locator("[data-testid=share-mode]").click();
  await waitFor(async () => {
    const r = await read();
    return r.fps === r.limits.text_fps;
  }, "back to text mode");
  await assertVideoAdvancing(agent, "after mode switches");
  const last = await agentVideo(agent);
  assert.ok(last.w > 0);
  assertNoProblems(stack);
});

test("(i) a standing block, the picker dismissed, and a browser without screen capture: steps and words", { timeout: 90000 }, async () => {
  const { agent, visitor } = await startChat(stack, { text: "share test i" });
  // The browser refuses at once, before anyone could see a picker: a standing block.
  await visitor.evaluate(() => {
    navigator.mediaDevices.getDisplayMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
  });
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited,accepted,choosing,failed", "agent sees failed");
  const refused = await agent.locator("[data-testid=transcript] [data-share-state=failed]").textContent();
  assert.match(refused, /Screen sharing failed: the visitor's browser refused without asking them \(screen sharing is blocked for this site\)/);
  assert.doesNotMatch(refused, /closed the picker/);
  assert.equal(await widget(visitor, "share-problem").getAttribute("data-problem"), "denied");
  const blockedText = await widget(visitor, "share-problem").textContent();
  assert.match(blockedText, /Your browser is blocking screen sharing for this site/);
  assert.match(blockedText, /site settings icon at the start of the address bar/, "Chromium's words, not Firefox's");
  if (process.env.E2E_SHOTS) await visitor.screenshot({ path: `${process.env.E2E_SHOTS}/chromium-blocked-share.png` });

  // The visitor closes the picker after a while: the same error, later.
  await visitor.evaluate(() => {
    navigator.mediaDevices.getDisplayMedia = () => new Promise((_, reject) => setTimeout(() => reject(new DOMException("Permission denied", "NotAllowedError")), 1200));
  });
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await waitFor(async () => (await agentShareSteps(agent)).slice(4).join(",") === "invited,accepted,choosing,cancelled", "agent sees cancelled");
  assert.match(await agent.locator("[data-testid=transcript] [data-share-state=cancelled]").textContent(), /closed the picker or chose Block, without sharing/);
  assert.equal(await widget(visitor, "share-problem").getAttribute("data-problem"), "cancelled");
  assert.match(await widget(visitor, "share-problem").textContent(), /closed the picker/);

  // A browser without getDisplayMedia (most phones): the invitation offers a
  // picture instead of a share (capabilities.test.mjs sends one); no thanks
  // declines it.
  await visitor.evaluate(() => {
    delete MediaDevices.prototype.getDisplayMedia;
    delete navigator.mediaDevices.getDisplayMedia;
  });
  await invite(agent);
  const card = widget(visitor, "share-invite-card");
  await card.waitFor({ state: "visible" });
  assert.equal(await card.getAttribute("data-alternative"), "screenshot");
  assert.equal(await widget(visitor, "share-accept").count(), 0, "no share offered");
  assert.match(await widget(visitor, "share-no-capture").textContent(), /This device cannot share its screen/);
  await widget(visitor, "share-decline").click();
  await waitFor(async () => (await agentShareSteps(agent)).slice(8).join(",") === "invited,declined", "agent sees declined");
  assert.match(await widget(visitor, "log").textContent(), /Screen sharing did not start/);
  assertNoProblems(stack);
});
