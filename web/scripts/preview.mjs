// Screenshots of the widget, the console and the demo with a scripted fake server
// (a WebSocket stand-in injected into the page). For checking the look without
// the Rust server:  node scripts/preview.mjs [outdir]

import { chromium } from "playwright-core";
import { startStaticServer } from "./static-server.mjs";

const out = process.argv[2] || "/tmp/sightline-preview";
const server = await startStaticServer(0);
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** Installed in the page: answers hellos with a canned conversation. */
function fakeServer(script) {
  const now = Date.now();
  const S = JSON.parse(script);
  class FakeWS {
    /** @type {FakeWS | null} */
    static last = null;
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      /** @type {((ev: object) => void) | null} */
      this.onopen = null;
      /** @type {((ev: { data: string }) => void) | null} */
      this.onmessage = null;
      FakeWS.last = this;
      setTimeout(() => {
        this.readyState = 1;
        this.onopen && this.onopen({});
      }, 20);
    }
    push(msg) {
      setTimeout(() => this.onmessage && this.onmessage({ data: JSON.stringify(msg) }), 5);
    }
    send(data) {
      const m = JSON.parse(data);
      if (m.type === "visitor_hello") {
        this.push({ type: "visitor_welcome", protocol: 1, token: "tok", conversation: S.conversation });
        for (const e of S.events) this.push({ type: "event", conversation: "c1", event: { ...e, at: now - (100 - e.seq) * 60000 } });
        this.push({ type: "synced", conversation: "c1", last_seq: S.events.length });
        if (S.typing) this.push({ type: "typing", conversation: "c1", from: "agent", active: true });
      } else if (m.type === "agent_hello") {
        this.push({ type: "agent_welcome", protocol: 1, agent: S.me, is_admin: true, conversations: S.summaries.map((s) => ({ ...s, created_at: now - s.ago * 60000, last_activity_at: now - s.ago * 30000 })) });
      } else if (m.type === "sync") {
        for (const e of S.events) this.push({ type: "event", conversation: m.conversation, event: { ...e, at: now - (100 - e.seq) * 60000 } });
        this.push({ type: "synced", conversation: m.conversation, last_seq: S.events.length });
        if (S.typing) this.push({ type: "typing", conversation: m.conversation, from: "visitor", active: true });
      } else if (m.type === "send" && S.fail && m.body.text.includes("fail")) {
        this.push({ type: "error", code: "rate_limited", message: "Too many messages", client_id: m.client_id });
      }
    }
    close() {
      this.readyState = 3;
    }
  }
  // A stand-in with only what the widget and the console use.
  window.WebSocket = /** @type {typeof WebSocket} */ (/** @type {unknown} */ (FakeWS));
}

const anna = { id: 2, display_name: "Anna Berg" };
const events = [
  { seq: 1, kind: "started", page: { url: "http://x/demo/account", title: "Accounts" } },
  { seq: 2, kind: "message", from: "visitor", agent: null, client_id: "a", body: { kind: "text", text: "Hi! I can't find where to download my monthly statement." } },
  { seq: 3, kind: "agent_joined", agent: anna },
  { seq: 4, kind: "message", from: "agent", agent: anna, client_id: "b", body: { kind: "text", text: "Hi Jordan, I'm Anna. Happy to help!" } },
  { seq: 5, kind: "message", from: "agent", agent: anna, client_id: "c", body: { kind: "text", text: "Statements are under Accounts → Documents. Here is a direct link:" } },
  { seq: 6, kind: "message", from: "agent", agent: anna, client_id: "d", body: { kind: "link", url: "https://northwind.example/help/statements", title: "Download account statements" } },
  { seq: 7, kind: "message", from: "visitor", agent: null, client_id: "e", body: { kind: "text", text: "<img src=x onerror=alert(1)> Found it, thanks!" } },
];
const script = JSON.stringify({
  conversation: { id: "c1", status: "active", agent: anna, created_at: 0, last_seq: 7, last_activity_at: 0, preview: null, page: null, visitor_online: true },
  events,
  typing: true,
  fail: true,
  me: anna,
  summaries: [
    { id: "c1", status: "active", agent: anna, last_seq: 7, ago: 12, preview: "Found it, thanks!", page: { url: "http://x/demo/account", title: "Accounts — Northwind Bank" }, visitor_online: true },
    { id: "w1", status: "waiting", agent: null, last_seq: 2, ago: 3, preview: "My card was declined at the supermarket", page: { url: "http://x/demo", title: "Northwind Bank" }, visitor_online: true },
    { id: "w2", status: "waiting", agent: null, last_seq: 2, ago: 1, preview: "How do I raise my transfer limit?", page: { url: "http://x/demo/transfer", title: "Transfer" }, visitor_online: false },
  ],
});

/**
 * @param {string} name
 * @param {string} url
 * @param {{ fake?: boolean, width?: number, height?: number, before?: (page: import("playwright-core").Page) => Promise<void> }} [options]
 */
async function shot(name, url, { fake = true, width = 1280, height = 800, before } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  page.on("console", (m) => console.log(`[${name}] ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.log(`[${name}] pageerror: ${e.message}`));
  if (fake) await page.addInitScript(fakeServer, script);
  await page.goto(base + url);
  if (before) await before(page);
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${out}/${name}.png`);
  await ctx.close();
}

import { mkdirSync } from "node:fs";
mkdirSync(out, { recursive: true });
const which = process.argv[3] || "all";
if (which === "all" || which === "demo") {
  await shot("demo-home", "/demo", { fake: false });
  await shot("demo-account", "/demo/account", { fake: false });
  await shot("demo-transfer", "/demo/transfer", { fake: false });
}
if (which === "all" || which === "widget") {
  await shot("widget-closed", "/demo", { fake: false, width: 1000, height: 700 });
  await shot("widget-open", "/demo/account", {
    width: 1000,
    height: 760,
    before: async (page) => {
      await page.click("[data-testid=launcher]");
      await page.fill("[data-testid=input]", "this one will fail");
      await page.press("[data-testid=input]", "Enter");
      await page.fill("[data-testid=input]", "And one more pending question");
      await page.press("[data-testid=input]", "Enter");
    },
  });
  await shot("widget-mobile", "/demo", {
    width: 390,
    height: 760,
    before: async (page) => {
      await page.click("[data-testid=launcher]");
      await page.fill("[data-testid=input]", "x".repeat(3900));
    },
  });
}
async function mockApi(page) {
  const me = { user: { id: 2, name: "anna", display_name: "Anna Berg", is_admin: true, disabled: false, created_at: Date.now() - 9e8 }, csrf_token: "x" };
  const now = Date.now();
  const conv = (id, status, agent, mins, preview) => ({ id, status, agent, created_at: now - mins * 60000, last_seq: 5, last_activity_at: now - mins * 50000, preview, page: { url: "http://x/demo", title: "Northwind Bank" }, visitor_online: false });
  await page.route("**/api/**", async (route) => {
    const url = new URL(route.request().url());
    let body;
    if (url.pathname === "/api/me") body = me;
    else if (url.pathname === "/api/users")
      body = [me.user, { id: 3, name: "ben", display_name: "Ben Ortiz", is_admin: false, disabled: false, created_at: now - 5e8 }, { id: 4, name: "carla", display_name: "Carla Nunes", is_admin: false, disabled: true, created_at: now - 2e8 }];
    else if (url.pathname === "/api/conversations")
      body = { conversations: [conv("h1", "closed", anna, 30, "Found it, thanks!"), conv("h2", "closed", { id: 3, display_name: "Ben Ortiz" }, 300, "Can I change my PIN online?"), conv("h3", "active", anna, 5, "One more thing…")], next_before: 123 };
    else if (url.pathname.startsWith("/api/conversations/"))
      body = { conversation: conv("h1", "closed", anna, 30, "Found it"), events: JSON.parse(script).events.map((e) => ({ ...e, at: now - (100 - e.seq) * 60000 })).concat([{ seq: 8, at: now, kind: "closed", by: "agent", agent: anna }]) };
    await route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
  });
}
if (which === "all" || which === "console") {
  await shot("console-login", "/console", { fake: false });
  await shot("console-inbox", "/console", {
    width: 1360,
    height: 820,
    before: async (page) => {
      await mockApi(page);
      await page.reload();
      await page.click("[data-testid=queue-item][data-id=c1]");
      await page.fill("[data-testid=composer-input]", "Let me check that for you.");
    },
  });
  await shot("console-waiting", "/console", {
    width: 1360,
    height: 820,
    before: async (page) => {
      await mockApi(page);
      await page.reload();
      await page.click("[data-testid=queue-item][data-id=w1]");
    },
  });
  await shot("console-history", "/console#/history", { width: 1360, height: 700, before: async (page) => { await mockApi(page); await page.reload(); } });
  await shot("console-history-detail", "/console#/history/h1", { width: 1360, height: 900, before: async (page) => { await mockApi(page); await page.reload(); } });
  await shot("console-admin", "/console#/admin", { width: 1360, height: 700, before: async (page) => { await mockApi(page); await page.reload(); } });
}
await browser.close();
server.close();
