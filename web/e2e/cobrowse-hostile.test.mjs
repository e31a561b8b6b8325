// A hostile page co-browsed: whatever the visitor's page holds (scripts, event
// handlers, javascript: URLs, srcdoc frames, <base>, CSS and stylesheets from
// another host, forms posting elsewhere), the agent's mirror runs nothing and
// fetches nothing from the page's hosts.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

/** The hostile site: serves the page and logs every request it gets. */
const site = { hits: [], origin: "", server: null };

function hostilePage(widgetSrc, origin) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Hostile</title>
<base href="${origin}/based/">
<link rel="stylesheet" href="${origin}/sheet.css">
<style>@import url("${origin}/import.css"); body { background-image: url("${origin}/bg.png"); } @font-face { font-family: X; src: url("${origin}/font.woff2"); }</style>
<meta http-equiv="refresh" content="3600;url=${origin}/refreshed">
</head><body>
<h1 id="title" onmouseover="top.__pwned = 'onmouseover'">Hostile page</h1>
<script>window.__ranOnVisitor = (window.__ranOnVisitor || 0) + 1; try { top.__pwned = 'script'; } catch (e) {}</script>
<img src="${origin}/img.png" onerror="top.__pwned = 'onerror'" alt="">
<a id="js" href="javascript:top.__pwned='javascript-url'">a javascript: link</a>
<iframe srcdoc="<script>top.__pwned='srcdoc'</script><img src='${origin}/srcdoc.png'>"></iframe>
<form action="${origin}/post" method="post"><input name="q" value="x"><button id="go">Go</button></form>
<div style="background: url('${origin}/inline.png')">inline style</div>
<svg><image href="${origin}/svg.png" width="10" height="10"/></svg>
<video poster="${origin}/poster.png"></video>
<object data="${origin}/object.bin"></object>
<script src="${widgetSrc}" async></script>
</body></html>`;
}

const stack = useShareStack({
  beforeServer: async () => {
    site.server = http.createServer((req, res) => {
      site.hits.push(req.url);
      if (req.url === "/" || req.url?.startsWith("/page")) {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(hostilePage(site.widgetSrc, site.origin));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise((r) => site.server.listen(0, "127.0.0.1", r));
    site.origin = `http://127.0.0.1:${site.server.address().port}`;
  },
  allowedOrigins: () => [site.origin],
  afterServer: async (s) => {
    site.widgetSrc = `${s.base}/widget.js`;
  },
  cleanup: async () => {
    await new Promise((r) => site.server?.close(r));
  },
});

test("the mirror of a hostile page runs nothing and fetches nothing from its hosts", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  // What the console's own CSP stops never reaches the network; what gets an
  // answer did.
  const agentFetched = [];
  agent.on("response", (r) => agentFetched.push(r.url()));
  const blocked = [];
  agent.on("requestfailed", (r) => blocked.push(`${r.url()} ${r.failure()?.errorText}`));
  const { login } = await import("./harness.mjs");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const { visitor } = await startChat(stack, { visitorUrl: site.origin + "/page", text: "hostile page", agentPage: agent });
  assert.equal(await visitor.evaluate(() => /** @type {any} */ (window).__ranOnVisitor), 1, "the page's own script ran on the visitor's side");

  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.locator("[data-sightline] [data-testid=cobrowse-allow]").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  const frame = agent.locator("[data-testid=cobrowse-mirror] iframe");
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#title")?.textContent)) === "Hostile page", "the hostile page in the mirror");
  assert.equal(await frame.getAttribute("sandbox"), "allow-same-origin", "sandboxed, never allow-scripts");

  // The agent moves over the mirror and tries the link and the form.
  const box = await frame.boundingBox();
  await agent.mouse.move(box.x + 40, box.y + 40);
  await agent.mouse.click(box.x + 60, box.y + 60);
  // A later change, seen in the mirror, bounds the wait for anything to have happened.
  await visitor.evaluate(() => (document.querySelector("#title").textContent = "Hostile page, later"));
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#title")?.textContent)) === "Hostile page, later", "a later change");

  assert.equal(await agent.evaluate(() => /** @type {any} */ (window).__pwned), undefined, "nothing ran in the console");
  assert.deepEqual(agentFetched.filter((u) => u.startsWith(site.origin)), [], "the console fetched nothing from the page's host");
  assert.deepEqual(
    blocked.filter((b) => b.startsWith(site.origin) && !b.endsWith(" csp")),
    [],
    "every attempt was stopped by the console's CSP",
  );
  // The site saw each of its resources once: the visitor's own load.
  const seen = new Map();
  for (const hit of site.hits) seen.set(hit, (seen.get(hit) ?? 0) + 1);
  assert.deepEqual([...seen].filter(([, n]) => n > 1), [], "no resource was fetched a second time (by the console)");
  assert.equal(await frame.evaluate((f) => f.contentDocument.querySelectorAll("script").length), 0, "no script element in the mirror");
  assertNoProblems(stack);
});
