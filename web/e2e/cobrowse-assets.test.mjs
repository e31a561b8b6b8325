// A page whose stylesheets and images live on other origins than the console's:
// the agent's mirror shows them as the visitor sees them, through the server's
// asset proxy, while the agent's browser itself never contacts those origins.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { assertNoProblems } from "./fixture.mjs";
import { login, waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

// A 1×1 PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64");

/** A loopback origin that serves `routes` and logs who asked for what. */
function origin(host, routes) {
  const o = { hits: [], origin: "", server: null };
  o.server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    o.hits.push({ path, proxy: /asset proxy/.test(req.headers["user-agent"] ?? "") });
    const route = routes(path);
    if (!route) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": route[0] });
    res.end(route[1]);
  });
  o.listen = () => new Promise((r) => o.server.listen(0, host, () => ((o.origin = `http://${host}:${o.server.address().port}`), r(undefined))));
  return o;
}

let widgetSrc = "";
const cdn = origin("127.0.0.2", (path) => {
  // Relative and root-relative references: the proxy resolves them against the sheet.
  if (path === "/css/cdn.css") return ["text/css", "#styled { color: rgb(1, 2, 3); } .hero { width: 20px; height: 20px; background-image: url(../img/hero.png); } .root { width: 20px; height: 20px; background-image: url('/img/root.png'); }"];
  if (path.startsWith("/img/")) return ["image/png", PNG];
  return null;
});
const site = origin("127.0.0.1", (path) => {
  if (path === "/page")
    return [
      "text/html",
      `<!doctype html><html><head><meta charset="utf-8"><title>Styled shop</title>
<link rel="stylesheet" href="${cdn.origin}/css/cdn.css">
<style>.inline { width: 20px; height: 20px; background-image: url(/img/inline.png); }</style>
</head><body>
<h1 id="styled">Styled by a sheet on another origin</h1>
<img id="logo" src="/img/logo.png" alt="logo" width="10" height="10">
<div class="hero"></div><div class="root"></div><div class="inline"></div>
<script src="${widgetSrc}" async></script>
</body></html>`,
    ];
  if (path.startsWith("/img/")) return ["image/png", PNG];
  return null;
});

const stack = useShareStack({
  beforeServer: async () => {
    await cdn.listen();
    await site.listen();
  },
  allowedOrigins: () => [site.origin, cdn.origin],
  afterServer: async (s) => {
    widgetSrc = `${s.base}/widget.js`;
  },
  cleanup: async () => {
    await new Promise((r) => site.server.close(r));
    await new Promise((r) => cdn.server.close(r));
  },
});

test("stylesheets and images of other origins reach the mirror through the asset proxy", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  const agentUrls = [];
  agent.on("request", (r) => agentUrls.push(r.url()));
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const { visitor } = await startChat(stack, { visitorUrl: site.origin + "/page", text: "my page looks odd", agentPage: agent });
  assert.equal(await visitor.evaluate(() => getComputedStyle(document.querySelector("#styled")).color), "rgb(1, 2, 3)", "the visitor's page is styled");

  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.locator("[data-sightline] [data-testid=cobrowse-allow]").click();
  const frame = agent.locator("[data-testid=cobrowse-mirror] iframe");
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#styled")?.textContent)) === "Styled by a sheet on another origin", "the page in the mirror");

  // The sheet on the other origin (unreadable to rrweb, so linked) came through the proxy and applies.
  await waitFor(async () => (await frame.evaluate((f) => f.contentWindow && f.contentDocument ? f.contentWindow.getComputedStyle(f.contentDocument.querySelector("#styled")).color : "")) === "rgb(1, 2, 3)", "the proxied stylesheet applies in the mirror");
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#logo")?.naturalWidth ?? 0)) === 1, "the site's image loaded in the mirror");
  const backgrounds = await frame.evaluate((f) => [".hero", ".root", ".inline"].map((s) => f.contentWindow.getComputedStyle(f.contentDocument.querySelector(s)).backgroundImage));
  const proxied = (url) => `/api/cobrowse/asset?u=${encodeURIComponent(url)}`;
  assert.ok(backgrounds[0].includes(proxied(`${cdn.origin}/img/hero.png`)), `relative to the sheet: ${backgrounds[0]}`);
  assert.ok(backgrounds[1].includes(proxied(`${cdn.origin}/img/root.png`)), `root-relative: ${backgrounds[1]}`);
  assert.ok(backgrounds[2].includes(proxied(`${site.origin}/img/inline.png`)), `an inline sheet of the page: ${backgrounds[2]}`);
  /** @type {Array<[ReturnType<typeof origin>, string]>} */
  const fetched = [[cdn, "/img/hero.png"], [cdn, "/img/root.png"], [site, "/img/inline.png"], [cdn, "/css/cdn.css"], [site, "/img/logo.png"]];
  for (const [o, path] of fetched) {
    await waitFor(() => o.hits.some((h) => h.proxy && h.path === path), `the proxy fetched ${path}`);
  }

  assert.deepEqual(agentUrls.filter((u) => !u.startsWith(stack.base)), [], "the agent's browser contacted no other origin");
  assertNoProblems(stack);
});
