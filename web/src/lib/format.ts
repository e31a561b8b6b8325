// Formatting and validation helpers shared by the widget and the console. No DOM.

import { MAX_TEXT_CHARS, MAX_URL_BYTES } from "../protocol.gen";

/** Longest link title, in characters (mirrors the server's limit). */
export const MAX_LINK_TITLE_CHARS = 200;

/** Number of Unicode scalar values, which is what the server's limits count. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Bytes of one character (a code point) in UTF-8. */
const utf8Bytes = (ch: string): number => {
  const cp = ch.codePointAt(0) ?? 0;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
};

/** Length of `text` in UTF-8 bytes. */
export function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) n += utf8Bytes(ch);
  return n;
}

/** Cut `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateBytes(text: string, maxBytes: number): string {
  let n = 0;
  let out = "";
  for (const ch of text) {
    n += utf8Bytes(ch);
    if (n > maxBytes) break;
    out += ch;
  }
  return out;
}

/** Cut `text` to at most `max` characters, adding an ellipsis when shortened. */
export function ellipsize(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join("") + "…";
}

export type TextCheck =
  | { ok: true; text: string }
  | { ok: false; reason: "empty" | "too_long"; count: number };

/** Whether a chat message may be sent: not blank, at most MAX_TEXT_CHARS. */
export function checkText(raw: string): TextCheck {
  const count = charCount(raw);
  if (raw.trim() === "") return { ok: false, reason: "empty", count };
  if (count > MAX_TEXT_CHARS) return { ok: false, reason: "too_long", count };
  return { ok: true, text: raw };
}

export type LinkCheck =
  | { ok: true; url: string }
  | { ok: false; reason: "empty" | "invalid" | "scheme" | "too_long" };

/**
 * Validate a URL for a link message: absolute, `http:` or `https:`, with a host,
 * at most MAX_URL_BYTES. A bare `example.com/x` is read as `https://example.com/x`.
 */
export function checkLink(raw: string): LinkCheck {
  let s = raw.trim();
  if (s === "") return { ok: false, reason: "empty" };
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s)) s = "https://" + s;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "scheme" };
  if (!url.hostname || url.username || url.password) return { ok: false, reason: "invalid" };
  const href = url.href;
  if (utf8Length(href) > MAX_URL_BYTES) return { ok: false, reason: "too_long" };
  return { ok: true, url: href };
}

/** The URL if it is a well-formed http(s) URL, else null. Used before rendering links. */
export function safeHttpUrl(raw: string): string | null {
  if (!/^https?:\/\//i.test(raw.trim())) return null;
  const check = checkLink(raw);
  return check.ok ? check.url : null;
}

/** The host part of a URL for display (`www.` removed), or the input on failure. */
export function displayHost(raw: string): string {
  try {
    return new URL(raw).host.replace(/^www\./, "");
  } catch {
    return raw;
  }
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "14:05" today, "3 Mar 14:05" this year, "3 Mar 2023 14:05" otherwise (local time). */
export function formatTime(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const n = new Date(now);
  const hm = pad2(d.getHours()) + ":" + pad2(d.getMinutes());
  if (sameDay(d, n)) return hm;
  const day = d.getDate() + " " + MONTHS[d.getMonth()];
  if (d.getFullYear() === n.getFullYear()) return day + " " + hm;
  return day + " " + d.getFullYear() + " " + hm;
}

/** "14:05" — clock time only. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return pad2(d.getHours()) + ":" + pad2(d.getMinutes());
}

/** Short relative time for lists: "now", "4m", "3h", "2d", then a date. */
export function formatAgo(ms: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return "now";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m";
  const h = Math.floor(m / 60);
  if (h < 24) return h + "h";
  const d = Math.floor(h / 24);
  if (d < 7) return d + "d";
  const date = new Date(ms);
  const day = date.getDate() + " " + MONTHS[date.getMonth()];
  return date.getFullYear() === new Date(now).getFullYear() ? day : day + " " + date.getFullYear();
}

/** A stable, human-friendly label for an anonymous visitor, from the conversation id. */
export function visitorLabel(conversationId: string): string {
  let h = 0;
  for (let i = 0; i < conversationId.length; i++) h = (h * 31 + conversationId.charCodeAt(i)) >>> 0;
  return "Visitor " + (h % 10000).toString().padStart(4, "0");
}

/**
 * What agents call a visitor: the name (else the e-mail address) the host site
 * identified them by, else the anonymous label of {@link visitorLabel}.
 */
export function visitorName(sum: { id: string; visitor_identity?: { name: string | null; email: string | null } | null }): string {
  const who = sum.visitor_identity;
  return who?.name || who?.email || visitorLabel(sum.id);
}

/** Fill `{name}` placeholders. */
export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** Server messages are lower-case fragments ("wrong name or password"): make a sentence. */
export function sentence(message: string): string {
  const m = message.trim();
  if (!m) return m;
  const first = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?…]$/.test(first) ? first : first + ".";
}
