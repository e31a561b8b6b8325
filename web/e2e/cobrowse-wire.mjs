// What a visitor's browser sends, for the co-browse tests that search it for
// secrets: WebSocket frames (stream frames reassembled and inflated) and HTTP
// request bodies.

import { inflateRawSync } from "node:zlib";

/**
 * Everything the visitor's browser sends: WebSocket frames (stream frames decoded:
 * reassembled and inflated) and HTTP request bodies, as text.
 */
export function recordOutgoing(page) {
  const out = [];
  page.on("websocket", (ws) => {
    let parts = [];
    ws.on("framesent", (f) => {
      const bytes = typeof f.payload === "string" ? Buffer.from(f.payload) : f.payload;
      out.push(bytes.toString("latin1"));
      if (typeof f.payload === "string" || bytes.length < 10 || bytes[0] !== 1) return;
      // Our stream frame: a 10-byte header, then a part of a message (stream-frames.ts).
      const index = bytes.readUInt16BE(6);
      const count = bytes.readUInt16BE(8);
      if (index === 0) parts = [];
      parts.push(bytes.subarray(10));
      if (parts.length === count) {
        const whole = Buffer.concat(parts);
        out.push(((bytes[1] & 1) !== 0 ? inflateRawSync(whole) : whole).toString("utf8"));
        parts = [];
      }
    });
  });
  page.on("request", (r) => {
    const body = r.postDataBuffer();
    if (body) out.push(body.toString("latin1"), body.toString("utf8"));
    out.push(r.url());
  });
  return out;
}
