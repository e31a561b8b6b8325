// Helpers for the screen-sharing browser tests: Chromium with fake media (a
// synthetic 1280x720 "Entire screen" for getDisplayMedia, no picker), or with
// current-tab capture auto-accepted (for masking), and pages with the test hooks on.

import { after, before } from "node:test";
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM_PATH, acceptByPreview, login, newPage, openWidget, startServer, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";

const BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Chromium for share tests. `capture: "screen"` answers getDisplayMedia with a fake
 * screen; `capture: "tab"` auto-accepts sharing the current tab (preferCurrentTab).
 */
export async function launchShareBrowser({ capture = "screen" } = {}) {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);
  const media =
    capture === "tab"
      ? ["--auto-accept-this-tab-capture", "--use-fake-device-for-media-stream"]
      : ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--auto-select-desktop-capture-source=Entire screen"];
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...BASE_ARGS, ...media] });
}

/** A page with the share test hooks (window.__sightlineShare / __sightlineAgentShare). */
export async function hookedPage(browser, label, problems) {
  const page = await newPage(browser, label, problems);
  await page.addInitScript(() => {
    window.__sightlineTestHooks = true;
  });
  return page;
}

/** Like fixture.useStack, with the share browser. */
export function useShareStack(options = {}) {
  const stack = { problems: [] };
  before(async () => {
    if (options.beforeServer) await options.beforeServer(stack);
    stack.server = await startServer({
      allowedOrigins: options.allowedOrigins ? options.allowedOrigins(stack) : [],
      env: options.serverEnv ? options.serverEnv(stack) : {},
      config: options.serverConfig || "",
    });
    stack.base = stack.server.url;
    stack.browser = await launchShareBrowser();
    stack.page = (label) => hookedPage(stack.browser, label, stack.problems);
    if (options.afterServer) await options.afterServer(stack);
  });
  after(async () => {
    await stack.browser?.close().catch(() => {});
    if (options.cleanup) await options.cleanup(stack);
    if (process.env.E2E_DEBUG && stack.server) console.log(stack.server.logs.join(""));
    await stack.server?.stop();
  });
  return stack;
}

/**
 * An agent logged in and a visitor (on `visitorUrl`) in an accepted conversation.
 * @param stack what useShareStack returned
 * @param {{ visitorUrl?: string, text?: string, visitorPage?: import("playwright-core").Page, agentPage?: import("playwright-core").Page }} [options]
 */
export async function startChat(stack, { visitorUrl, text, visitorPage, agentPage } = {}) {
  const agent = agentPage || (await stack.page("agent"));
  if (!agentPage) await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = visitorPage || (await stack.page("visitor"));
  await visitor.goto(visitorUrl || stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, text);
  await waitForWidgetTexts(visitor, [text]);
  await acceptByPreview(agent, text);
  return { agent, visitor };
}

/** The agent asks to see the screen (optionally with its own text). */
export async function invite(agent, message) {
  await agent.locator("[data-testid=share-invite-open]").click();
  if (message !== undefined) await agent.locator("[data-testid=dialog-message]").fill(message);
  await agent.locator("[data-testid=dialog-submit]").click();
  await agent.locator("[data-testid=dialog]").waitFor({ state: "detached" });
}

/** Share states shown in the agent's transcript, in order. */
export async function agentShareSteps(agent) {
  return agent.locator("[data-testid=transcript] [data-testid=system][data-share-state]").evaluateAll((els) => els.map((e) => e.getAttribute("data-share-state")));
}

/** The agent's video: size and playback position. */
export async function agentVideo(agent) {
  return agent.locator("[data-testid=share-video]").evaluate((v) => ({ w: v.videoWidth, h: v.videoHeight, t: v.currentTime, paused: v.paused }));
}

/** Waits until the agent's video shows frames and keeps advancing over a second. */
export async function assertVideoAdvancing(agent, label = "agent video", timeout = 20000) {
  await waitFor(async () => (await agentVideo(agent)).w > 0, `${label}: has frames`, timeout);
  const a = await agentVideo(agent);
  await new Promise((r) => setTimeout(r, 1200));
  const b = await agentVideo(agent);
  if (!(b.w > 0 && b.t > a.t + 0.5)) throw new Error(`${label}: not advancing: ${JSON.stringify([a, b])}`);
  return b;
}

// ------------------------------------------------------------------ coturn

async function freeUdpPort() {
  const sock = dgram.createSocket("udp4");
  await new Promise((resolve, reject) => sock.bind(0, "127.0.0.1", (err) => (err ? reject(err) : resolve())));
  const { port } = sock.address();
  await new Promise((resolve) => sock.close(() => resolve(undefined)));
  return port;
}

/**
 * Whether process `pid` has a UDP socket bound to 127.0.0.1:`port` (Linux: a
 * /proc/net/udp row for the address whose socket inode is one of its descriptors).
 */
function udpPortBoundBy(pid, port) {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let table;
  try {
    table = readFileSync("/proc/net/udp", "utf8");
  } catch {
    throw new Error("cannot read /proc/net/udp: the coturn tests need Linux");
  }
  const inodes = new Set();
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === wanted) inodes.add(`socket:[${cols[9]}]`);
  }
  if (inodes.size === 0) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false; // not started yet, or gone
  }
}

/** A port free for both UDP and TCP on 127.0.0.1 (coturn listens on both). */
async function freeUdpTcpPort() {
  for (;;) {
    const port = await freeUdpPort();
    const ok = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

export const TURNSERVER_BIN = process.env.TURNSERVER_BIN || "/usr/bin/turnserver";

/**
 * A real coturn on 127.0.0.1 (as crates/server/tests/it/turn.rs): `use-auth-secret`
 * with `secret`, relaying on loopback only, verbose log kept in memory (`log()`).
 */
export async function startCoturn(secret) {
  if (!existsSync(TURNSERVER_BIN)) throw new Error(`coturn not found at ${TURNSERVER_BIN} (Debian: apt-get install coturn; or set TURNSERVER_BIN)`);
  // Ports are picked free but may be taken by the time coturn binds them: try again.
  for (let attempt = 1; ; attempt++) {
    const turn = await spawnCoturn(secret);
    if (!/Cannot bind|Address already in use/.test(turn.log())) return turn;
    await turn.stop();
    if (attempt === 5) throw new Error("coturn could not bind its ports\n" + turn.log());
  }
}

async function spawnCoturn(secret) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sightline-coturn-"));
  const port = await freeUdpTcpPort();
  let relay = await freeUdpPort();
  if (relay > 65000) relay = 40000 + (relay % 20000);
  const config = path.join(dir, "turnserver.conf");
  writeFileSync(
    config,
    [
      "listening-ip=127.0.0.1",
      "relay-ip=127.0.0.1",
      `listening-port=${port}`,
      `min-port=${relay}`,
      `max-port=${relay + 40}`,
      "use-auth-secret",
      `static-auth-secret=${secret}`,
      "realm=sightline.test",
      "fingerprint",
      "no-tls",
      "no-dtls",
      "no-cli",
      "allow-loopback-peers",
      "no-multicast-peers",
      "no-tcp-relay",
      "verbose",
      "log-file=stdout",
      "simple-log",
      `pidfile=${path.join(dir, "turn.pid")}`,
      "",
    ].join("\n"),
  );
  const child = spawn(TURNSERVER_BIN, ["-c", config], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks = [];
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (c) => chunks.push(c));
  child.stderr.on("data", (c) => chunks.push(c));
  let exited = false;
  const exit = new Promise((resolve) => child.on("exit", () => ((exited = true), resolve())));
  const log = () => chunks.join("");
  // Ready once coturn itself has bound its UDP listening port (as
  // crates/server/tests/it/turn.rs polls /proc/net/udp), or when it says it cannot.
  const deadline = Date.now() + 20000;
  while (!exited && !/Cannot bind|Address already in use/.test(log()) && !udpPortBoundBy(child.pid, port)) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`coturn did not bind 127.0.0.1:${port}/udp within 20 s\n` + log());
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited) throw new Error("coturn exited early\n" + log());
  return {
    port,
    url: `turn:127.0.0.1:${port}?transport=udp`,
    log,
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exit;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ WebRTC stats

/**
 * The selected candidate pair of a peer connection (by the transport's
 * selectedCandidatePairId, else the succeeded+nominated pair) with both candidates.
 */
export async function selectedPair(page, which) {
  return page.evaluate(async (which) => {
    const pc =
      which === "visitor" ? window.__sightlineShare.pc : [...window.__sightlineAgentShare.shares.live.values()][0]?.peer.pc;
    if (!pc) return null;
    const stats = [...(await pc.getStats()).values()];
    const byId = new Map(stats.map((s) => [s.id, s]));
    const transport = stats.find((s) => s.type === "transport" && s.selectedCandidatePairId);
    const pair =
      (transport && byId.get(transport.selectedCandidatePairId)) ||
      stats.find((s) => s.type === "candidate-pair" && s.state === "succeeded" && s.nominated);
    if (!pair) return null;
    const local = byId.get(pair.localCandidateId);
    const remote = byId.get(pair.remoteCandidateId);
    return {
      state: pair.state,
      nominated: pair.nominated,
      bytesSent: pair.bytesSent,
      bytesReceived: pair.bytesReceived,
      local: { type: local?.candidateType, address: local?.address, port: local?.port, protocol: local?.protocol, relayProtocol: local?.relayProtocol, url: local?.url },
      remote: { type: remote?.candidateType, address: remote?.address, port: remote?.port },
      policy: pc.getConfiguration().iceTransportPolicy,
    };
  }, which);
}

/** The visitor's outbound video RTP counters (bytesSent + headerBytesSent) and when. */
export async function visitorOutbound(page) {
  return page.evaluate(async () => {
    const pc = window.__sightlineShare.pc;
    const all = await pc.getStats();
    const out = [...all.values()].filter((s) => s.type === "outbound-rtp" && s.kind === "video");
    return {
      at: performance.now(),
      bytes: out.reduce((n, s) => n + (s.bytesSent || 0) + (s.headerBytesSent || 0), 0),
      payload: out.reduce((n, s) => n + (s.bytesSent || 0), 0),
      frames: out.reduce((n, s) => n + (s.framesEncoded || 0), 0),
      size: out.map((s) => `${s.frameWidth}x${s.frameHeight}`).join(","),
      limitation: out.map((s) => s.qualityLimitationReason).join(","),
      keyFrames: out.reduce((n, s) => n + (s.keyFramesEncoded || 0), 0),
      qpSum: out.reduce((n, s) => n + (s.qpSum || 0), 0),
      encoder: out.map((s) => s.encoderImplementation).join(","),
      codec: out.map((s) => all.get(s.codecId)?.mimeType).join(","),
      targetBitrate: out.map((s) => s.targetBitrate).join(","),
    };
  });
}
