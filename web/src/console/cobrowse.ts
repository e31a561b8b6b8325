// Co-browsing in the console: "Ask to co-browse" in the composer bar, every step
// of the grant, and the live mirror of the visitor's page beside the chat
// (rrweb's replayer, in the lazily loaded console/mirror.js).

import type { AgentSession } from "../lib/agent-session";
import { diagText, diagnosticsIn, type DiagEntry } from "../lib/cobrowse-diag";
import { AgentCobrowse, COBROWSE_STATE_TEXT, DEFAULT_COBROWSE_MESSAGE, cobrowseGrant, isCobrowseLive } from "../lib/cobrowse-agent";
import { AgentControl, CONTROL_REFUSAL_TEXT, CONTROL_STATE_TEXT, DEFAULT_CONTROL_MESSAGE, controlGrant, isControlLive } from "../lib/control-agent";
import type { StreamLink } from "../lib/stream-socket";
import { h, icon, replaceChildren } from "../ui/dom";
import { CONSOLE_ICONS, iconButton, type ConsoleIcon } from "./icons";
import { cobrowseOffer } from "../lib/visitor-details";
import { openForm } from "./dialog";
import type { InboxView } from "./inbox";
import type { Mirror } from "./mirror-main";
import type { DrawMode } from "./mirror-drawing";
import { drawingsClearedIn } from "../lib/cobrowse-drawing";

type MirrorModule = { createMirror(onChange: () => void): Mirror };

const LINK_TEXT: Record<StreamLink, string> = {
  connecting: "Connecting…",
  open: "Live",
  waiting: "Reconnecting…",
  ended: "Ended",
};

/** The drawing tools' state: draw mode, and what a line drawn now is. */
interface DrawTools {
  on: boolean;
  arrow: boolean;
  pinned: boolean;
}

/** How long the visitor's page may be away (a navigation) before the agent is told. */
const AWAY_AFTER_MS = 3000;

export class CobrowseUi {
  readonly cobrowse: AgentCobrowse;
  readonly control: AgentControl;
  private readonly pushBtn: HTMLButtonElement;
  private readonly aside = h("aside", { class: "share-aside cb-aside", "data-testid": "cobrowse-panel", "aria-label": "Co-browsing", hidden: true });
  private readonly statusEl = h("div", { class: "share-status", role: "status" });
  private readonly bar = h("div", { class: "sv-bar" });
  private readonly stageSlot = h("div", { class: "cb-slot" });
  private readonly askBtn: HTMLButtonElement;
  private mirrors = new Map<string, Mirror>();
  private pending = new Map<string, unknown[]>();
  private links = new Map<string, StreamLink>();
  private module: MirrorModule | null = null;
  /** Each conversation's newest diagnostics from the visitor's page. */
  private diags = new Map<string, DiagEntry[]>();
  private diagOpen = false;
  private readonly diagPanel = h("div", { class: "cb-diag", "data-testid": "cobrowse-diag", role: "log", "aria-label": "Problems on the visitor's page", hidden: true });
  private readonly awayNote = h("div", {
    class: "cb-away",
    "data-testid": "cobrowse-away",
    role: "status",
    hidden: true,
    text: "The visitor left the pages that can be mirrored (another site, or the tab was closed). This is the last page they showed; the mirror goes on when they come back.",
  });
  private fit = true;
  private frozen = false;
  /** Since when each conversation's co-browsing page has not been connected. */
  private awaySince = new Map<string, number>();
  /** Clicks on the mirror outline an element for the visitor instead of pinging. */
  private highlighting = false;
  /** The previous figures, for rates. */
  private lastFigures: { at: number; bytes: number; items: number } | null = null;
  private loading = false;
  private scheduled = false;
  /** Mirrors that pass the agent's input to the visitor's page now. */
  private controlling = new Set<string>();

  constructor(
    private readonly session: AgentSession,
    private readonly inbox: InboxView,
  ) {
    const wsOrigin = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`;
    this.cobrowse = new AgentCobrowse(session, { relayUrl: (t) => `${wsOrigin}/ws/stream?token=${encodeURIComponent(t)}` });
    this.cobrowse.addSink({
      items: (c, items) => this.onItems(c, items),
      resync: (c) => this.mirrors.get(c)?.reset(),
      link: (c, l) => {
        this.links.set(c, l);
        if (l === "ended") this.dropMirror(c);
        this.schedule();
      },
      publisher: (c, present) => {
        if (present) this.awaySince.delete(c);
        else if (!this.awaySince.has(c)) {
          this.awaySince.set(c, Date.now());
          // A navigation is back within a moment; past that, say so.
          setTimeout(() => this.schedule(), AWAY_AFTER_MS + 50);
        }
        this.schedule();
      },
    });
    this.control = new AgentControl(session, {
      relayUrl: (t) => `${wsOrigin}/ws/stream?token=${encodeURIComponent(t)}`,
      onResult: (_c, result) => {
        if (result.refused) this.onNotice?.(CONTROL_REFUSAL_TEXT[result.refused] ?? "The visitor's page refused that.");
      },
      onLink: () => this.schedule(),
    });
    this.askBtn = iconButton("cursor", "Ask to co-browse", { class: "btn ghost icon-btn", "data-testid": "cobrowse-invite", onclick: () => this.openAsk() });
    this.pushBtn = iconButton("external", "Send a page: send the visitor to a page of this site", { class: "btn ghost icon-btn", "data-testid": "push-page", onclick: () => this.openPush() });
    inbox.tools.append(this.askBtn, this.pushBtn);
    this.stageSlot.appendChild(this.awayNote);
    this.aside.append(this.statusEl, this.bar, this.stageSlot, this.diagPanel);
    inbox.el.appendChild(this.aside);
    session.subscribe(() => this.schedule());
    if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
      (window as unknown as Record<string, unknown>).__sightlineAgentCobrowse = { cobrowse: this.cobrowse, control: this.control, mirrors: this.mirrors, selected: () => session.selected };
    }
    setInterval(() => this.aside.hidden || this.renderFigures(), 1000);
    this.render();
  }

  private openAsk(): void {
    const id = this.session.selected;
    if (!id) return;
    openForm({
      title: "Ask to co-browse",
      description: "The visitor sees this message with “Allow” and “No thanks”. You will see their page (private fields and passwords never) until either of you stops.",
      fields: [{ name: "message", label: "Request", value: DEFAULT_COBROWSE_MESSAGE }],
      submitLabel: "Send request",
      onSubmit: async (v) => {
        if (!this.cobrowse.ask(id, v.message)) throw new Error("Not connected. Try again in a moment.");
      },
    });
  }

  private openAskControl(): void {
    const id = this.session.selected;
    if (!id) return;
    openForm({
      title: "Ask for control",
      description: "The visitor sees this with “Give control” and “No thanks”. You can then click, scroll, choose options and type on their page, never into private or password fields. They take control back at any moment with one click or Esc.",
      fields: [{ name: "message", label: "Request", value: DEFAULT_CONTROL_MESSAGE }],
      submitLabel: "Ask for control",
      onSubmit: async (v) => {
        if (!this.control.ask(id, v.message)) throw new Error("Not connected. Try again in a moment.");
      },
    });
  }

  private openPush(): void {
    const id = this.session.selected;
    if (!id) return;
    const e = this.session.get(id);
    const here = this.mirrors.get(id)?.info().href ?? e?.summary.page?.url ?? "";
    openForm({
      title: "Send the visitor to a page",
      description: "An address on this site. While co-browsing, the visitor's browser goes there and the mirror follows; otherwise they get it as a link in the chat.",
      fields: [{ name: "url", label: "Address", value: here, type: "url" }],
      submitLabel: "Send",
      onSubmit: async (v) => {
        let url: URL;
        try {
          url = new URL(v.url.trim());
        } catch {
          throw new Error("That is not a web address.");
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("Only http and https addresses can be sent.");
        if (!this.session.send({ type: "push_page", conversation: id, url: url.href })) throw new Error("Not connected. Try again in a moment.");
      },
    });
  }

  private onItems(conversation: string, items: unknown[]): void {
    // The visitor cleared the drawings on their page: here too.
    if (drawingsClearedIn(items)) this.mirrors.get(conversation)?.clearDrawings(true);
    const found = diagnosticsIn(items);
    if (found.length > 0) {
      this.diags.set(conversation, [...(this.diags.get(conversation) ?? []), ...found].slice(-200));
      this.schedule();
    }
    const mirror = this.mirrors.get(conversation);
    if (mirror) {
      mirror.items(items);
      return;
    }
    // Until the replayer has loaded: keep what came (from its first snapshot on).
    let held = this.pending.get(conversation) ?? [];
    for (const item of items) {
      // From the newest snapshot on (its Meta event, type 4): the rest is stale.
      if ((item as { type?: unknown })?.type === 4) held = [];
      if (held.length < 20_000) held.push(item);
    }
    this.pending.set(conversation, held);
    this.loadModule();
    this.schedule();
  }

  /** Where a snapshot of the mirror goes (the snapshot editor). */
  onSnapshot: ((picture: HTMLCanvasElement) => void) | null = null;
  /** A short notice for the agent. */
  onNotice: ((text: string) => void) | null = null;
  private snapping = false;

  /** The mirror as a picture at the visitor's viewport size, into the editor. */
  private async snapshot(conversation: string): Promise<void> {
    const mirror = this.mirrors.get(conversation);
    if (!mirror || this.snapping) return;
    this.snapping = true;
    try {
      const picture = await mirror.picture();
      if (picture) this.onSnapshot?.(picture);
      else this.onNotice?.("Nothing to take a snapshot of yet: the visitor's page has not arrived.");
    } catch {
      this.onNotice?.("The snapshot could not be made; try again, or freeze the mirror first.");
    } finally {
      this.snapping = false;
    }
  }

  private toggleFreeze(conversation: string): void {
    this.frozen = !this.frozen;
    for (const [c, m] of this.mirrors) {
      // Too much arrived while frozen: start over from a fresh snapshot.
      if (!m.setFrozen(this.frozen) && c === conversation) this.cobrowse.refresh(c);
    }
    this.schedule();
  }

  private loadModule(): void {
    if (this.module || this.loading) return;
    this.loading = true;
    const script = document.createElement("script");
    script.src = "/console/mirror.js";
    script.onload = () => {
      this.module = (window as unknown as { __sightlineMirrorModule?: MirrorModule }).__sightlineMirrorModule ?? null;
      this.loading = false;
      this.schedule();
    };
    script.onerror = () => (this.loading = false);
    document.head.appendChild(script);
  }

  private mirrorFor(conversation: string): Mirror | null {
    let mirror = this.mirrors.get(conversation) ?? null;
    if (mirror || !this.module) return mirror;
    mirror = this.module.createMirror(() => this.schedule());
    mirror.setFit(this.fit);
    // The agent's pointer, pings and highlights go to the visitor's page.
    mirror.onGuide((items) => this.cobrowse.guide(conversation, items));
    mirror.setGuideMode(this.highlighting ? "highlight" : "point");
    mirror.setDrawMode(this.drawMode());
    if (this.frozen) mirror.setFrozen(true);
    this.controlling.delete(conversation);
    this.mirrors.set(conversation, mirror);
    // rrweb builds its iframe in a connected element.
    this.stageSlot.appendChild(mirror.el);
    const held = this.pending.get(conversation);
    this.pending.delete(conversation);
    if (held) mirror.items(held);
    return mirror;
  }

  private dropMirror(conversation: string): void {
    this.mirrors.get(conversation)?.destroy();
    this.mirrors.delete(conversation);
    this.pending.delete(conversation);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.render());
  }

  private renderFigures(): void {
    const id = this.session.selected;
    const figures = this.bar.querySelector<HTMLElement>("[data-testid=cobrowse-figures]");
    if (!id || !figures) return;
    const stats = this.cobrowse.stats(id);
    const info = this.mirrors.get(id)?.info();
    const parts = [];
    if (info?.width) parts.push(`${info.width}×${info.height}`);
    const now = performance.now();
    const last = this.lastFigures;
    if (stats && last && now > last.at) {
      const s = (now - last.at) / 1000;
      parts.push(`${Math.round((stats.items - last.items) / s)} events/s`);
      parts.push(`${(((stats.bytes - last.bytes) * 8) / s / 1000).toFixed(1)} kbit/s`);
    }
    this.lastFigures = stats ? { at: now, ...stats } : null;
    // Beyond the quickest seen: the two clocks need not agree.
    if (info?.lagMs != null) parts.push(`delay +${Math.max(0, Math.round(info.lagMs))} ms`);
    figures.textContent = parts.join(" · ");
  }

  /** The mirror passes input on only while control is granted and its stream open (and the picture is live). */
  private syncControl(id: string | null, cg: ReturnType<typeof controlGrant>): void {
    for (const [c, m] of this.mirrors) {
      const on = c === id && cg?.state === "active" && this.control.ready(c) && !this.frozen;
      if (on === this.controlling.has(c)) continue;
      if (on) {
        this.controlling.add(c);
        m.setControl((intents) => this.control.send(c, intents));
      } else {
        this.controlling.delete(c);
        m.setControl(null);
      }
    }
  }

  render(): void {
    this.scheduled = false;
    const id = this.session.selected;
    const e = id ? this.session.get(id) : undefined;
    const mine = !!e && this.session.isMine(e.summary);
    const active = !!e && e.summary.status === "active" && mine;
    const g = cobrowseGrant(e?.summary.grants);
    const live = isCobrowseLive(g);
    const offer = cobrowseOffer(e?.summary.visitor);
    this.askBtn.disabled = !active || live || !offer.offered;
    this.askBtn.title = live ? "Co-browsing is already under way" : offer.why;
    this.pushBtn.disabled = !active;
    const cg = controlGrant(e?.summary.grants);
    const controlLive = isControlLive(cg);
    this.syncControl(id, cg);
    // Until the visitor answers, the request is a line in the chat header
    // ("Invitation sent · Withdraw"); the panel opens once they allow it.
    const pending = active && !!g && live && g.state === "asked";
    const show = active && !!g && live && !pending;
    this.aside.hidden = !show;
    this.inbox.el.classList.toggle("cobrowsing", show);
    // Every mirror but the one shown now is hidden (the shown one is never
    // hidden on the way: that would take the keyboard focus off it).
    for (const [c, m] of this.mirrors) if (!show || c !== id) m.el.hidden = true;
    if (pending && g && id) {
      this.statusEl.className = "head-status";
      replaceChildren(
        this.statusEl,
        icon(CONSOLE_ICONS.cursor, 16),
        h("span", { "data-testid": "cobrowse-state", "data-state": g.state, title: COBROWSE_STATE_TEXT[g.state], text: "Invitation sent" }),
        h("span", { "aria-hidden": "true", text: "·" }),
        h("button", { class: "linkish", type: "button", "data-testid": "cobrowse-end", title: "Take the co-browsing request back: the visitor's prompt goes away", text: "Withdraw", onclick: () => this.cobrowse.end(id) }),
      );
      if (this.statusEl.parentElement !== this.inbox.headSlot) this.inbox.headSlot.appendChild(this.statusEl);
      return;
    }
    if (!show || !g || !id) {
      // Kept in the hidden panel: its last state stays on the page, readable.
      if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
      return;
    }
    this.aside.dataset.state = g.state;
    this.statusEl.className = "share-status";
    if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
    replaceChildren(
      this.statusEl,
      h("span", { class: `share-dot ${g.state === "active" ? "sharing" : ""}` }),
      h("span", { "data-testid": "cobrowse-state", "data-state": g.state, text: COBROWSE_STATE_TEXT[g.state] }),
      h("button", { class: "btn small", type: "button", "data-testid": "cobrowse-end", text: g.state === "asked" ? "Withdraw" : "End", onclick: () => this.cobrowse.end(id) }),
      g.state === "active" && !controlLive
        ? h("button", { class: "btn small", type: "button", "data-testid": "control-request", text: "Ask for control", title: "Ask the visitor to let you click and type on their page", onclick: () => this.openAskControl() })
        : null,
      controlLive && cg
        ? h(
            "span",
            { class: "cb-control", "data-testid": "control-state", "data-state": cg.state },
            h("span", { text: cg.state === "active" && !this.control.ready(id) ? "Connecting control…" : CONTROL_STATE_TEXT[cg.state] }),
            h("button", { class: "btn small", type: "button", "data-testid": "control-release", text: cg.state === "asked" ? "Withdraw" : "Give back control", onclick: () => this.control.end(id) }),
          )
        : null,
    );
    // The mirror opens once the visitor has allowed it.
    const allowed = g.state !== "asked";
    this.bar.hidden = !allowed;
    this.stageSlot.hidden = !allowed;
    const link = this.links.get(id) ?? null;
    // The visitor left the site's pages (another site, or the tab closed): the
    // mirror holds the last picture until they are back (or the grant ends).
    const since = this.awaySince.get(id);
    const away = g.state === "active" && (!e.summary.visitor_online || (since !== undefined && Date.now() - since >= AWAY_AFTER_MS));
    const mirror = g.state === "active" || g.state === "allowed" ? this.mirrorFor(id) : null;
    const info = mirror?.info();
    const diags = this.diags.get(id) ?? [];
    this.diagPanel.hidden = !this.diagOpen || !allowed;
    if (!this.diagPanel.hidden) {
      replaceChildren(
        this.diagPanel,
        ...(diags.length === 0
          ? [h("p", { class: "muted", text: "No console errors or failed requests on the visitor's page." })]
          : diags
              .slice()
              .reverse()
              .map((d) => h("div", { class: `cb-diag-row ${d.kind}`, "data-kind": d.kind }, h("time", { text: new Date(d.at).toLocaleTimeString() }), h("span", { text: diagText(d) })))),
      );
    }
    const tool = (testid: string, name: ConsoleIcon, title: string, onclick: () => void, pressed?: boolean) =>
      iconButton(name, title, { "data-testid": testid, "aria-pressed": pressed === undefined ? undefined : String(pressed), onclick });
    replaceChildren(
      this.bar,
      away
        ? h("span", { class: "sv-state", "data-testid": "cobrowse-link", "data-state": "away", text: "Visitor away" })
        : h("span", { class: "sv-state", "data-testid": "cobrowse-link", "data-state": link ?? "connecting", text: link ? LINK_TEXT[link] : "Waiting…" }),
      this.frozen ? h("span", { class: "cb-frozen", "data-testid": "cobrowse-frozen", role: "status", text: "Frozen" }) : null,
      info?.title ? h("span", { class: "cb-title", "data-testid": "cobrowse-title", title: info.title, text: info.title }) : null,
      info?.href ? h("span", { class: "cb-url", "data-testid": "cobrowse-url", title: info.href, text: info.href }) : null,
      h("span", { class: "grow" }),
      tool("cobrowse-fit", this.fit ? "actual" : "fit", this.fit ? "Actual size: show the page at the visitor's size" : "Fit the page into the panel", () => {
        this.fit = !this.fit;
        for (const m of this.mirrors.values()) m.setFit(this.fit);
        this.schedule();
      }),
      tool("cobrowse-highlight", "target", "Highlight: click an element in the page to outline it for the visitor (click it again to take the outline away)", () => {
        this.highlighting = !this.highlighting;
        if (this.highlighting) this.setDrawing({ on: false });
        for (const m of this.mirrors.values()) m.setGuideMode(this.highlighting ? "highlight" : "point");
        this.schedule();
      }, this.highlighting),
      ...this.drawTools(id, tool),
      tool("cobrowse-freeze", this.frozen ? "play" : "pause", this.frozen ? "Back to live" : "Freeze: hold the picture; the page goes on underneath", () => this.toggleFreeze(id), this.frozen),
      tool("cobrowse-snapshot", "camera", "Snapshot: open what the visitor sees in the snapshot editor, at their window's size", () => void this.snapshot(id)),
      h(
        "button",
        { class: "btn small icon-btn", type: "button", "data-testid": "cobrowse-diag-toggle", "aria-pressed": String(this.diagOpen), title: "Problems: console errors and failed requests on the visitor's page", onclick: () => ((this.diagOpen = !this.diagOpen), this.schedule()) },
        icon(CONSOLE_ICONS.bug, 16),
        // The name is the word and the count the button shows ("Problems 2").
        h("span", { class: "sr-only", text: "Problems" }),
        h("span", { class: "cb-badge", "data-testid": "cobrowse-diag-count", "data-count": diags.length, text: String(diags.length) }),
      ),
      tool("cobrowse-fullscreen", "fullscreen", "Full screen: show the page full screen", () => {
        if (document.fullscreenElement) void document.exitFullscreen();
        else void this.aside.requestFullscreen?.().catch(() => undefined);
      }),
      h("span", { class: "sv-stats", "data-testid": "cobrowse-figures" }),
    );
    if (mirror) {
      if (mirror.el.parentElement !== this.stageSlot) this.stageSlot.appendChild(mirror.el);
      mirror.el.hidden = false;
    } else {
      const idle = this.mirrors.get(id);
      if (idle) idle.el.hidden = true;
    }
    this.awayNote.hidden = !away;
    this.syncControl(id, cg);
    this.renderFigures();
  }

  // Drawing on the mirror: lines (with an arrowhead when asked) that the
  // visitor sees on their page, fading unless pinned; either side clears them.
  private draw: DrawTools = { on: false, arrow: false, pinned: false };

  private drawMode(): DrawMode | null {
    return this.draw.on ? { arrow: this.draw.arrow, pinned: this.draw.pinned } : null;
  }

  private setDrawing(change: Partial<DrawTools>): void {
    this.draw = { ...this.draw, ...change };
    // Drawing and highlighting both use the mirror's clicks: one at a time.
    if (this.draw.on && this.highlighting) {
      this.highlighting = false;
      for (const m of this.mirrors.values()) m.setGuideMode("point");
    }
    for (const m of this.mirrors.values()) m.setDrawMode(this.drawMode());
    this.schedule();
  }

  private drawTools(conversation: string, tool: (testid: string, name: ConsoleIcon, title: string, onclick: () => void, pressed?: boolean) => HTMLButtonElement): HTMLElement[] {
    const d = this.draw;
    return [
      tool("cobrowse-draw", "pen", "Draw: drag on the page to draw lines the visitor sees on theirs", () => this.setDrawing({ on: !d.on }), d.on),
      ...(d.on
        ? [
            tool("cobrowse-draw-arrow", "arrow", "Arrow: lines end in an arrowhead", () => this.setDrawing({ arrow: !d.arrow }), d.arrow),
            tool("cobrowse-draw-pin", "pin", "Pin: lines stay until cleared (otherwise they fade after a few seconds)", () => this.setDrawing({ pinned: !d.pinned }), d.pinned),
          ]
        : []),
      tool("cobrowse-clear-drawings", "eraser", "Clear drawings: take every drawing away, here and on the visitor's page", () => this.mirrors.get(conversation)?.clearDrawings(false)),
    ];
  }
}
