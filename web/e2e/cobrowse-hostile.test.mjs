// A hostile page co-browsed: whatever the visitor's page holds (scripts, event
// handlers, javascript: URLs, srcdoc frames, <base>, CSS and stylesheets from
// another host, forms posting elsewhere), the agent's mirror runs nothing and
// fetches nothing itself: what it loads comes through the server's asset proxy,
// which fetches only stylesheets, fonts and images of the allowed site origins.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";
import { recordOutgoing } from "./cobrowse-wire.mjs";

/** The hostile site: serves the page and logs every request it gets (path and user agent). */
const site = { hits: [], origin: "", server: null };
/** A host that is not an allowed origin: only the visitor's own browser may reach it. */
const outside = { hits: [], origin: "", server: null };

function hostilePage(widgetSrc, origin) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Hostile</title>
<base href="${origin}/based/">
<link rel="stylesheet" href="${origin}/sheet.css">
<style>@import url("${origin}/import.css"); body { background-image: url("${origin}/bg.png"); } @font-face { font-family: X; src: url("${origin}/font.woff2"); } h1 { background: url("${outside.origin}/outside.png"); }</style>
<meta http-equiv="refresh" content="3600;url=${origin}/refreshed">
</head><body>
<h1 id="title" onmouseover="top.__pwned = 'onmouseover'">Hostile page</h1>
<script>window.__ranOnVisitor = (window.__ranOnVisitor || 0) + 1; try { top.__pwned = 'script'; } catch (e) {}</script>
<img src="${origin}/img.png" alt="">
<img id="broken" src="${origin}/missing.png" onerror="top.__pwned = 'onerror'; top.__onerror = true" alt="">
<a id="js" href="javascript:top.__pwned='javascript-url'">a javascript: link</a>
<iframe srcdoc="<script>top.__pwned='srcdoc'</script><img src='${origin}/srcdoc.png'>"></iframe>
<form action="${origin}/post" method="post"><input name="q" value="x"><button id="go">Go</button></form>
<p><input id="pw" type="password"> <span data-sightline-private><input id="priv"></span> <input id="plain"></p>
<div style="background: url('${origin}/inline.png')">inline style</div>
<svg><image href="${origin}/svg.png" width="10" height="10"/></svg>
<video poster="${origin}/poster.png"></video>
<object data="${origin}/object.bin"></object>
<script src="${widgetSrc}" async></script>
</body></html>`;
}

// A 1×1 transparent PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64");

const stack = useShareStack({
  beforeServer: async () => {
    outside.server = http.createServer((req, res) => {
      outside.hits.push({ path: req.url, proxy: /asset proxy/.test(req.headers["user-agent"] ?? "") });
      res.writeHead(404);
      res.end();
    });
    await new Promise((r) => outside.server.listen(0, "127.0.0.3", r));
    outside.origin = `http://127.0.0.3:${outside.server.address().port}`;
    site.server = http.createServer((req, res) => {
      site.hits.push({ path: req.url, proxy: /asset proxy/.test(req.headers["user-agent"] ?? "") });
      if (req.url === "/" || req.url?.startsWith("/page")) {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(hostilePage(site.widgetSrc, site.origin));
      } else if (req.url?.endsWith(".png") && !req.url.includes("missing")) {
        // Served to anyone who asks (as images are): the proxy may pass these on.
        res.writeHead(200, { "content-type": "image/png" });
        res.end(PNG);
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
    await new Promise((r) => outside.server?.close(r));
  },
});

test("the mirror of a hostile page runs nothing and fetches nothing itself", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  // What the console's own CSP stops never reaches the network; what gets an
  // answer did.
  const agentFetched = [];
  agent.on("response", (r) => agentFetched.push(r.url()));
  const blocked = [];
  agent.on("requestfailed", (r) => blocked.push(`${r.url()} ${r.failure()?.errorText}`));
  // What the CSP stops never becomes a request: Chromium reports it on the console.
  const cspReports = [];
  agent.on("console", (m) => /Content Security Policy/i.test(m.text()) && cspReports.push(m.text()));
  const { login } = await import("./harness.mjs");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitorPage = await stack.page("visitor");
  const sent = recordOutgoing(visitorPage);
  const { visitor } = await startChat(stack, { visitorUrl: site.origin + "/page", text: "hostile page", agentPage: agent, visitorPage });
  assert.equal(await visitor.evaluate(() => /** @type {any} */ (window).__ranOnVisitor), 1, "the page's own script ran on the visitor's side");

  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.locator("[data-sightline] [data-testid=cobrowse-allow]").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  const frame = agent.locator("[data-testid=cobrowse-mirror] iframe");
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#title")?.textContent)) === "Hostile page", "the hostile page in the mirror");
  assert.equal(await frame.getAttribute("sandbox"), "allow-same-origin", "sandboxed, never allow-scripts");

  // Canary secrets typed on this page never leave the visitor's browser either.
  await visitor.locator("#pw").fill("CANARY-PW-1");
  await visitor.locator("#priv").fill("CANARY-PRIV-2");
  await visitor.locator("#plain").fill("CANARY-PLAIN-3");
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#plain")?.value)) === "••••••••", "the typing reached the mirror, masked");
  assert.match(sent.join("\n"), /Hostile page/, "(the page itself went out, decoded)");
  assert.doesNotMatch(sent.join("\n"), /CANARY/, "no secret typed on the hostile page left the browser");

  // The mirror takes no pointer input at all (rrweb's disableInteract), so no
  // link or form in it can be followed: the agent clicks the mirrored form's own
  // button and the javascript: link, where they are drawn.
  assert.equal(await frame.evaluate((f) => getComputedStyle(f).pointerEvents), "none", "the mirror takes no clicks");
  for (const selector of ["#go", "#js"]) {
    const at = await frame.evaluate((f, sel) => {
      const r = f.contentDocument?.querySelector(sel)?.getBoundingClientRect();
      const outer = f.getBoundingClientRect();
      const scale = outer.width / (f.offsetWidth || outer.width);
      return r ? { x: outer.x + (r.x + r.width / 2) * scale, y: outer.y + (r.y + r.height / 2) * scale } : null;
    }, selector);
    assert.ok(at, `${selector} is drawn in the mirror`);
    await agent.mouse.move(at.x, at.y);
    await agent.mouse.click(at.x, at.y);
  }
  // A later change, seen in the mirror, bounds the wait for anything to have happened.
  await visitor.evaluate(() => (document.querySelector("#title").textContent = "Hostile page, later"));
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#title")?.textContent)) === "Hostile page, later", "a later change");

  // The page's image reached the mirror through the proxy.
  const proxied = `/api/cobrowse/asset?u=${encodeURIComponent(site.origin + "/img.png")}`;
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("img")?.getAttribute("src"))) === proxied, "the image's URL points at the proxy");
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("img")?.naturalWidth ?? 0)) > 0, "the image loaded through the proxy");

  // The broken image's onerror and the refresh are live on the visitor's page
  // (a control: the page is as hostile as it says), and not in the mirror.
  await waitFor(async () => (await visitor.evaluate(() => /** @type {any} */ (window).__onerror)) === true, "the broken image's handler ran on the visitor's page");
  assert.equal(await visitor.evaluate(() => document.querySelectorAll("meta[http-equiv=refresh]").length), 1);
  await waitFor(async () => (await frame.evaluate((f) => f.contentDocument?.querySelector("#broken")?.getAttribute("src") ?? "")).includes("missing.png"), "the broken image is in the mirror");
  assert.deepEqual(
    await frame.evaluate((f) => [...f.contentDocument.querySelectorAll("*")].flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name) || (e.localName === "meta" && /^http-equiv$/i.test(a.name))).map((a) => `${e.localName}[${a.name}]`))),
    [],
    "no handler and no http-equiv in the mirror",
  );
  assert.equal(await agent.evaluate(() => /** @type {any} */ (window).__pwned), undefined, "nothing ran in the console");
  assert.equal(await agent.evaluate(() => /** @type {any} */ (window).__onerror), undefined, "not even the broken image's handler");
  const foreign = (u) => !u.startsWith(stack.base);
  assert.deepEqual(agentFetched.filter(foreign), [], "the console fetched nothing from another origin");
  assert.deepEqual(blocked.filter(foreign), [], "and no request to one failed");
  assert.deepEqual(cspReports, [], "nor did it even try (the CSP had nothing to stop)");
  // What the site saw a second time came from the proxy, and only images and stylesheets were asked for.
  const visitorHits = site.hits.filter((h) => !h.proxy).map((h) => h.path);
  const proxyHits = site.hits.filter((h) => h.proxy).map((h) => h.path);
  for (const path of proxyHits) assert.match(path, /\.(png|css|woff2)$/, `the proxy fetched ${path}`);
  assert.ok(proxyHits.includes("/img.png"), `the proxy fetched the image: ${proxyHits}`);
  assert.equal([...visitorHits, ...proxyHits].includes("/post"), false, "the form was never posted");
  assert.ok(!site.hits.some((h) => h.path.startsWith("/based/")), "the page's <base> did not steer the mirror");
  assert.deepEqual(outside.hits.filter((h) => h.proxy), [], "the proxy never reached a host that is not allowed");
  assert.ok(outside.hits.some((h) => h.path === "/outside.png"), "(the visitor's page did load from it)");
  assert.equal(await frame.evaluate((f) => f.contentDocument.querySelectorAll("script").length), 0, "no script element in the mirror");
  assertNoProblems(stack);
});

test("crafted events from a visitor's browser act on nothing in the console", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  const agentPaths = [];
  const agentUrls = [];
  agent.on("request", (r) => {
    agentPaths.push(new URL(r.url()).pathname);
    agentUrls.push(r.url());
  });
  const { login } = await import("./harness.mjs");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const { visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo", text: "crafted events", agentPage: agent });
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.locator("[data-sightline] [data-testid=cobrowse-allow]").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");

  // What a modified browser could send instead of rrweb's recording.
  await visitor.evaluate(() => {
    const el = (tagName, attributes, childNodes, id) => ({ type: 2, tagName, attributes, childNodes, id });
    const now = Date.now();
    const send = /** @type {any} */ (window).__sightlineCobrowse;
    send.emit({ type: 4, timestamp: now, data: { href: "https://crafted.example/", width: 800, height: 600 } });
    send.emit({
      type: 2,
      timestamp: now,
      data: {
        initialOffset: { left: 0, top: 0 },
        node: {
          type: 0,
          id: 1,
          childNodes: [
            el("html", {}, [
              el("head", {}, [el("meta", { "http-equiv": "refresh", content: "0;url=/crafted-refresh" }, [], 4), el("style", {}, [{ type: 3, textContent: "body{background:url(/api/me?plainstyle)}", id: 15 }], 14)], 3),
              el(
                "body",
                { onload: "top.__pwned = 'onload'" },
                [
                  el("img", { src: "/crafted-img.png", onerror: "top.__pwned = 'onerror'" }, [], 6),
                  el("img", { src: "/api/conversations/crafted", style: "background: url(/ws/agent)" }, [], 13),
                  el("div", { style: "width:10px;height:10px;background-image:image-set('/api/users?imageset' 1x)" }, [], 16),
                  el("div", { style: "width:10px;height:10px;background:\\75rl(/api/conversations?escaped)" }, [], 17),
                  // The control: a background that may load, in the same style pass.
                  el("div", { style: "width:10px;height:10px;background:url(/crafted-bg.png)" }, [], 18),
                  el("a", { id: "js", href: "javascript:top.__pwned='href'" }, [{ type: 3, textContent: "link", id: 8 }], 7),
                  el("iframe", { srcdoc: "<script>top.__pwned='srcdoc'</script>" }, [], 9),
                  el("script", {}, [{ type: 3, textContent: "top.__pwned = 'script'", id: 11 }], 10),
                ],
                5,
              ),
            ], 2),
          ],
        },
      },
    });
    // A later change, to know when everything before it has been applied.
    send.emit({ type: 3, timestamp: now + 1, data: { source: 0, texts: [], attributes: [{ id: 7, attributes: { onclick: "top.__pwned='attr'", href: "javascript:top.__pwned='attr'" } }], removes: [], adds: [{ parentId: 5, nextId: null, node: el("p", { id: "crafted-done" }, [], 12) }] } });
  });
  const frame = agent.locator("[data-testid=cobrowse-mirror] iframe");
  await waitFor(async () => (await frame.evaluate((f) => !!f.contentDocument?.querySelector("#crafted-done"))) === true, "the crafted page in the mirror");
  const attrs = await frame.evaluate((f) => {
    const d = f.contentDocument;
    return [...d.querySelectorAll("*")].flatMap((e) => [...e.attributes].filter((a) => /^on|http-equiv|srcdoc/i.test(a.name) || /javascript:/i.test(a.value)).map((a) => `${e.tagName}.${a.name}`));
  });
  assert.deepEqual(attrs, [], "no handler, refresh, srcdoc or javascript: URL reached the mirror");
  // The image's own request (same origin as the console) is the later event we can wait for.
  await waitFor(() => agentPaths.includes("/crafted-img.png") && agentPaths.includes("/crafted-bg.png"), "the crafted image and background were requested");
  assert.equal(agentPaths.includes("/crafted-refresh"), false, "the refresh did not navigate the mirror");
  assert.deepEqual(agentPaths.filter((p) => p === "/api/conversations/crafted" || p === "/ws/agent"), [], "the console's API was not called from the mirror");
  assert.deepEqual(agentUrls.filter((u) => /plainstyle|imageset|escaped/.test(u)), [], "not through a style element, image-set() or an escaped url(");
  assert.equal(await agent.evaluate(() => /** @type {any} */ (window).__pwned), undefined, "nothing ran in the console");
  assert.doesNotMatch(await frame.evaluate((f) => f.contentDocument.location.href), /crafted-refresh/, "the mirror's frame was not navigated");
  assert.equal(await frame.evaluate((f) => !!f.contentDocument.querySelector("#crafted-done")), true, "and still shows the page");
  assertNoProblems(stack);
});
