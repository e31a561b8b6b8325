// The visitor in Firefox ESR: Debian's firefox-esr driven over WebDriver BiDi by
// puppeteer-core (playwright-core's BiDi Firefox cannot open a page in ESR), on an
// Xvfb display that the harness starts itself, because Firefox captures a screen
// only from a real X display (headless Firefox alone answers getDisplayMedia with
// NotFoundError). The agent stays in Chromium (harness.mjs, share-harness.mjs).
//
// With `media.navigator.permission.disabled`, getDisplayMedia returns the whole
// Xvfb screen ("Primary Monitor", 1280x800) without a prompt. Without it, headless
// Firefox opens a prompt nobody sees; `permissions.default.screen: 2` instead makes
// Firefox refuse as it does after a visitor clicked "Block": at once, no prompt.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import puppeteer from "puppeteer-core";

export const FIREFOX_PATH = process.env.FIREFOX_PATH || "/usr/bin/firefox-esr";
export const XVFB_PATH = process.env.XVFB_PATH || "/usr/bin/Xvfb";

/**
 * Why the Firefox tests cannot run here, or null when they can. Only outside CI:
 * with `CI` set a missing Firefox or Xvfb is an error (the launch below says so).
 */
export function firefoxSkipReason() {
  if (process.env.CI) return null;
  const missing = [FIREFOX_PATH, XVFB_PATH].filter((p) => !existsSync(p));
  if (missing.length === 0) return null;
  return `Firefox visitor tests skipped: ${missing.join(" and ")} not installed (Debian: apt-get install firefox-esr xvfb; cargo xtask test installs them; with CI set they must run)`;
}

/**
 * Starts Xvfb on a display number it picks itself (`-displayfd`: the server writes
 * the number it took, so parallel runs never collide). Resolves with
 * { display: ":N", stop() } once the display accepts clients.
 */
export async function startXvfb({ width = 1280, height = 800 } = {}) {
  if (!existsSync(XVFB_PATH)) throw new Error(`Xvfb not found at ${XVFB_PATH} (Debian: apt-get install xvfb; or set XVFB_PATH)`);
  const child = spawn(XVFB_PATH, ["-displayfd", "3", "-screen", "0", `${width}x${height}x24`, "-nolisten", "tcp", "-noreset"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c) => (log += c));
  const fd3 = /** @type {import("node:stream").Readable} */ (child.stdio[3]);
  fd3.setEncoding("utf8");
  const number = await new Promise((resolve, reject) => {
    let got = "";
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display within 10 s\n${log}`)), 10000);
    fd3.on("data", (c) => {
      got += c;
      const m = got.match(/^(\d+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited early (${code ?? signal})\n${log}`));
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  child.removeAllListeners("exit");
  let exited = child.exitCode !== null || child.signalCode !== null;
  const exit = new Promise((resolve) => child.on("exit", () => ((exited = true), resolve(undefined))));
  return {
    display: `:${number}`,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exit;
      clearTimeout(t);
    },
  };
}

/**
 * Headless Firefox ESR on `display`. `capture: "screen"` shares the display with no
 * prompt; `capture: "blocked"` refuses every share as a standing "Block" does.
 */
export async function launchFirefox(display, { capture = "screen" } = {}) {
  if (!existsSync(FIREFOX_PATH)) throw new Error(`Firefox not found at ${FIREFOX_PATH} (Debian: apt-get install firefox-esr; or set FIREFOX_PATH)`);
  const prefs =
    capture === "blocked"
      ? // What a "Block" in the prompt leaves for the site, for every site.
        { "permissions.default.screen": 2 }
      : { "media.navigator.permission.disabled": true };
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: { ...prefs, "browser.shell.checkDefaultBrowser": false },
    env: { ...process.env, DISPLAY: display },
    defaultViewport: { width: 1280, height: 860 },
  });
}

/**
 * A visitor page in its own browser context (its own storage, as a separate
 * person), with the widget's test hooks on; uncaught errors and dialogs are
 * recorded in `problems` as in harness.newPage.
 */
export async function firefoxPage(browser, label, problems) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (err) => problems.push(`[${label}] page error: ${err.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`[${label}] unexpected dialog: ${dialog.type()} ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on("console", (msg) => {
    if (process.env.E2E_DEBUG) console.log(`[${label}] ${msg.type()}: ${msg.text()}`);
  });
  await page.evaluateOnNewDocument(() => {
    window.__sightlineTestHooks = true;
  });
  return page;
}

/** An element inside the widget's shadow root (puppeteer pierces open shadow roots). */
export function inWidget(page, testid) {
  return page.locator(`pierce/[data-testid=${testid}]`);
}

/** Messages in the Firefox widget, in display order (as harness.widgetMessages). */
export async function firefoxWidgetMessages(page) {
  return page.evaluate(() => {
    const root = document.querySelector("[data-sightline]")?.shadowRoot;
    if (!root) return [];
    return [...root.querySelectorAll("[data-testid=message]")].map((el) => {
      const textEl = el.querySelector("[data-testid=message-text]");
      const card = el.querySelector("[data-testid=link-card]");
      return {
        seq: el.getAttribute("data-seq") ? Number(el.getAttribute("data-seq")) : null,
        from: el.getAttribute("data-from"),
        state: el.getAttribute("data-state"),
        text: textEl ? textEl.textContent : card ? card.textContent : "",
      };
    });
  });
}
