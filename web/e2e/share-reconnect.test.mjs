// (e) The visitor's signaling socket drops (TCP proxy) during a share: the media
// (peer to peer) keeps flowing, the widget reconnects, the share is still live on
// both ends, and an ICE restart through the reconnected signaling works.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { CutProxy, waitFor } from "./harness.mjs";
import { agentShareSteps, agentVideo, assertVideoAdvancing, invite, startChat, useShareStack } from "./share-harness.mjs";

const proxy = new CutProxy();
const stack = useShareStack({
  beforeServer: async () => {
    await proxy.listen();
  },
  allowedOrigins: () => [proxy.origin],
  afterServer: (s) => proxy.setTarget(s.base),
  cleanup: () => proxy.close(),
});

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

test("(e) the share survives a dropped signaling socket", { timeout: 150000 }, async () => {
  const { agent, visitor } = await startChat(stack, { visitorUrl: proxy.origin + "/demo", text: "share over a flaky line" });
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await assertVideoAdvancing(agent);
  await waitFor(async () => (await agent.locator("[data-testid=share-conn]").getAttribute("data-state")) === "direct", "direct before the cut");
  const firstPc = await visitor.evaluate(() => {
    window.__firstPc = window.__sightlineShare.pc;
    return !!window.__firstPc;
  });
  assert.ok(firstPc);

  // Cut the visitor's socket for 3 s. Media is peer to peer: it keeps going.
  const cut = proxy.cut(3000);
  await waitFor(async () => (await widget(visitor, "status").getAttribute("data-state")) === "reconnecting", "visitor sees reconnecting", 10000);
  await assertVideoAdvancing(agent, "during the cut");
  await cut;
  await waitFor(async () => widget(visitor, "status").isHidden(), "visitor back online", 30000);

  // Still the same share and connection; both ends show the connection.
  await assertVideoAdvancing(agent, "after the reconnect");
  assert.equal(await visitor.evaluate(() => window.__sightlineShare.pc === window.__firstPc), true, "same peer connection");
  assert.equal(await widget(visitor, "share-conn").getAttribute("data-state"), "direct");
  assert.equal(await agent.locator("[data-testid=share-conn]").getAttribute("data-state"), "direct");
  assert.equal((await agentShareSteps(agent)).at(-1), "sharing", "share still live");

  // A restart through the reconnected signaling: the agent asks, the visitor's
  // browser builds a new connection, frames flow again.
  await agent.locator("[data-testid=share-restart]").click();
  await waitFor(async () => visitor.evaluate(() => window.__sightlineShare.pc !== null && window.__sightlineShare.pc !== window.__firstPc), "visitor made a new connection");
  await waitFor(async () => (await visitor.evaluate(() => window.__sightlineShare.pc.connectionState)) === "connected", "new connection up");
  await assertVideoAdvancing(agent, "after the restart");
  await waitFor(async () => (await agent.locator("[data-testid=share-conn]").getAttribute("data-state")) === "direct", "agent direct after restart");

  // An ICE restart on the same connection (what the visitor does when it fails).
  const before = await visitor.evaluate(() => {
    const pc = window.__sightlineShare.pc;
    window.__secondPc = pc;
    return pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1];
  });
  await visitor.evaluate(() => window.__sightlineShare.share.peer.restartNow());
  await waitFor(async () => {
    const r = await visitor.evaluate(() => ({ same: window.__sightlineShare.pc === window.__secondPc, ufrag: window.__sightlineShare.pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1], state: window.__sightlineShare.pc.signalingState, conn: window.__sightlineShare.pc.connectionState }));
    return r.same && r.ufrag !== before && r.state === "stable" && r.conn === "connected" ? r : false;
  }, "ICE restarted on the same connection");
  await assertVideoAdvancing(agent, "after the ICE restart");
  const v = await agentVideo(agent);
  assert.ok(v.w > 0);
  assert.ok(proxy.connections >= 2, "the widget really went through the proxy");
  assertNoProblems(stack);
});
