// Diagnostics from the co-browsed page (console errors, exceptions, failed
// requests): their shape, and reading them back out of the stream's items. They
// arrive as rrweb custom events (type 5) tagged `sightline/diag`; everything in
// them came from the visitor's browser and is shown as text only.

import { DIAG_TAG as TAG, MAX_DIAG_TEXT_CHARS as MAX_TEXT, type DiagEntry } from "../protocol.gen";
import { EventType } from "./rrweb-codes";

export type { DiagEntry };
const CUSTOM = EventType.Custom;

const str = (v: unknown, max = MAX_TEXT): string | null => (typeof v === "string" ? v.slice(0, max) : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The diagnostics among stream items, checked field by field (anything else is dropped). */
export function diagnosticsIn(items: unknown[]): DiagEntry[] {
  const out: DiagEntry[] = [];
  for (const item of items) {
    const e = item as { type?: unknown; data?: { tag?: unknown; payload?: Record<string, unknown> } };
    if (!e || e.type !== CUSTOM || e.data?.tag !== TAG || !e.data.payload || typeof e.data.payload !== "object") continue;
    const p = e.data.payload;
    const at = num(p.at) ?? 0;
    if (p.kind === "console" && (p.level === "error" || p.level === "warn")) {
      const text = str(p.text);
      if (text !== null) out.push({ kind: "console", at, level: p.level, text });
    } else if (p.kind === "exception") {
      const text = str(p.text);
      if (text !== null) out.push({ kind: "exception", at, text, source: str(p.source, 300) });
    } else if (p.kind === "network") {
      const method = str(p.method, 16);
      const url = str(p.url, 300);
      const status = num(p.status);
      const ms = num(p.ms);
      if (method && url && status !== null && ms !== null) out.push({ kind: "network", at, method, url, status, ms });
    }
  }
  return out;
}

/** One line of text for an entry. */
export function diagText(d: DiagEntry): string {
  switch (d.kind) {
    case "console":
      return `console.${d.level}: ${d.text}`;
    case "exception":
      return `${d.text}${d.source ? ` (${d.source})` : ""}`;
    case "network":
      return `${d.method} ${d.url} → ${d.status === 0 ? "failed" : d.status} (${d.ms} ms)`;
  }
}
