// The widget's DOM: a launcher button and a chat panel inside a shadow root.
// Message data is only ever written with textContent / text nodes.

import { MAX_TEXT_CHARS, type AgentRef, type ErrorCode } from "../protocol.gen";
import { charCount, fill, formatClock, safeHttpUrl, truncateBytes } from "../lib/format";
import type { OutboxItem } from "../lib/transcript";
import { IDENTIFY_REF, VisitorSession, type KeyValueStore } from "../lib/visitor-session";
import { AVATAR_HEX } from "../lib/avatar-hex";
import { ICONS, h, icon, replaceChildren } from "../ui/dom";
import { KeyedList, type Row } from "../ui/keyed";
import css from "./widget.css";
import type { Lang, Strings } from "./i18n";
import { loadBundle } from "./load";
import type { LinksApi } from "./links-ui";
import { browserDevice } from "./device";
import { watchRoutes } from "./routes";

export interface WidgetConfig {
  origin: string;
  title: string | null;
  color: string | null;
  lang: Lang;
  shareTab?: string | null;
}

const OPEN_KEY = "sightline.open";

type Listener = (detail?: unknown) => void;
const listeners: Record<string, Set<Listener>> = {};

/**
 * Tells the host page's listeners (`Sightline.on(name, fn)`), each in a task of
 * its own: a listener that throws or is slow holds up neither the widget nor the others.
 */
function emit(name: string, detail?: unknown): void {
  for (const fn of listeners[name] || []) setTimeout(fn, 0, detail);
}
const COUNTER_FROM = MAX_TEXT_CHARS - 400;
const GROUP_MS = 5 * 60 * 1000;

function storage(kind: "localStorage" | "sessionStorage"): KeyValueStore {
  // Where storage is blocked (e.g. a third-party frame) or full, values live as long as the page.
  const mem = new Map<string, string>();
  const on = <T>(fn: (s: Storage) => T): T | undefined => {
    try {
      return fn(window[kind]);
    } catch {
      return undefined;
    }
  };
  return {
    get: (k) => on((s) => s.getItem(k)) ?? mem.get(k) ?? null,
    set: (k, v) => {
      mem.set(k, v);
      on((s) => s.setItem(k, v));
    },
    remove: (k) => {
      mem.delete(k);
      on((s) => s.removeItem(k));
    },
  };
}

/** A CSS colour from the embedder, if it is a valid one. */
function safeColor(value: string | null): string | null {
  if (!value) return null;
  try {
    return typeof CSS !== "undefined" && CSS.supports("color", value) ? value : null;
  } catch {
    return null;
  }
}

/** Mounts the widget, in `config.lang`, whose strings are `t`. */
export function mountWidget(config: WidgetConfig, t: Strings): void {
  const lang = config.lang;
  const title = (config.title || "").trim() || t.defaultTitle;
  const local = storage("localStorage");
  const session_ = storage("sessionStorage");
  const session = new VisitorSession({
    wsUrl: config.origin.replace(/^http/, "ws") + "/ws/visitor",
    storage: local,
    page: () => ({ url: truncateBytes(location.href, 2048), title: truncateBytes(document.title || "", 2048) }),
    // What agents may offer: a phone cannot share its screen (it can send a picture).
    device: browserDevice,
  });

  // A custom element name: page rules for div, span, … do not match the host.
  const host = document.createElement("sightline-widget");
  host.setAttribute("data-sightline", "widget");
  const shadow = host.attachShadow({ mode: "open" });
  // A constructed stylesheet is not subject to the host page's style-src CSP.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
  } catch {
    shadow.appendChild(h("style", { text: css }));
  }

  // ---- static structure ----
  const avatar = h("div", { class: "avatar", "aria-hidden": "true" });
  const subtitle = h("p", { class: "subtitle", "data-testid": "subtitle" });
  const endBtn = h("button", { class: "icon-btn", type: "button", "aria-label": t.endConversation, title: t.endConversation, "data-testid": "end" }, icon(ICONS.power, 18));
  const minBtn = h("button", { class: "icon-btn", type: "button", "aria-label": t.minimize, title: t.minimize, "data-testid": "minimize" }, icon(ICONS.chevronDown, 22));
  const header = h(
    "header",
    { class: "header" },
    avatar,
    h("div", { class: "head-text" }, h("h2", { class: "title", id: "sl-title", text: title }), subtitle),
    endBtn,
    minBtn,
  );
  // Named after the chat, like the panel: a string of its own would cost bytes in every language.
  const status = h("div", { class: "status", role: "status", "aria-label": title, "data-testid": "status", hidden: true });
  const shareSlot = h("div", { "data-testid": "share-slot" });
  const greeting = h("div", { class: "greeting", text: t.greeting });
  const log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.log, "data-testid": "log", tabindex: "0" }, greeting);
  const typing = h("div", { class: "typing", "data-testid": "typing", hidden: true });
  const input = h("textarea", {
    class: "input",
    rows: "1",
    placeholder: t.placeholder,
    "aria-label": t.messageLabel,
    "data-testid": "input",
    enterkeyhint: "send",
  });
  const sendBtn = h("button", { class: "send", type: "submit", "aria-label": t.send, title: t.send, "data-testid": "send", disabled: true }, icon(ICONS.send, 18));
  const counter = h("div", { class: "counter", "data-testid": "counter", "aria-live": "polite", hidden: true });
  const attachBtn = h("button", { class: "send attach", type: "button", "aria-label": t.attach, title: t.attach, "data-testid": "attach", onclick: () => withImages((m) => m.pick()) }, icon(ICONS.clip, 18));
  const composer = h("form", { class: "composer" }, attachBtn, input, sendBtn, counter);
  const uploads = h("div", { "data-testid": "uploads" });
  // Shown when a message arrives while the visitor reads further up; back to the newest on click.
  const more = h("button", { class: "more", type: "button", "data-testid": "new-message", hidden: true, onclick: () => ((stick = true), pin()) }, icon(ICONS.chevronDown, 16), t.newMessage);
  const panel = h(
    "section",
    { class: "panel", role: "dialog", "aria-labelledby": "sl-title", "data-testid": "panel", hidden: true },
    header,
    status,
    shareSlot,
    log,
    h("div", { class: "jump" }, more),
    uploads,
    typing,
    composer,
    h(
      "div",
      { class: "footer" },
      h("button", { class: "code-link", type: "button", "data-testid": "have-code", text: t.haveCode, onclick: () => loadShare((s) => s.openCodeForm()) }),
      " · " + t.powered,
    ),
  );
  const badge = h("span", { class: "badge", "data-testid": "unread", hidden: true });
  const launcherOpen = icon(ICONS.chat, 26);
  const launcherClose = icon(ICONS.close, 26);
  const launcher = h("button", { class: "launcher", type: "button", "aria-label": t.openChat, "aria-expanded": "false", "data-testid": "launcher" }, launcherOpen, launcherClose, badge);
  // Read aloud in the widget's language, whatever the page's.
  const root = h("div", { class: "root", lang }, panel, launcher);
  const color = safeColor(config.color);
  if (color) root.style.setProperty("--accent", color);
  shadow.appendChild(root);
  document.body.appendChild(host);

  // ---- state ----
  let open = false;
  // The host page hid the launcher (`Sightline.hide()`).
  let hidden = false;
  let unread = 0;
  let scheduled = false;
  const list = new KeyedList();
  // Keep the newest message in view unless the visitor scrolled up to read.
  let stick = true;
  let lastTop = 0;
  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  const pin = () => {
    if (stick) {
      log.scrollTop = log.scrollHeight;
      more.hidden = true;
    }
  };
  log.addEventListener("scroll", () => {
    // Only a move up leaves the bottom: a log that shrank (the sharing bar) or
    // grew (a picture) under a pinned view has not been scrolled away from.
    stick = nearBottom() || (stick && log.scrollTop >= lastTop);
    lastTop = log.scrollTop;
    if (stick) more.hidden = true;
  });
  // The log's box, every row and every image's load: a picture (or a part styled
  // by a lazily loaded bundle) grows its row after it was inserted, and a pinned
  // view follows.
  const resized = typeof ResizeObserver !== "undefined" ? new ResizeObserver(pin) : null;
  resized?.observe(log);
  log.addEventListener("load", pin, true);

  function setOpen(value: boolean, focus: boolean): void {
    if (value !== open) emit(value ? "open" : "close");
    if (value && unread) emit("unread", 0);
    open = value;
    session_.set(OPEN_KEY, value ? "1" : "0");
    if (value) {
      unread = 0;
      session.start();
    }
    if (value) stick = true;
    render();
    if (value) {
      if (focus) input.focus();
    } else if (focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", () => setOpen(!open, true));
  minBtn.addEventListener("click", () => setOpen(false, true));
  endBtn.addEventListener("click", () => session.closeConversation());
  panel.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") setOpen(false, true);
  });

  function autosize(): void {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 132) + "px";
  }

  function updateComposer(): void {
    const n = charCount(input.value);
    const over = n > MAX_TEXT_CHARS;
    sendBtn.disabled = input.value.trim() === "" || over;
    counter.hidden = n < COUNTER_FROM;
    counter.textContent = over ? `${t.tooLong} · ${n} / ${MAX_TEXT_CHARS}` : `${n} / ${MAX_TEXT_CHARS}`;
    counter.classList.toggle("over", over);
  }

  function submit(): void {
    const r = session.sendText(input.value);
    if (!r.ok) {
      updateComposer();
      return;
    }
    input.value = "";
    autosize();
    updateComposer();
    stick = true;
    render();
  }

  composer.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    autosize();
    updateComposer();
    session.typing(input.value.trim() === "");
  });

  // ---- rendering ----
  function agentName(e: { agent?: AgentRef | null }): string {
    return e.agent?.display_name || session.agent?.display_name || t.someone;
  }

  interface Msg {
    key: string;
    from: "visitor" | "agent";
    body: OutboxItem["body"];
    at: number;
    seq?: number;
    state: string;
    sender?: string;
    cont: boolean;
    last: boolean;
    clientId: string;
    error?: string;
  }

  function messageRow(m: Msg): Row {
    const text = m.body.kind === "text" ? m.body.text : m.body.kind === "image" ? m.body.image.id : m.body.url + "\n" + (m.body.title ?? "");
    return {
      key: m.key,
      sig: [m.seq ?? "", m.state, m.sender ?? "", m.cont, m.last, m.at, m.error ?? "", text.length].join("|"),
      build: () => {
        const body = m.body;
        const el = h("div", {
          class: `msg ${m.from} ${m.state}${m.cont ? " cont" : ""}`,
          "data-testid": "message",
          "data-from": m.from,
          "data-state": m.state,
          "data-seq": m.seq,
          "data-client-id": m.clientId,
        });
        if (m.sender) el.appendChild(h("div", { class: "sender", text: m.sender }));
        const safe = body.kind === "link" ? safeHttpUrl(body.url) : null;
        if (body.kind === "image") {
          const b = h("button", { class: "img", type: "button", "data-testid": "image-thumb", "data-image-id": body.image.id });
          el.appendChild(b);
          withImages((m) => m.thumb(b, body.image));
        } else if (body.kind === "link" && safe) {
          const slot = el.appendChild(h("span"));
          withLinks((m) => m.card(slot, safe, body.title));
        } else {
          el.appendChild(h("div", { class: "bubble", "data-testid": "message-text", text: body.kind === "text" ? body.text : (body as { url: string }).url }));
        }
        if (m.state === "pending") el.appendChild(h("div", { class: "meta", text: t.sending }));
        else if (m.state === "failed") {
          el.appendChild(
            h(
              "div",
              { class: "meta" },
              h("span", { class: "bad", title: m.error ? t.errors[m.error as ErrorCode] || "" : "", text: t.notSent }),
              h("button", { class: "retry", type: "button", "data-testid": "retry", text: t.retry, onclick: () => session.retry(m.clientId) }),
            ),
          );
        } else if (m.last) el.appendChild(h("div", { class: "meta", text: formatClock(m.at) }));
        return el;
      },
    };
  }

  function systemRow(key: string, text: string, cls = "system"): Row {
    return { key, sig: text, build: () => h("div", { class: cls, "data-testid": cls, text }) };
  }

  function computeRows(): Row[] {
    const conv = session.conversationId ?? "none";
    const parts: (Msg | Row)[] = [];
    let prev: Msg | null = null;
    const add = (m: Omit<Msg, "cont" | "last">, who: string) => {
      const cont = !!prev && prev.from === m.from && m.at - prev.at < GROUP_MS && prevName === who;
      const msg: Msg = { ...m, cont, last: true, sender: m.from === "agent" && !cont ? who : undefined };
      if (prev && cont) prev.last = false;
      prevName = who;
      prev = msg;
      parts.push(msg);
    };
    let prevName = "";
    for (const it of session.transcript.items()) {
      if (it.type === "event") {
        const e = it.event;
        if (e.kind === "message") {
          add({ key: `m:${e.from}:${e.client_id}`, from: e.from, body: e.body, at: e.at, seq: e.seq, state: "sent", clientId: e.client_id }, e.from === "agent" ? agentName(e) : "");
        } else {
          // Every other event is at most one system line (and ends a group of messages).
          const text =
            e.kind === "share"
              ? e.state === "invited"
                ? fill(t.shareAsked, { name: agentName(e) })
                : e.state === "sharing"
                  ? t.shareStarted
                  : e.state === "declined"
                    ? t.shareDeclined
                    : e.state === "ended"
                      ? t.shareEnded
                      : e.state === "failed" || e.state === "cancelled"
                        ? t.shareFailed
                        : ""
              : e.kind === "joined_with_key"
                ? fill(t.joinedKey, { name: e.agent.display_name })
                : e.kind === "grant"
                  ? e.capability !== "cobrowse"
                    ? ""
                    : e.state === "active"
                      ? fill(t.cobrowseStarted, { name: agentName(e) })
                      : e.state === "declined"
                        ? t.cobrowseDeclined
                        : e.state === "ended" || e.state === "failed"
                          ? t.cobrowseEnded
                          : ""
                  : e.kind === "email_left"
                    ? fill(t.emailSaved, { email: e.email })
                    : // A colleague the agent invited to take part (observers are never sent).
                      e.kind === "agent_invited" || e.kind === "agent_left"
                      ? fill(e.kind === "agent_left" ? t.left : t.joined, { name: e.agent.display_name })
                    : // A transfer says who the visitor talks to now, or that they wait
                      // again (the header's own words, in every language).
                      e.kind === "agent_joined" || e.kind === "transferred"
                      ? e.agent
                        ? fill(e.kind === "agent_joined" ? t.joined : t.subtitleActive, { name: e.agent.display_name })
                        : t.subtitleWaiting
                      : e.kind === "closed"
                        ? e.by === "visitor"
                          ? t.closedByVisitor
                          : e.agent
                            ? fill(t.closedByAgent, { name: e.agent.display_name })
                            : t.closed
                        : "";
          // A page of this site the agent sent, as a link (widget-links.js draws the row).
          const pushed = e.kind === "page_pushed" && !e.url.indexOf(location.origin + "/");
          if (pushed) {
            parts.push({
              key: `p:${e.seq}`,
              sig: e.agent.display_name,
              build: () => {
                const row = h("div");
                withLinks((m) => m.pushed(row, e));
                return row;
              },
            });
          } else if (text) parts.push(systemRow(`s:${conv}:${e.seq}`, text));
          // What the widget does not show (page views, control, other grants) does not end a group.
          if (text || pushed || e.kind === "share" || (e.kind === "grant" && e.capability === "cobrowse")) prev = null;
        }
      } else {
        const o = it.item;
        add({ key: `m:visitor:${o.clientId}`, from: "visitor", body: o.body, at: o.createdAt, seq: o.seq, state: o.state, clientId: o.clientId, error: o.error }, "");
      }
    }
    const out: Row[] = parts.map((p) => ("build" in p ? p : messageRow(p)));
    const state = session.state;
    const pendingNew = session.transcript.outboxItems().some((o) => o.state !== "acked");
    // Closed: the end card (a rating, the transcript; widget-end.js), one per conversation.
    if (state === "closed" && !pendingNew) out.push(slotRow("end:" + conv, withEnd), systemRow("h:closed", t.startNew, "hint"));
    // Nobody available: no promise of an agent shortly, but the offer of an address
    // (the form is widget-away.js).
    else if (state === "waiting" && session.agentsAvailable === false) {
      if (!session.visitorEmail) out.push(slotRow("away", withAway));
    } else if (state === "waiting") out.push(systemRow("h:waiting", t.waitingNote, "hint"));
    return out;
  }

  /** A row that a lazily loaded bundle fills (`data-testid` NAME-slot for key NAME[:…]). */
  const slotRow = (key: string, fill: (then: (api: { fill(slot: HTMLElement): void }) => void) => void): Row => ({
    key: "h:" + key,
    sig: "",
    build: () => {
      const slot = h("div", { "data-testid": key.split(":")[0] + "-slot" });
      fill((m) => m.fill(slot));
      return slot;
    },
  });

  function renderLog(): void {
    list.update(log, computeRows(), greeting);
    for (const row of log.children) resized?.observe(row);
    pin();
  }

  function render(): void {
    scheduled = false;
    root.classList.toggle("open", open);
    panel.hidden = !open;
    launcher.hidden = hidden;
    root.classList.toggle("bare", hidden);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? t.closeChat : t.openChat);
    launcherOpen.style.display = open ? "none" : "";
    launcherClose.style.display = open ? "" : "none";
    badge.hidden = open || unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", fill(t.unread, { n: unread }));

    const state = session.state;
    const agent = session.agent;
    replaceChildren(avatar, agent && state !== "closed" ? Array.from(agent.display_name.trim())[0]?.toUpperCase() || "?" : icon(ICONS.chat, 20));
    // The agent's own colour, when they chose one (else the site's accent).
    avatar.style.background = (agent?.colour && state !== "closed" && AVATAR_HEX[agent.colour]) || "";
    // A site that is not allowed (4403): no promise of an answer, nothing to type into.
    const off = session.link === "refused";
    input.disabled = attachBtn.disabled = off;
    if (off) sendBtn.disabled = true;
    subtitle.textContent = off
      ? ""
      : state === "active" && agent
        ? fill(t.subtitleActive, { name: agent.display_name })
        : (state === "waiting" || state === "none") && session.agentsAvailable === false
          ? t.subtitleAway
          : state === "waiting"
          ? t.subtitleWaiting
          : state === "closed"
            ? t.subtitleClosed
            : session.agentsAvailable
              ? t.subtitleNone
              : "";
    endBtn.hidden = !session.hasOpenConversation();

    const link = session.link;
    let statusText = "";
    let statusIcon: string[] | null = null;
    if (link === "refused") {
      statusText = t.refused;
      statusIcon = ICONS.alert;
    } else if (link === "reconnecting") {
      statusText = t.reconnecting;
      statusIcon = ICONS.wifiOff;
    } else if (link === "connecting" && session.transcript.outboxItems().length > 0) {
      statusText = t.connecting;
      statusIcon = ICONS.clock;
    }
    if (session.notice && link === "online") {
      statusText = t.errors[session.notice];
      statusIcon = ICONS.alert;
    }
    status.hidden = !statusText;
    status.className = "status" + (session.notice && link === "online" ? " error" : "");
    status.setAttribute("data-state", link);
    if (statusText) replaceChildren(status, statusIcon ? icon(statusIcon, 15) : null, h("span", { text: statusText }));
    else replaceChildren(status);

    if (session.typingIn.active && state === "active") {
      typing.hidden = false;
      replaceChildren(
        typing,
        h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
        h("span", { text: fill(t.typing, { name: agent?.display_name || t.someone }) }),
      );
    } else {
      typing.hidden = true;
    }
    if (open) renderLog();
    shareApi?.render();
  }

  function scheduleRender(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  }

  // ---- the other bundles, loaded when needed: widget-NAME.js sets
  // window.__sightlineNAMEModule (NAME capitalised there) ----
  const load = <M>(name: string, ready: (mod: M) => void, failed: () => void) => loadBundle(config.origin, name, ready, failed);
  // What every bundle is mounted with (each reads what it needs).
  // `images`: the share bundle hands a phone's picture (instead of a share) to the picture bundle.
  type ImagesApi = { thumb(el: HTMLElement, ref: unknown): void; pick(): void; send(f: File): void };
  const base = { session, origin: config.origin, floatParent: root, styleRoot: shadow, lang, openPanel: () => setOpen(true, false), images: (f: (m: ImagesApi) => void): void => withImages(f) };

  // ---- screen sharing: widget-share.js is loaded on the first invitation ----
  type ShareApi = { openCodeForm(): void; render(): void };
  let shareApi: ShareApi | null = null;
  const loadShare = lazy<ShareApi>("share", (m) => (shareApi = m.mountShare({ ...base, slot: shareSlot, preferTab: config.shareTab === "prefer", isOpen: () => open, compact: true })));

  // ---- co-browsing: widget-cobrowse.js (rrweb's recorder) is loaded when an agent
  // asks, and on every page while co-browsing is on ----
  type CobrowseApi = { routeChanged(): void };
  let cobrowseApi: CobrowseApi | null = null;
  const withCobrowse = lazy<CobrowseApi>("cobrowse", (m) => (cobrowseApi = m.mountCobrowse({ ...base, slot: shareSlot })));
  const loadCobrowse = () => withCobrowse(() => 0);
  // A single-page app's routes: the agent sees where the visitor is, and a
  // co-browsed tab sends a fresh picture of the new route.
  watchRoutes(() => {
    session.pageChanged();
    cobrowseApi?.routeChanged();
  });
  const cobrowseLive = (state: string) => state === "asked" || state === "allowed" || state === "choosing" || state === "active";
  session.intercept((m) => {
    if ((m.type === "visitor_welcome" || m.type === "conversation_changed") && m.conversation?.grants.some((g) => g.capability === "cobrowse" && cobrowseLive(g.state))) loadCobrowse();
  });

  /** A bundle's API, mounted on first use; `then` runs once it is there. */
  function lazy<A>(name: string, mount: (mod: any) => A): (then: (api: A) => void) => void {
    let api: A | null = null;
    let waiters: ((api: A) => void)[] = [];
    return (then) => {
      if (api) return then(api);
      waiters.push(then);
      if (waiters.length > 1) return;
      load(
        name,
        (mod) => {
          api = mount(mod);
          for (const fn of waiters) fn(api);
          waiters = [];
        },
        () => (waiters = []),
      );
    };
  }

  // ---- pictures: widget-images.js is loaded for the first picture shown or sent ----
  const withImages = lazy<ImagesApi>("images", (m) =>
    m.mountImages({ ...base, slot: uploads }),
  );
  // ---- link cards and pages the agent sent: widget-links.js, for the first ----
  const withLinks = lazy<LinksApi>("links", (m) => m.mountLinks(base));
  // ---- the away form: widget-away.js ----
  const withAway = lazy<{ fill(slot: HTMLElement): void }>("away", (m) => m.mountAway(base));
  // ---- the end card (a rating, the transcript): widget-end.js, once a conversation closed ----
  const withEnd = lazy<{ fill(slot: HTMLElement): void }>("end", (m) => m.mountEnd(base));
  // Text wins over a picture of it (office apps put both on the clipboard).
  const firstImage = (dt: DataTransfer | null) => (dt?.getData("text/plain") ? null : Array.from(dt?.files || []).find((f) => /^image\//.test(f.type)));
  const files = (ev: DragEvent) => ev.dataTransfer?.types.includes("Files");
  input.addEventListener("paste", (ev) => {
    const f = firstImage(ev.clipboardData);
    if (f) {
      ev.preventDefault();
      withImages((m) => m.send(f));
    }
  });
  panel.addEventListener("dragover", (ev) => files(ev) && ev.preventDefault());
  panel.addEventListener("drop", (ev) => {
    const f = files(ev) && firstImage(ev.dataTransfer);
    if (f) {
      ev.preventDefault();
      withImages((m) => m.send(f));
    }
  });

  session.subscribe(scheduleRender);
  session.onEvent((e, live) => {
    const invited = e.kind === "share" && e.state === "invited";
    if (e.kind === "share" && (invited || e.state === "accepted" || e.state === "choosing" || e.state === "sharing")) loadShare(() => 0);
    if (e.kind === "grant" && e.capability === "cobrowse" && cobrowseLive(e.state)) loadCobrowse();
    // The picture bundle shows an agent's request for a screenshot (and its answer).
    if (e.kind === "screenshot") withImages(() => 0);
    const fromAgent = e.kind === "message" && e.from === "agent";
    if (live && fromAgent && !stick) more.hidden = false;
    if (live && fromAgent) emit("message", { kind: e.body.kind, text: e.body.kind === "text" ? e.body.text : e.body.kind === "link" ? e.body.url : "", agent: agentName(e) });
    if (live && !open && (fromAgent || invited)) {
      emit("unread", ++unread);
      scheduleRender();
    }
  });
  window.addEventListener("online", () => session.reconnectNow());

  // ---- the host page's API: window.Sightline. Before widget.js has loaded, the
  // install snippet's stub queues calls as `Sightline("open")`; they run here,
  // in order, and both forms work from now on. ----
  const api: Record<string, (...a: any[]) => unknown> = {
    // The server checks every field (a wrong type is refused like a forged signature).
    identify: (p) => session.identify(p?.id, p?.name ?? null, p?.email ?? null, p?.signature),
    reset: () => session.reset(),
    open: () => setOpen(true, false),
    close: () => setOpen(false, false),
    hide: () => ((hidden = true), setOpen(false, false)),
    show: () => ((hidden = false), render()),
    on: (name: string, fn: Listener) => (listeners[name] ||= new Set()).add(fn),
    off: (name: string, fn: Listener) => listeners[name]?.delete(fn),
  };
  const w = window as unknown as { Sightline?: { q?: ArrayLike<unknown>[] } | ((name: string, ...args: unknown[]) => unknown) };
  const queued = Array.from((w.Sightline as { q?: ArrayLike<unknown>[] } | undefined)?.q || []);
  const global = Object.assign((name: string, ...args: unknown[]) => api[name]?.(...args), api);
  w.Sightline = global;
  for (const args of queued) global(...(Array.from(args) as [string]));
  session.intercept((m) => {
    if (m.type === "identified") emit("identified", m.identity);
    else if (m.type === "error" && m.ref === IDENTIFY_REF) {
      // The host site's mistake, not the visitor's: told to the page, not in the chat.
      console.warn("Sightline.identify:", m.message);
      emit("error", m);
      return true;
    }
  });

  // Returning visitors reconnect at once to see their conversation.
  const wasOpen = session_.get(OPEN_KEY) === "1";
  if (session.hasToken || wasOpen) session.start();
  if (wasOpen) setOpen(true, false);
  else render();
}
