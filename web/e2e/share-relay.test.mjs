// A screen share forced through TURN: a real coturn on 127.0.0.1 (use-auth-secret),
// the server started with --turn-urls/--turn-secret and --ice-transport-policy relay.
// The agent's video advances, both ends' selected candidate pair is relay/relay, both
// ends say "relayed", and coturn's own log shows the allocations made with the
// credentials minted for this share (username EXPIRY:SHAREID) and media relayed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { agentShareSteps, assertVideoAdvancing, invite, selectedPair, startChat, startCoturn, useShareStack } from "./share-harness.mjs";

const secret = "e2e-" + randomBytes(9).toString("hex");

const stack = useShareStack({
  beforeServer: async (s) => {
    s.coturn = await startCoturn(secret);
  },
  serverEnv: (s) => ({
    SIGHTLINE_TURN_URLS: s.coturn.url,
    SIGHTLINE_TURN_SECRET: secret,
    SIGHTLINE_ICE_TRANSPORT_POLICY: "relay",
  }),
  cleanup: async (s) => {
    if (process.env.E2E_DEBUG && s.coturn) console.log(s.coturn.log());
    await s.coturn?.stop();
  },
});

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** coturn's "usage" lines (written when an allocation closes) for this username. */
function usage(log, username) {
  const esc = username.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`peer usage: realm=<[^>]*>, username=<${esc}>, rp=(\\d+), rb=(\\d+), sp=(\\d+), sb=(\\d+)`, "g");
  return [...log.matchAll(re)].map((m) => ({ rp: +m[1], rb: +m[2], sp: +m[3], sb: +m[4] }));
}

test("relay only: the share goes through coturn with the credentials minted for it", { timeout: 150000 }, async () => {
  const { agent, visitor } = await startChat(stack, { text: "share relay test" });
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await widget(visitor, "share-active").waitFor({ state: "visible" });
  await assertVideoAdvancing(agent, "agent video through TURN", 30000);

  // What the server handed out: relay policy, our coturn, a username ending in the share id.
  const setup = await visitor.evaluate(() => {
    const s = window.__sightlineShare.share;
    return { shareId: s.shareId, policy: s.setup.ice_transport_policy, servers: s.setup.ice_servers };
  });
  assert.equal(setup.policy, "relay");
  const turn = setup.servers.find((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).includes(stack.coturn.url));
  assert.ok(turn, `the TURN server is handed out: ${JSON.stringify(setup.servers)}`);
  assert.ok(setup.shareId, "share id known");
  assert.match(turn.username, /^\d+:/, "username starts with an expiry");
  assert.ok(turn.username.endsWith(":" + setup.shareId), `username ${turn.username} ends with the share id ${setup.shareId}`);
  const expiry = Number(turn.username.split(":")[0]);
  assert.ok(expiry > Date.now() / 1000, "expiry in the future");

  // Both ends: the selected pair is relay on both sides, through coturn's port.
  const pairs = {};
  for (const side of ["visitor", "agent"]) {
    const pair = await waitFor(async () => {
      const p = await selectedPair(side === "visitor" ? visitor : agent, side);
      return p && p.local.type && p.remote.type ? p : false;
    }, `${side}: a selected candidate pair`);
    assert.equal(pair.policy, "relay", `${side}: iceTransportPolicy`);
    assert.equal(pair.state, "succeeded", `${side}: pair state`);
    assert.equal(pair.local.type, "relay", `${side}: local candidate type ${JSON.stringify(pair)}`);
    assert.equal(pair.remote.type, "relay", `${side}: remote candidate type ${JSON.stringify(pair)}`);
    assert.equal(pair.local.address, "127.0.0.1", `${side}: relayed address is coturn's relay-ip`);
    assert.ok(pair.bytesSent + pair.bytesReceived > 10000, `${side}: media on the pair ${JSON.stringify(pair)}`);
    pairs[side] = pair;
    if (pair.local.url) assert.ok(pair.local.url.includes(`127.0.0.1:${stack.coturn.port}`), `${side}: candidate from our coturn: ${pair.local.url}`);
  }

  // Both ends say so.
  await waitFor(async () => (await agent.locator("[data-testid=share-conn]").getAttribute("data-state")) === "relayed", "agent shows relayed");
  await waitFor(async () => (await agent.locator("[data-testid=share-stats]").getAttribute("data-route")) === "relayed", "agent stats route relayed");
  assert.match(await agent.locator("[data-testid=share-conn]").textContent(), /relayed/);
  await waitFor(async () => (await widget(visitor, "share-conn").getAttribute("data-state")) === "relayed", "visitor shows relayed");

  // coturn's side: allocations for exactly the minted username (both ends use it).
  const log = stack.coturn.log();
  const esc = turn.username.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const allocations = log.match(new RegExp(`user <${esc}>: incoming packet ALLOCATE processed, success`, "g")) || [];
  assert.ok(allocations.length >= 2, `coturn allocated for ${turn.username} (visitor and agent): ${allocations.length}`);
  const users = new Set([...log.matchAll(/user <([^>]+)>: incoming packet ALLOCATE processed, success/g)].map((m) => m[1]));
  assert.deepEqual([...users], [turn.username], "no other username allocated");

  // End the share: the allocations are released (Refresh lifetime 0) and coturn
  // reports what it relayed between its relay ports: at least what the visitor's
  // selected pair had sent when we looked.
  await agent.locator("[data-testid=share-end]").click();
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "agent sees ended");
  // An allocation reports its usage when it closes, and there may be more than
  // two (ICE can abandon one early, with no peer data): the first two reports may
  // not include the visitor's. Wait until what is reported covers what the
  // visitor sent, or every allocation has reported (then the check below fails).
  const relayed = await waitFor(
    () => {
      const now = stack.coturn.log();
      const made = (now.match(new RegExp(`user <${esc}>: incoming packet ALLOCATE processed, success`, "g")) || []).length;
      const u = usage(now, turn.username);
      const peerBytes = u.reduce((n, x) => n + x.rb, 0);
      const covered = u.length >= 2 && peerBytes >= pairs.visitor.bytesSent * 0.9;
      return covered || u.length >= Math.max(2, made) ? { sessions: u.length, peerBytes } : false;
    },
    `coturn reports usage for the allocations of ${turn.username}`,
    20000,
  );
  console.log(`coturn relayed ${relayed.peerBytes} bytes between ${relayed.sessions} allocations for ${turn.username}; the visitor's pair had sent ${pairs.visitor.bytesSent}`);
  assert.ok(relayed.peerBytes >= pairs.visitor.bytesSent * 0.9, `coturn relayed ${relayed.peerBytes} bytes, the visitor's pair sent ${pairs.visitor.bytesSent}`);
  assertNoProblems(stack);
});
