// What helps an agent diagnose, captured while co-browsing is on: console errors
// and warnings, unhandled exceptions, and failed network requests (method, URL
// without its query string or fragment, status, duration). Never request or
// response bodies or headers. Each goes out as an rrweb custom event
// (`sightline/diag`); everything is undone when capture stops.

import type { DiagEntry } from "../protocol.gen";

const MAX_TEXT = 300;

/** A URL without query string and fragment (they often carry tokens). */
export function bareUrl(raw: string, base: string = location.href): string {
  try {
    const u = new URL(raw, base);
    return `${u.origin}${u.pathname}`.replace(/[?#].*$/, "").slice(0, MAX_TEXT);
  } catch {
    return "(unreadable URL)";
  }
}

/** A request's method as the relay accepts it: a short HTTP token, else "OTHER". */
export function requestMethod(method: string): string {
  const m = String(method).toUpperCase();
  return /^[A-Z0-9!#$%&'*+.^_`|~-]{1,16}$/.test(m) ? m : "OTHER";
}

/**
 * Text that may hold what the visitor typed, made safe to send: URLs lose their
 * query and fragment, e-mail addresses and runs of 4 or more digits (card, account
 * and phone numbers, codes) become ▪.
 */
export function redact(s: string): string {
  return s
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => url.replace(/[?#].*$/, ""))
    .replace(/[^\s@"'<>]+@[^\s@"'<>]+\.[a-z]{2,}/gi, "▪@▪")
    .replace(/\d(?:[\d\s-]{2,}\d)/g, (run) => (run.replace(/\D/g, "").length >= 4 ? "▪" : run));
}

/** Objects are named, never serialised: their fields may be what the visitor typed. */
export function text(value: unknown): string {
  let s: string;
  if (value instanceof Error) s = `${value.name}: ${value.message}`;
  else if (typeof value === "string") s = value;
  else if (value === null || typeof value !== "object") s = String(value);
  else s = `[${(value as object).constructor?.name || "object"}]`;
  s = redact(s);
  // Cut on whole characters: half an emoji is not a string the server takes.
  const chars = Array.from(s);
  return chars.length > MAX_TEXT ? chars.slice(0, MAX_TEXT).join("") + "…" : s;
}

/**
 * Starts capturing; returns the function that undoes it. `own` is the Sightline
 * server's origin: its API's requests are the widget's, not the page's.
 */
export function captureDiagnostics(report: (entry: DiagEntry) => void, own: string): () => void {
  const undo: (() => void)[] = [];
  const at = () => Date.now();
  // Once stopped, a wrapper the page has wrapped again (so it cannot be taken
  // out) only passes through.
  let active = true;
  const restore = <T extends object, K extends keyof T>(target: T, key: K, wrapper: T[K], original: T[K]) => {
    if (target[key] === wrapper) target[key] = original;
  };

  const onError = (ev: ErrorEvent) => report({ kind: "exception", at: at(), text: text(ev.error ?? ev.message), source: ev.filename ? `${bareUrl(ev.filename)}:${ev.lineno}` : null });
  const onRejection = (ev: PromiseRejectionEvent) => report({ kind: "exception", at: at(), text: `Unhandled rejection: ${text(ev.reason)}`, source: null });
  window.addEventListener("error", onError);
  window.addEventListener("unhandledrejection", onRejection);
  undo.push(() => window.removeEventListener("error", onError), () => window.removeEventListener("unhandledrejection", onRejection));

  for (const level of ["error", "warn"] as const) {
    const original = console[level];
    const wrapper = function (this: Console, ...args: unknown[]) {
      if (active) {
        try {
          report({ kind: "console", at: at(), level, text: text(args.map(text).join(" ")) });
        } catch {
          // never break the page's logging
        }
      }
      return original.apply(this, args);
    };
    console[level] = wrapper;
    undo.push(() => restore(console, level, wrapper, original));
  }

  // The widget's own requests (its API and bundles on the Sightline server; on the
  // demo site the page shares that origin).
  const mine = (url: string) => {
    try {
      const u = new URL(url, location.href);
      return u.origin === own && (u.pathname.startsWith("/api/") || u.pathname.startsWith("/widget"));
    } catch {
      return false;
    }
  };
  const failed = (method: string, url: string, status: number, started: number) => {
    if (!active || mine(url)) return;
    report({ kind: "network", at: at(), method: requestMethod(method), url: bareUrl(url), status, ms: Math.round(performance.now() - started) });
  };

  const originalFetch = window.fetch;
  if (typeof originalFetch === "function") {
    const wrapper = async function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      const started = performance.now();
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      try {
        const response = await originalFetch.call(this, input, init);
        if (!response.ok) failed(method, url, response.status, started);
        return response;
      } catch (err) {
        failed(method, url, 0, started);
        throw err;
      }
    };
    window.fetch = wrapper as typeof window.fetch;
    undo.push(() => restore(window, "fetch", wrapper as typeof window.fetch, originalFetch));
  }

  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  const seen = new WeakMap<XMLHttpRequest, { method: string; url: string }>();
  const openWrapper = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    seen.set(this, { method, url: String(url) });
    return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof proto.open;
  const sendWrapper = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const req = seen.get(this);
    if (req) {
      const started = performance.now();
      this.addEventListener("loadend", () => {
        if (this.status === 0 || this.status >= 400) failed(req.method, req.url, this.status, started);
      });
    }
    return send.call(this, body);
  };
  proto.open = openWrapper;
  proto.send = sendWrapper;
  undo.push(() => {
    restore(proto, "open", openWrapper, open);
    restore(proto, "send", sendWrapper, send);
  });

  return () => {
    active = false;
    for (const fn of undo.reverse()) fn();
  };
}
