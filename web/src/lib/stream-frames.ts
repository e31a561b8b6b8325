// The binary frames of a stream (co-browsing now, later remote control and
// recording): one message is a JSON array of items, cut into chunks that each fit
// in a relay frame (the relay takes at most 1 MiB per frame; a full page snapshot
// can be several). No DOM access: the codec is tested under node.
//
// A frame is a 10-byte header and a part of the message's bytes (docs/protocol.md,
// "Stream messages"; the relay checks them, sightline_core::stream_check):
//   0      version (1)
//   1      flags: bit 0 = the message's bytes are deflate-raw compressed
//   2..5   message number (u32, big-endian; the publisher counts up)
//   6..7   this chunk's index (u16)
//   8..9   the message's number of chunks (u16)
// The message's bytes are the chunks' parts in order, then (when flagged)
// inflated, then UTF-8 JSON.

import { STREAM_CHUNK_BYTES, STREAM_FRAME_VERSION, STREAM_HEADER_BYTES, STREAM_MAX_MESSAGE_BYTES } from "../protocol.gen";

export const FRAME_VERSION = STREAM_FRAME_VERSION;
export const HEADER_BYTES = STREAM_HEADER_BYTES;
/** The payload of one frame: well under the relay's 1 MiB frame limit. */
export const CHUNK_BYTES = STREAM_CHUNK_BYTES;
/** The largest message (64 chunks), as sent and once inflated. */
export const MAX_MESSAGE_BYTES = STREAM_MAX_MESSAGE_BYTES;
const FLAG_DEFLATE = 1;

/** Cuts a message's bytes into frames. `bytes` may be empty (one empty frame). */
export function frameMessage(id: number, bytes: Uint8Array, compressed: boolean): Uint8Array[] {
  if (bytes.length > MAX_MESSAGE_BYTES) throw new RangeError(`message of ${bytes.length} bytes is over ${MAX_MESSAGE_BYTES}`);
  const count = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = bytes.subarray(i * CHUNK_BYTES, Math.min(bytes.length, (i + 1) * CHUNK_BYTES));
    const frame = new Uint8Array(HEADER_BYTES + part.length);
    const view = new DataView(frame.buffer);
    view.setUint8(0, FRAME_VERSION);
    view.setUint8(1, compressed ? FLAG_DEFLATE : 0);
    view.setUint32(2, id >>> 0);
    view.setUint16(6, i);
    view.setUint16(8, count);
    frame.set(part, HEADER_BYTES);
    frames.push(frame);
  }
  return frames;
}

export interface Reassembled {
  id: number;
  compressed: boolean;
  bytes: Uint8Array;
}

/**
 * Puts chunks back together. Chunks of one message arrive in order (one socket,
 * one publisher); a message left incomplete (the relay dropped frames and said
 * `resync`, or the publisher reconnected) is discarded when the next one starts.
 */
export class Reassembler {
  private current: { id: number; compressed: boolean; count: number; parts: Uint8Array[]; size: number } | null = null;
  /** Frames that could not be used (malformed, out of order, too large). */
  dropped = 0;

  /** Feeds one frame; a whole message when this frame completes one. */
  push(frame: Uint8Array): Reassembled | null {
    if (frame.length < HEADER_BYTES) return this.drop();
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (view.getUint8(0) !== FRAME_VERSION) return this.drop();
    const compressed = (view.getUint8(1) & FLAG_DEFLATE) !== 0;
    const id = view.getUint32(2);
    const index = view.getUint16(6);
    const count = view.getUint16(8);
    if (count === 0 || index >= count || count * CHUNK_BYTES > MAX_MESSAGE_BYTES) return this.drop();
    const part = frame.subarray(HEADER_BYTES);
    if (index === 0) {
      if (this.current) this.dropped++;
      this.current = { id, compressed, count, parts: [], size: 0 };
    }
    const cur = this.current;
    if (!cur || cur.id !== id || cur.count !== count || cur.parts.length !== index) {
      this.current = null;
      return this.drop();
    }
    cur.parts.push(part);
    cur.size += part.length;
    if (cur.size > MAX_MESSAGE_BYTES) {
      this.current = null;
      return this.drop();
    }
    if (cur.parts.length < count) return null;
    this.current = null;
    const bytes = new Uint8Array(cur.size);
    let at = 0;
    for (const p of cur.parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return { id, compressed, bytes };
  }

  /** Forgets a half-received message (after `resync`). */
  reset(): void {
    this.current = null;
  }

  private drop(): null {
    this.dropped++;
    return null;
  }
}

/** Compresses with the platform's deflate-raw (browsers and node 18+). */
export async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  return transform(bytes, new CompressionStream("deflate-raw"));
}

/** Inflates at most `limit` bytes; more is an error (a compression bomb). */
export async function inflate(bytes: Uint8Array, limit = MAX_MESSAGE_BYTES): Promise<Uint8Array> {
  return transform(bytes, new DecompressionStream("deflate-raw"), limit);
}

async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, limit = Infinity): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Fed in slices, each once the stream wants more: a small input that inflates
  // enormously is stopped at `limit`, not after it has all been inflated.
  const SLICE = 32 * 1024;
  void (async () => {
    for (let at = 0; at < bytes.length; at += SLICE) {
      await writer.ready;
      await writer.write(bytes.subarray(at, at + SLICE) as unknown as BufferSource);
    }
    await writer.close();
  })().catch(() => {});
  const reader = stream.readable.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new RangeError(`inflated message is over ${limit} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Encodes items as one message: JSON, compressed when that is smaller. */
export async function encodeItems(id: number, items: unknown[]): Promise<Uint8Array[]> {
  const raw = new TextEncoder().encode(wellFormedJson(JSON.stringify(items)));
  if (raw.length >= 512 && typeof CompressionStream === "function") {
    const packed = await deflate(raw);
    if (packed.length < raw.length) return frameMessage(id, packed, true);
  }
  return frameMessage(id, raw, false);
}

/**
 * JSON whose strings are all well-formed: JSON.stringify writes a lone surrogate
 * (half an emoji cut off, or broken text on a page) as a `\udXXX` escape, which
 * is not Unicode and which the relay refuses (and the whole message with it). Each
 * becomes U+FFFD; an escaped backslash before it is left alone.
 */
export function wellFormedJson(json: string): string {
  if (!/\\u[dD][89a-fA-F]/.test(json)) return json;
  return json.replace(/(\\*)\\u([dD][89a-fA-F][0-9a-fA-F]{2})(?:\\u([dD][c-fC-F][0-9a-fA-F]{2}))?/g, (whole, slashes: string, first: string, second: string | undefined) => {
    // An even run of backslashes before it: they escape each other, and this is
    // an escape of its own. An odd run: it is text ("\\u..."), left as it is.
    if (slashes.length % 2 === 1) return whole;
    const high = parseInt(first, 16);
    if (second !== undefined && high < 0xdc00) return whole;
    return `${slashes}\\ufffd${second !== undefined ? `\\u${second}` : ""}`;
  });
}

/** Decodes a reassembled message back into its items; throws when malformed. */
export async function decodeItems(message: Reassembled): Promise<unknown[]> {
  const bytes = message.compressed ? await inflate(message.bytes) : message.bytes;
  const items: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (!Array.isArray(items)) throw new TypeError("a stream message is a JSON array");
  return items;
}
