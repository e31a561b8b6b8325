// The /join page on the Sightline server: a full-page way to share a screen.
// - /join: the visitor types the code an agent read to them (voice
//   support), then answers the invitation.
// - /join?share=ID#t=TOKEN: the pop-up a framed widget opens when its frame may
//   not capture; the visitor's token comes in the fragment (never sent to a
//   server) and is removed from the address at once.

import { SESSION_KEY_DIGITS, type Event } from "../protocol.gen";
import { fill, formatClock } from "../lib/format";
import { TOKEN_KEY, VisitorSession, type KeyValueStore } from "../lib/visitor-session";
import { h, replaceChildren } from "../ui/dom";
import { mountShare } from "../widget/share-ui";

function memoryStore(initial: Record<string, string>): KeyValueStore {
  const m = new Map(Object.entries(initial));
  return { get: (k) => m.get(k) ?? null, set: (k, v) => void m.set(k, v), remove: (k) => void m.delete(k) };
}

function localStore(): KeyValueStore {
  return {
    get: (k) => {
      try {
        return localStorage.getItem(k);
      } catch {
        return null;
      }
    },
    set: (k, v) => {
      try {
        localStorage.setItem(k, v);
      } catch {
        /* blocked */
      }
    },
    remove: (k) => {
      try {
        localStorage.removeItem(k);
      } catch {
        /* blocked */
      }
    },
  };
}

const params = new URLSearchParams(location.search);
const shareParam = params.get("share");
const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
const passedToken = fragment.get("t");
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
const popup = !!(shareParam && passedToken);
if (popup) {
  try {
    // The opener is another site: no way back to it from here.
    window.opener = null;
  } catch {
    /* read-only in some browsers */
  }
}

const proto = location.protocol === "https:" ? "wss:" : "ws:";
const session = new VisitorSession({
  wsUrl: `${proto}//${location.host}/ws/visitor`,
  storage: popup ? memoryStore({ [TOKEN_KEY]: passedToken as string }) : localStore(),
  page: () => null,
});

const app = document.getElementById("app") as HTMLElement;
const status = h("p", { class: "join-status", role: "status", "aria-label": "Status", "data-testid": "join-status" });
const slot = h("div", { class: "join-share" });
const log = h("div", { class: "join-log", role: "log", "aria-live": "polite", "aria-label": "Messages", "data-testid": "join-log" });
const input = h("input", { class: "join-input", placeholder: "Write a message…", "aria-label": "Message", "data-testid": "join-input" });
const composer = h("form", { class: "join-composer", hidden: true }, input, h("button", { class: "sl-btn sl-primary", type: "submit", text: "Send" }));
const done = h("p", { class: "join-done", "data-testid": "join-done", hidden: true, text: "Screen sharing has ended. You can close this window." });
replaceChildren(
  app,
  h(
    "main",
    { class: "join-card" },
    h("h1", null, h("span", { class: "join-mark", "aria-hidden": "true", text: "S" }), h("span", { text: popup ? "Share your screen" : "Join with a code" })),
    h(
      "p",
      { class: "join-lead", text: popup ? "Your support agent asked to see your screen. Nothing is shared until you choose what to show." : `Your support agent gave you a ${SESSION_KEY_DIGITS}-digit code. Enter it to connect; you decide what, if anything, to share.` },
    ),
    status,
    slot,
    done,
    log,
    composer,
  ),
);

composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (session.sendText(input.value).ok) input.value = "";
});

const api = mountShare({
  session,
  origin: location.origin,
  slot,
  floatParent: document.body,
  styleRoot: document,
  isOpen: () => true,
  openPanel: () => undefined,
});

function line(e: Event): string | null {
  switch (e.kind) {
    case "message":
      return e.body.kind === "text"
        ? `${e.from === "agent" ? e.agent?.display_name || "Agent" : "You"}: ${e.body.text}`
        : e.body.kind === "image"
          ? `${e.from === "agent" ? e.agent?.display_name || "Agent" : "You"}: (picture, see the chat)`
          : `${e.agent?.display_name || "Agent"}: ${e.body.url}`;
    case "joined_with_key":
      return fill("You are connected with {name}", { name: e.agent.display_name });
    case "share":
      return e.state === "sharing" ? "You shared your screen" : e.state === "ended" ? "Screen sharing ended" : e.state === "declined" ? "You declined to share your screen" : e.state === "failed" || e.state === "cancelled" ? "Screen sharing did not start" : null;
    case "closed":
      return "The conversation ended";
    default:
      return null;
  }
}

let sawShare = false;
function render(): void {
  const link = session.link;
  status.textContent = link === "online" ? "" : link === "reconnecting" ? "Reconnecting…" : "Connecting…";
  status.hidden = link === "online" && !session.notice;
  if (session.notice && link === "online") status.textContent = session.notice;
  const rows: HTMLElement[] = [];
  for (const it of session.transcript.items()) {
    if (it.type !== "event") continue;
    const text = line(it.event);
    if (text) rows.push(h("div", { class: "join-line", "data-testid": "join-line", "data-kind": it.event.kind }, h("time", { text: formatClock(it.event.at) }), h("span", { text })));
  }
  replaceChildren(log, ...rows);
  composer.hidden = !(session.state === "active");
  const phase = api.share.phase;
  if (phase === "sharing" || phase === "picking") sawShare = true;
  done.hidden = !(popup && sawShare && phase === "idle");
}

session.subscribe(() => queueMicrotask(render));
session.start();
if (!popup) api.openCodeForm();
render();
