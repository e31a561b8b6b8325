// The /join page on the Sightline server: a full-page way to share a screen.
// - /join: the visitor types the code an agent read to them (voice
//   support), then answers the invitation.
// - /join?share=ID#t=TOKEN: the pop-up a framed widget opens when its frame may
//   not capture; the visitor's token comes in the fragment (never sent to a
//   server) and is removed from the address at once.
// The language is `?lang=` (the widget passes its own to the pop-up), else the
// browser's; the company's name and logo come from the server's configuration,
// which writes them into the page's <meta> tags (read here, shown as text and
// an <img>, never as HTML).

import { SESSION_KEY_DIGITS, type Event, type ImageRef } from "../protocol.gen";
import { fill, formatClock } from "../lib/format";
import { TOKEN_KEY, VisitorSession, type KeyValueStore } from "../lib/visitor-session";
import { h, replaceChildren } from "../ui/dom";
import { mountShare } from "../widget/share-ui";
import { mountImages } from "../widget/images-ui";
import { browserDevice } from "../widget/device";
import { en, pickLang, type Lang, type Strings } from "../widget/i18n";
import de from "../widget/i18n-de";
import fr from "../widget/i18n-fr";
import { JOIN_STRINGS } from "./i18n";

const WIDGET_STRINGS: Record<Lang, Strings> = { en, de, fr };

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
const lang = pickLang(params.get("lang"), navigator.languages || [navigator.language]);
const w = WIDGET_STRINGS[lang];
const t = JOIN_STRINGS[lang];
document.documentElement.lang = lang;

/** A setting the server wrote into the page, or null. */
function meta(name: string): string | null {
  const value = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim();
  return value || null;
}
const companyName = meta("sightline-company-name");
const companyLogo = meta("sightline-company-logo");
document.title = fill(t.docTitle, { brand: companyName ?? "Sightline" });
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
  // A phone tells the server it cannot share its screen: the agent then asks for a
  // screenshot, and an invitation offers the picture picker (below). This page is
  // Sightline's own, not the caller's: there is nothing of theirs to co-browse.
  device: () => ({ ...browserDevice(), can_cobrowse: false }),
});

const app = document.getElementById("app") as HTMLElement;
const status = h("p", { class: "join-status", role: "status", "aria-label": t.status, "data-testid": "join-status" });
const slot = h("div", { class: "join-share" });
const log = h("div", { class: "join-log", role: "log", "aria-live": "polite", "aria-label": w.log, "data-testid": "join-log" });
const input = h("input", { class: "join-input", placeholder: w.placeholder, "aria-label": w.messageLabel, "data-testid": "join-input" });
const composer = h("form", { class: "join-composer", hidden: true }, input, h("button", { class: "sl-btn sl-primary", type: "submit", text: t.sendButton }));
const done = h("p", { class: "join-done", "data-testid": "join-done", hidden: true, text: t.done });
// The company: its logo and name when configured, else the plain mark.
const brand =
  companyName || companyLogo
    ? h(
        "div",
        { class: "join-brand", "data-testid": "join-brand" },
        companyLogo ? h("img", { class: "join-logo", src: companyLogo, alt: companyName ? fill(t.logoAlt, { name: companyName }) : t.logoAltPlain, "data-testid": "join-logo" }) : null,
        companyName ? h("span", { class: "join-company", "data-testid": "join-company", text: companyName }) : null,
      )
    : null;
replaceChildren(
  app,
  h(
    "main",
    { class: "join-card" },
    brand,
    h("h1", null, brand ? null : h("span", { class: "join-mark", "aria-hidden": "true", text: "S" }), h("span", { "data-testid": "join-title", text: popup ? t.titlePopup : t.titleCode })),
    h("p", { class: "join-lead", "data-testid": "join-lead", text: popup ? t.leadPopup : fill(t.leadCode, { n: SESSION_KEY_DIGITS }) }),
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

// Pictures: an agent's request for a screenshot (its card), a phone's picture
// instead of a share, and thumbnails of the pictures in the log.
const images = mountImages({ session, origin: location.origin, slot, floatParent: document.body, styleRoot: document, lang });

const api = mountShare({
  session,
  origin: location.origin,
  slot,
  floatParent: document.body,
  styleRoot: document,
  isOpen: () => true,
  openPanel: () => undefined,
  lang,
  images: (then) => then(images),
});

function line(e: Event): string | null {
  switch (e.kind) {
    case "message": {
      const who = e.from === "agent" ? e.agent?.display_name || t.agent : w.you;
      return `${who}: ${e.body.kind === "text" ? e.body.text : e.body.kind === "image" ? t.picture : e.body.url}`;
    }
    case "joined_with_key":
      return fill(t.connectedWith, { name: e.agent.display_name });
    case "share":
      return e.state === "sharing" ? w.shareStarted : e.state === "ended" ? w.shareEnded : e.state === "declined" ? w.shareDeclined : e.state === "failed" || e.state === "cancelled" ? w.shareFailed : null;
    case "closed":
      return w.subtitleClosed;
    default:
      return null;
  }
}

/** One thumbnail per picture, kept across renders (no refetch, no flicker). */
const thumbs = new Map<string, HTMLElement>();
function thumbFor(ref: ImageRef): HTMLElement {
  let el = thumbs.get(ref.id);
  if (!el) {
    el = h("button", { type: "button", class: "join-thumb", "data-testid": "join-thumb" });
    images.thumb(el, ref);
    thumbs.set(ref.id, el);
  }
  return el;
}

let sawShare = false;
function render(): void {
  const link = session.link;
  status.textContent = link === "online" ? "" : link === "reconnecting" ? w.reconnecting : w.connecting;
  status.hidden = link === "online" && !session.notice;
  if (session.notice && link === "online") status.textContent = w.errors[session.notice];
  const rows: HTMLElement[] = [];
  for (const it of session.transcript.items()) {
    if (it.type !== "event") continue;
    const text = line(it.event);
    if (!text) continue;
    const e = it.event;
    const thumb = e.kind === "message" && e.body.kind === "image" ? thumbFor(e.body.image) : null;
    rows.push(h("div", { class: "join-line", "data-testid": "join-line", "data-kind": e.kind }, h("time", { text: formatClock(e.at) }), h("span", { text }), thumb));
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
