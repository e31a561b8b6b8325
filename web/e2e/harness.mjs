// Test harness for the browser tests: starts the real server binary, a TCP proxy
// that can cut connections, and Chromium (playwright-core, no downloaded browser).

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SIGHTLINE_BIN = path.resolve(process.env.SIGHTLINE_BIN || path.join(here, "..", "..", "target", "debug", "sightline"));
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** A password the server accepts (≥ 8 characters), different every run. */
export function randomPassword() {
  return "pw-" + randomBytes(12).toString("base64url");
}

/**
 * Start `sightline serve` on a free port with a fresh data directory.
 * Resolves once it prints "Sightline is running at <url>".
 * `config` is more of the configuration file, as TOML keys at its top (e.g.
 * `no_demo = true`), for what a test needs set the way an operator would.
 */
export async function startServer({ allowedOrigins = [], env = {}, config = "" } = {}) {
  if (!existsSync(SIGHTLINE_BIN)) {
    throw new Error(`server binary not found at ${SIGHTLINE_BIN}: build it with \`cargo build -p sightline\` or set SIGHTLINE_BIN`);
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "sightline-e2e-"));
  const adminPassword = randomPassword();
  const logs = [];
  const childEnv = {
    ...process.env,
    SIGHTLINE_ADMIN_PASSWORD: adminPassword,
    SIGHTLINE_ALLOWED_ORIGINS: allowedOrigins.join(","),
    SIGHTLINE_LOG: process.env.SIGHTLINE_LOG || "info,sqlx=warn",
    ...env,
  };
  let proc = await spawnServer("127.0.0.1:0", dataDir, childEnv, logs, config);
  const url = proc.url;
  // With SIGHTLINE_ADMIN_PASSWORD set to "", the server makes one up and prints it.
  const printed = logs.join("").match(/^\s*password: (\S+)$/m);
  const printedPassword = printed ? printed[1] : null;
  const stopProc = async () => {
    if (!proc.exited()) {
      proc.child.kill("SIGTERM");
      const t = setTimeout(() => proc.child.kill("SIGKILL"), 5000);
      await proc.exit;
      clearTimeout(t);
    }
  };
  return {
    url,
    adminPassword: childEnv.SIGHTLINE_ADMIN_PASSWORD === "" ? printedPassword : adminPassword,
    printedPassword,
    dataDir,
    logs,
    /** Stop (SIGTERM) and start again on the same port with the same data. */
    async restart(downMs = 0) {
      await stopProc();
      if (downMs) await sleep(downMs);
      proc = await spawnServer(new URL(url).host, dataDir, childEnv, logs, config);
    },
    async stop() {
      await stopProc();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function spawnServer(bind, dataDir, env, logs, extraConfig) {
  // Every browser of a test comes from 127.0.0.1, so the per-address limits on new
  // visitors and conversations (README, Security) would count a whole test's
  // visitors as one client: raise them; the per-socket and per-visitor ones stay.
  // The test's own keys go first: after "[limits]" they would belong to that table.
  const config = path.join(dataDir, "e2e.toml");
  writeFileSync(
    config,
    (extraConfig ? extraConfig.replace(/\n?$/, "\n") : "") +
      "[limits]\nnew_visitors_per_address = { burst = 10000, per_second = 1000.0 }\n" +
      "new_conversations_per_address = { burst = 10000, per_second = 1000.0 }\n",
  );
  const child = spawn(SIGHTLINE_BIN, ["serve", "--bind", bind, "--data-dir", dataDir, "--config", config], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start within 30 s\n" + logs.join(""))), 30000);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      logs.push(chunk);
      stdout += chunk;
      const m = stdout.match(/Sightline is running at (https?:\/\/\S+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ""));
      }
    });
    child.stderr.on("data", (chunk) => logs.push(chunk));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code ?? signal})\n` + logs.join("")));
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  child.removeAllListeners("exit");
  let exited = false;
  const exit = new Promise((resolve) => child.on("exit", () => ((exited = true), resolve())));
  return { child, url, exit, exited: () => exited };
}

/**
 * A TCP proxy between the visitor's browser and the server. `cut(ms)` destroys every
 * piped connection and refuses new ones for `ms` milliseconds.
 */
export class CutProxy {
  constructor() {
    this.target = null;
    this.refusing = false;
    this.pairs = new Set();
    this.connections = 0;
    this.refused = 0;
    this.server = net.createServer((client) => this.onConnection(client));
  }

  async listen() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(undefined)));
    this.port = /** @type {import("node:net").AddressInfo} */ (this.server.address()).port;
    this.origin = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** Where to forward to, e.g. "http://127.0.0.1:1234". */
  setTarget(url) {
    const u = new URL(url);
    this.target = { host: u.hostname, port: Number(u.port) };
  }

  onConnection(client) {
    if (this.refusing || !this.target) {
      this.refused++;
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Destroy all connections and refuse new ones for `ms`. Resolves when restored. */
  async cut(ms = 2000) {
    this.refusing = true;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await sleep(ms);
    this.refusing = false;
  }

  async close() {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A new page that fails the test on uncaught page errors and JavaScript dialogs. */
export async function newPage(browser, label, problems) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => problems.push(`[${label}] page error: ${err.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`[${label}] unexpected dialog: ${dialog.type()} ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on("console", (msg) => {
    if (process.env.E2E_DEBUG) console.log(`[${label}] ${msg.type()}: ${msg.text()}`);
  });
  return page;
}

/** Poll `fn` until it returns a truthy value; throws with `message` (and the last value) on timeout. */
export async function waitFor(fn, message, timeout = 15000) {
  const start = Date.now();
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeout) {
      throw new Error(`timed out after ${timeout} ms: ${message}\nlast value: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
    }
    await sleep(100);
  }
}

// ------------------------------------------------------------------ widget

/** Messages in the widget, in display order. */
export async function widgetMessages(page) {
  return page.locator("[data-sightline] [data-testid=message]").evaluateAll((els) =>
    els.map((el) => {
      const textEl = el.querySelector("[data-testid=message-text]");
      const card = el.querySelector("[data-testid=link-card]");
      return {
        seq: el.getAttribute("data-seq") ? Number(el.getAttribute("data-seq")) : null,
        from: el.getAttribute("data-from"),
        state: el.getAttribute("data-state"),
        text: textEl ? textEl.textContent : card ? card.textContent : "",
        href: card ? card.getAttribute("href") : null,
      };
    }),
  );
}

export async function openWidget(page) {
  const launcher = page.locator("[data-testid=launcher]");
  await launcher.waitFor({ state: "visible" });
  if ((await launcher.getAttribute("aria-expanded")) !== "true") await launcher.click();
  await page.locator("[data-testid=input]").waitFor({ state: "visible" });
}

export async function visitorSend(page, text) {
  const input = page.locator("[data-testid=input]");
  await input.fill(text);
  await input.press("Enter");
}

/** Wait until the widget shows exactly these texts as sent (with seq), in order. */
export async function waitForWidgetTexts(page, texts, timeout = 20000) {
  return waitFor(
    async () => {
      const msgs = await widgetMessages(page);
      const sent = msgs.filter((m) => m.seq !== null && m.state === "sent");
      return msgs.length === texts.length && sent.length === texts.length && sent.every((m, i) => m.text === texts[i]) ? msgs : false;
    },
    `widget shows ${JSON.stringify(texts)}; has ${JSON.stringify(await widgetMessages(page).catch(() => []))}`,
    timeout,
  );
}

// ------------------------------------------------------------------ console

export async function login(page, base, name, password) {
  await page.goto(base + "/console");
  await page.locator("[data-testid=login-name]").fill(name);
  await page.locator("[data-testid=login-password]").fill(password);
  await page.locator("[data-testid=login-submit]").click();
  await page.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  await waitFor(async () => (await page.locator("[data-testid=link-state]").getAttribute("data-state")) === "online", "agent socket online");
}

/** Messages in the console's open conversation (or the history transcript), in order. */
export async function consoleMessages(page, scope = "[data-testid=transcript]") {
  return page.locator(`${scope} [data-testid=message]`).evaluateAll((els) =>
    els.map((el) => {
      const textEl = el.querySelector("[data-testid=message-text]");
      const card = el.querySelector("[data-testid=link-card]");
      return {
        seq: el.getAttribute("data-seq") ? Number(el.getAttribute("data-seq")) : null,
        from: el.getAttribute("data-from"),
        state: el.getAttribute("data-state"),
        text: textEl ? textEl.textContent : card ? card.textContent : "",
      };
    }),
  );
}

export async function agentSend(page, text) {
  const input = page.locator("[data-testid=composer-input]");
  await input.fill(text);
  await input.press("Enter");
}

/** Wait until the console's open conversation shows exactly these texts (stored), in order. */
export async function waitForConsoleTexts(page, texts, timeout = 20000) {
  return waitFor(
    async () => {
      const msgs = await consoleMessages(page);
      return msgs.length === texts.length && msgs.every((m, i) => m.seq !== null && !m.state && m.text === texts[i]) ? msgs : false;
    },
    `console shows ${JSON.stringify(texts)}; has ${JSON.stringify(await consoleMessages(page).catch(() => []))}`,
    timeout,
  );
}

/** Click the waiting conversation whose preview contains `text` and accept it. */
export async function acceptByPreview(page, text) {
  const item = page.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: text });
  await item.waitFor({ state: "visible" });
  await item.click();
  await page.locator("[data-testid=accept]").click();
  await waitFor(async () => (await page.locator("[data-testid=chat-status]").textContent()) === "active", "conversation active after accept");
  await page.locator("[data-testid=composer-input]").waitFor({ state: "visible" });
}

// ------------------------------------------------------------------ API

/** Log in over HTTP as `name`; returns { cookie, csrf }. */
export async function apiLogin(base, name, password) {
  const res = await fetch(base + "/api/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password }),
  });
  if (!res.ok) throw new Error(`login ${name}: ${res.status} ${await res.text()}`);
  const me = await res.json();
  const cookie = (res.headers.getSetCookie?.() || [res.headers.get("set-cookie")]).map((c) => c.split(";")[0]).join("; ");
  return { cookie, csrf: me.csrf_token };
}

/** Create an agent account through the admin API. */
export async function createAgent(base, adminPassword, { name, display_name = null, password, is_admin = false }) {
  const { cookie, csrf } = await apiLogin(base, "admin", adminPassword);
  const res = await fetch(base + "/api/users", {
    method: "POST",
    headers: { "content-type": "application/json", cookie, "x-csrf-token": csrf },
    body: JSON.stringify({ name, display_name, password, is_admin }),
  });
  if (!res.ok) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  return res.json();
}
