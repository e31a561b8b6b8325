// The visitor in Firefox ESR: Debian's firefox-esr driven over WebDriver BiDi by
// puppeteer-core (playwright-core's BiDi Firefox cannot open a page in ESR), on an
// Xvfb display that the harness starts itself, because Firefox captures a screen
// only from a real X display (headless Firefox alone answers getDisplayMedia with
// NotFoundError). The agent stays in Chromium (harness.mjs, share-harness.mjs).
//
// With `media.navigator.permission.disabled`, getDisplayMedia returns the whole
// Xvfb screen ("Primary Monitor", 1280x800) without a prompt. Without it, headless
// Firefox opens a prompt nobody sees; so the tests of Firefox's own share prompt
// (its "Block") run a headful Firefox on the Xvfb display, find the prompt's
// buttons in Firefox's own window (see sharePrompt) and click them with real X
// input (xdotool), as a person does.

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import puppeteer from "puppeteer-core";

export const FIREFOX_PATH = process.env.FIREFOX_PATH || "/usr/bin/firefox-esr";
export const XVFB_PATH = process.env.XVFB_PATH || "/usr/bin/Xvfb";
export const XDOTOOL_PATH = process.env.XDOTOOL_PATH || "/usr/bin/xdotool";

/**
 * Why the Firefox tests cannot run here, or null when they can. Only outside CI:
 * with `CI` set a missing Firefox or Xvfb is an error (the launch below says so).
 */
export function firefoxSkipReason() {
  if (process.env.CI) return null;
  const missing = [FIREFOX_PATH, XVFB_PATH, XDOTOOL_PATH].filter((p) => !existsSync(p));
  if (missing.length === 0) return null;
  return `Firefox visitor tests skipped: ${missing.join(", ")} not installed (Debian: apt-get install firefox-esr xvfb xdotool; cargo xtask test installs them; with CI set they must run)`;
}

/**
 * Starts Xvfb on a display number it picks itself (`-displayfd`: the server writes
 * the number it took, so parallel runs never collide). Resolves with
 * { display: ":N", screenshot(file), stop() } once the display accepts clients.
 * `screenshot` writes the whole screen, Firefox's own window and prompts included,
 * as a PNG (from the framebuffer file Xvfb keeps with `-fbdir`).
 */
export async function startXvfb({ width = 1280, height = 800 } = {}) {
  if (!existsSync(XVFB_PATH)) throw new Error(`Xvfb not found at ${XVFB_PATH} (Debian: apt-get install xvfb; or set XVFB_PATH)`);
  const fbdir = mkdtempSync(path.join(os.tmpdir(), "sightline-xvfb-"));
  const child = spawn(XVFB_PATH, ["-displayfd", "3", "-screen", "0", `${width}x${height}x24`, "-fbdir", fbdir, "-nolisten", "tcp", "-noreset"], {
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
    screenshot(file) {
      writeFileSync(file, xwdToPng(readFileSync(path.join(fbdir, "Xvfb_screen0"))));
    },
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exit;
        clearTimeout(t);
      }
      rmSync(fbdir, { recursive: true, force: true });
    },
  };
}

/**
 * A PNG of an XWD image as Xvfb keeps its screen: a header of big-endian 32-bit
 * fields, a colour map, then rows of 32-bit pixels (TrueColor, 8 bits a channel).
 */
function xwdToPng(xwd) {
  const field = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, width, height, byteOrder, bitsPerPixel, bytesPerLine, colours] = [field(0), field(4), field(5), field(7), field(11), field(12), field(19)];
  if (bitsPerPixel !== 32) throw new Error(`Xvfb screen with ${bitsPerPixel} bits a pixel; 32 expected (depth 24)`);
  const start = headerSize + colours * 12;
  const rows = Buffer.alloc((width * 3 + 1) * height); // each row: filter byte 0, then RGB
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * 4;
      const pixel = byteOrder === 0 ? xwd.readUInt32LE(at) : xwd.readUInt32BE(at);
      rows.writeUIntBE(pixel & 0xffffff, y * (width * 3 + 1) + 1 + x * 3, 3);
    }
  }
  const chunk = (type, body) => {
    const typed = Buffer.concat([Buffer.from(type, "ascii"), body]);
    const out = Buffer.alloc(body.length + 12);
    out.writeUInt32BE(body.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(typed), body.length + 8);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits a channel
  header[9] = 2; // RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("IDAT", zlib.deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/**
 * Firefox ESR on `display`. `capture: "screen"`: headless, and a share takes the
 * display with no prompt. `capture: "prompt"`: a headful window, and a share opens
 * Firefox's real prompt ("Allow … to see your screen?", Block, Allow) for
 * sharePrompt to find. `--remote-allow-system-access` lets WebDriver BiDi read
 * Firefox's own window ("moz:scope": "chrome"), where the prompt lives; the page
 * sees nothing of it.
 */
export async function launchFirefox(display, { capture = "screen" } = {}) {
  if (!existsSync(FIREFOX_PATH)) throw new Error(`Firefox not found at ${FIREFOX_PATH} (Debian: apt-get install firefox-esr; or set FIREFOX_PATH)`);
  const prompt = capture === "prompt";
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX_PATH,
    headless: !prompt,
    args: prompt ? ["--remote-allow-system-access"] : [],
    extraPrefsFirefox: { ...(prompt ? {} : { "media.navigator.permission.disabled": true }), "browser.shell.checkDefaultBrowser": false },
    env: { ...process.env, DISPLAY: display },
    // A headful window keeps the size Firefox gives it (no viewport bigger than it).
    defaultViewport: prompt ? null : { width: 1280, height: 860 },
  });
}

/**
 * Evaluates `expression` in Firefox's own browser window (its chrome, not a page)
 * over WebDriver BiDi; needs `launchFirefox(…, { capture: "prompt" })`. The
 * expression's value must be JSON-serialisable; it comes back parsed.
 */
async function inFirefoxChrome(browser, expression) {
  const { result: tree } = await browser.connection.send("browsingContext.getTree", { "moz:scope": "chrome" });
  const window = tree.contexts.find((c) => c.url === "chrome://browser/content/browser.xhtml");
  if (!window) throw new Error(`no Firefox browser window among ${JSON.stringify(tree.contexts.map((c) => c.url))}`);
  const { result } = await browser.connection.send("script.evaluate", {
    target: { context: window.context },
    expression: `JSON.stringify(${expression})`,
    awaitPromise: false,
  });
  if (result.type !== "success") throw new Error(`in Firefox's window: ${JSON.stringify(result.exceptionDetails?.text ?? result)}`);
  return JSON.parse(result.result.value);
}

/**
 * Firefox's screen-sharing prompt when it is open, else null: its question, and the
 * screen points (X pixels) at the centre of "Block", of the arrow beside it, and of
 * "Always block" while the arrow's menu is open. The points come from the prompt's
 * own elements, so they follow any window size, position or layout. (The keyboard
 * is no way in on Xvfb: with no window manager, Tab never reaches the prompt, and
 * Alt+B, Block's access key, would open the Bookmarks menu if the prompt were not
 * open yet; nor does it reach "Always block".)
 * @returns {Promise<null | { text: string, block: Point, more: Point, alwaysBlock: Point | null }>}
 * @typedef {{ x: number, y: number }} Point
 */
export function sharePrompt(browser) {
  return inFirefoxChrome(
    browser,
    `(() => {
      const panel = document.getElementById("notification-popup");
      const prompt = document.getElementById("webRTC-shareDevices-notification");
      if (!prompt || prompt.hidden || panel?.state !== "open") return null;
      const centre = (el) => {
        const r = el?.getBoundingClientRect();
        if (!r || r.width === 0 || r.height === 0) return null;
        const scale = window.devicePixelRatio;
        return { x: Math.round((window.mozInnerScreenX + r.x + r.width / 2) * scale), y: Math.round((window.mozInnerScreenY + r.y + r.height / 2) * scale) };
      };
      const split = prompt.querySelector(".popup-notification-secondary-button");
      const menu = prompt.querySelector(".popup-notification-more-actions-popup");
      const always = [...(menu?.children ?? [])].find((item) => item.getAttribute("label") === "Always block");
      return {
        text: prompt.querySelector(".popup-notification-description")?.textContent ?? "",
        block: centre(split?.shadowRoot?.getElementById("main-button")),
        more: centre(split?.shadowRoot?.getElementById("chevron-button")),
        alwaysBlock: menu?.state === "open" ? centre(always) : null,
      };
    })()`,
  );
}

function xdotool(display, args) {
  return new Promise((resolve, reject) =>
    execFile(XDOTOOL_PATH, args, { env: { ...process.env, DISPLAY: display } }, (err, stdout, stderr) => (err ? reject(new Error(`xdotool ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

/** A real mouse click (X test input, as from a person's mouse) at a screen point. */
export async function clickScreen(display, { x, y }) {
  await xdotool(display, ["mousemove", "--sync", String(x), String(y), "click", "1"]);
}

/**
 * Real keys (X test input) to Firefox's browser window, e.g. "F5": keyboard focus
 * goes to that window first (Xvfb has no window manager to give it).
 */
export async function pressInFirefox(display, keys) {
  const windows = (await xdotool(display, ["search", "--onlyvisible", "--classname", "^Navigator$"])).trim().split("\n");
  if (windows.length !== 1) throw new Error(`expected one Firefox window on ${display}, found ${windows.length}`);
  await xdotool(display, ["windowfocus", "--sync", windows[0], "key", "--clearmodifiers", keys]);
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
