// Serves web/dist with the same URL mapping as the Sightline server:
// /X → dist/X, else dist/X/index.html, else dist/X.html. For previews only.

import http from "node:http";
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon" };

async function resolve(urlPath) {
  const clean = path.posix.normalize(decodeURIComponent(urlPath)).replace(/^\/+/, "").replace(/\/+$/, "");
  if (clean.startsWith("..")) return null;
  for (const cand of [clean, clean + "/index.html", clean + ".html"]) {
    const p = path.join(dist, cand);
    try {
      if ((await fs.stat(p)).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export function startStaticServer(port = 0) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const file = await resolve(url.pathname);
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    res.end(await fs.readFile(file));
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startStaticServer(Number(process.argv[2] || 8080));
  console.log(`serving ${dist} at http://127.0.0.1:${server.address().port}/`);
}
