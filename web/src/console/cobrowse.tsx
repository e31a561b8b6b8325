// Co-browsing in the console: "Ask to co-browse" in the composer bar, every step
// of the grant, and the live mirror of the visitor's page beside the chat
// (rrweb's replayer, in the lazily loaded console/mirror.js).
//
// `CobrowseUi` works out what the selected conversation shows (`CobrowseView`, a
// signal), keeps one mirror per conversation and places the panel in the inbox's
// slots (elements of its own). The buttons, the status line, the toolbar and the
// problems list are Preact components reading that signal; the mirrors' elements
// are the replayer's, handed into the stage slot (a ref) as they are made.

import { render } from "preact";
import { signal, type ReadonlySignal } from "@preact/signals";
import type { AgentSession } from "../lib/agent-session";
import { diagText, diagnosticsIn, type DiagEntry } from "../lib/cobrowse-diag";
import { AgentCobrowse, COBROWSE_STATE_TEXT, DEFAULT_COBROWSE_MESSAGE, cobrowseGrant, isCobrowseLive } from "../lib/cobrowse-agent";
import { AgentControl, CONTROL_REFUSAL_TEXT, CONTROL_STATE_TEXT, DEFAULT_CONTROL_MESSAGE, controlGrant, isControlLive } from "../lib/control-agent";
import type { StreamLink } from "../lib/stream-socket";
import type { GrantState } from "../protocol.gen";
import { Icon, IconButton } from "./components";
import { CONSOLE_ICONS } from "./icons";
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

/** What the selected conversation shows of co-browsing. */
export interface CobrowseView {
  /** "Ask to co-browse": why not, when it may not be asked now. */
  ask: { disabled: boolean; title: string };
  /** "Send a page" needs the conversation to be ours and active. */
  pushDisabled: boolean;
  /**
   * The grant's line: in the chat header while the visitor has not answered
   * (`pending`), then at the top of the panel. Once over, the last line stays (in
   * the hidden panel, readable).
   */
  status: { conversation: string; state: GrantState; pending: boolean; control: { state: GrantState; ready: boolean } | null } | null;
  /** The mirror's toolbar and stage show once the visitor allowed it. */
  allowed: boolean;
  link: StreamLink | null;
  /** The visitor left the pages that can be mirrored. */
  away: boolean;
  title: string | null;
  href: string | null;
  diags: DiagEntry[];
}

/** The agent's tools on the mirror: they hold across conversations. */
export interface MirrorTools {
  fit: boolean;
  frozen: boolean;
  /** Clicks on the mirror outline an element for the visitor instead of pinging. */
  highlighting: boolean;
  draw: DrawTools;
  diagOpen: boolean;
}

const NOTHING: CobrowseView = { ask: { disabled: true, title: "" }, pushDisabled: true, status: null, allowed: false, link: null, away: false, title: null, href: null, diags: [] };

/** "Ask to co-browse" and "Send a page" in the composer bar. */
export function CobrowseTools({ view, onAsk, onPush }: { view: ReadonlySignal<CobrowseView>; onAsk: () => void; onPush: () => void }) {
  const v = view.value;
  return (
    <>
      <IconButton icon="cursor" label="Ask to co-browse" class="btn ghost icon-btn" data-testid="cobrowse-invite" disabled={v.ask.disabled} title={v.ask.title} onClick={onAsk} />
      <IconButton icon="external" label="Send a page: send the visitor to a page of this site" class="btn ghost icon-btn" data-testid="push-page" disabled={v.pushDisabled} onClick={onPush} />
    </>
  );
}

interface StatusActions {
  end(conversation: string): void;
  askControl(): void;
  releaseControl(conversation: string): void;
}

/** "Invitation sent · Withdraw" in the chat header, then the grant's state, End and remote control above the mirror. */
export function CobrowseStatus({ view, on }: { view: ReadonlySignal<CobrowseView>; on: StatusActions }) {
  const st = view.value.status;
  if (!st) return null;
  const { conversation, state, control } = st;
  if (st.pending) {
    return (
      <>
        <Icon paths={CONSOLE_ICONS.cursor} size={16} />
        <span data-testid="cobrowse-state" data-state={state} title={COBROWSE_STATE_TEXT[state]}>
          Invitation sent
        </span>
        <span aria-hidden="true">·</span>
        <button class="linkish" type="button" data-testid="cobrowse-end" title="Take the co-browsing request back: the visitor's prompt goes away" onClick={() => on.end(conversation)}>
          Withdraw
        </button>
      </>
    );
  }
  return (
    <>
      <span class={`share-dot ${state === "active" ? "sharing" : ""}`} />
      <span data-testid="cobrowse-state" data-state={state}>
        {COBROWSE_STATE_TEXT[state]}
      </span>
      <button class="btn small" type="button" data-testid="cobrowse-end" onClick={() => on.end(conversation)}>
        {state === "asked" ? "Withdraw" : "End"}
      </button>
      {state === "active" && !control ? (
        <button class="btn small" type="button" data-testid="control-request" title="Ask the visitor to let you click and type on their page" onClick={on.askControl}>
          Ask for control
        </button>
      ) : null}
      {control ? (
        <span class="cb-control" data-testid="control-state" data-state={control.state}>
          <span>{control.state === "active" && !control.ready ? "Connecting control…" : CONTROL_STATE_TEXT[control.state]}</span>
          <button class="btn small" type="button" data-testid="control-release" onClick={() => on.releaseControl(conversation)}>
            {control.state === "asked" ? "Withdraw" : "Give back control"}
          </button>
        </span>
      ) : null}
    </>
  );
}

interface PanelActions {
  fit(): void;
  highlight(): void;
  draw(change: Partial<DrawTools>): void;
  clearDrawings(): void;
  freeze(): void;
  snapshot(): void;
  diag(): void;
  fullscreen(): void;
}

/** The mirror's toolbar, its stage (the mirrors' elements go into `slot`) and the problems on the visitor's page. */
export function CobrowsePanel({ view, tools, figures, slot, on }: { view: ReadonlySignal<CobrowseView>; tools: ReadonlySignal<MirrorTools>; figures: ReadonlySignal<string>; slot: { current: HTMLDivElement | null }; on: PanelActions }) {
  const v = view.value;
  const t = tools.value;
  const d = t.draw;
  const link = v.link;
  return (
    <>
      <div class="sv-bar" hidden={!v.allowed}>
        {v.away ? (
          <span class="sv-state" data-testid="cobrowse-link" data-state="away">
            Visitor away
          </span>
        ) : (
          <span class="sv-state" data-testid="cobrowse-link" data-state={link ?? "connecting"}>
            {link ? LINK_TEXT[link] : "Waiting…"}
          </span>
        )}
        {t.frozen ? (
          <span class="cb-frozen" data-testid="cobrowse-frozen" role="status">
            Frozen
          </span>
        ) : null}
        {v.title ? (
          <span class="cb-title" data-testid="cobrowse-title" title={v.title}>
            {v.title}
          </span>
        ) : null}
        {v.href ? (
          <span class="cb-url" data-testid="cobrowse-url" title={v.href}>
            {v.href}
          </span>
        ) : null}
        <span class="grow" />
        <IconButton
          icon={t.fit ? "actual" : "fit"}
          label={t.fit ? "Actual size: show the page at the visitor's size" : "Fit the page into the panel"}
          data-testid="cobrowse-fit"
          onClick={on.fit}
        />
        <IconButton
          icon="target"
          label="Highlight: click an element in the page to outline it for the visitor (click it again to take the outline away)"
          data-testid="cobrowse-highlight"
          aria-pressed={t.highlighting}
          onClick={on.highlight}
        />
        <IconButton icon="pen" label="Draw: drag on the page to draw lines the visitor sees on theirs" data-testid="cobrowse-draw" aria-pressed={d.on} onClick={() => on.draw({ on: !d.on })} />
        {d.on ? (
          <>
            <IconButton icon="arrow" label="Arrow: lines end in an arrowhead" data-testid="cobrowse-draw-arrow" aria-pressed={d.arrow} onClick={() => on.draw({ arrow: !d.arrow })} />
            <IconButton icon="pin" label="Pin: lines stay until cleared (otherwise they fade after a few seconds)" data-testid="cobrowse-draw-pin" aria-pressed={d.pinned} onClick={() => on.draw({ pinned: !d.pinned })} />
          </>
        ) : null}
        <IconButton icon="eraser" label="Clear drawings: take every drawing away, here and on the visitor's page" data-testid="cobrowse-clear-drawings" onClick={on.clearDrawings} />
        <IconButton
          icon={t.frozen ? "play" : "pause"}
          label={t.frozen ? "Back to live" : "Freeze: hold the picture; the page goes on underneath"}
          data-testid="cobrowse-freeze"
          aria-pressed={t.frozen}
          onClick={on.freeze}
        />
        <IconButton icon="camera" label="Snapshot: open what the visitor sees in the snapshot editor, at their window's size" data-testid="cobrowse-snapshot" onClick={on.snapshot} />
        <button class="btn small icon-btn" type="button" data-testid="cobrowse-diag-toggle" aria-pressed={t.diagOpen} title="Problems: console errors and failed requests on the visitor's page" onClick={on.diag}>
          <Icon paths={CONSOLE_ICONS.bug} size={16} />
          {/* The name is the word and the count the button shows ("Problems 2"). */}
          <span class="sr-only">Problems</span>
          <span class="cb-badge" data-testid="cobrowse-diag-count" data-count={v.diags.length}>
            {String(v.diags.length)}
          </span>
        </button>
        <IconButton icon="fullscreen" label="Full screen: show the page full screen" data-testid="cobrowse-fullscreen" onClick={on.fullscreen} />
        <span class="sv-stats" data-testid="cobrowse-figures">
          {figures}
        </span>
      </div>
      <div ref={slot} class="cb-slot" hidden={!v.allowed}>
        <div class="cb-away" data-testid="cobrowse-away" role="status" hidden={!v.away}>
          The visitor left the pages that can be mirrored (another site, or the tab was closed). This is the last page they showed; the mirror goes on when they come back.
        </div>
        {/* The mirrors' elements follow, added by CobrowseUi as they are made. */}
      </div>
      <div class="cb-diag" data-testid="cobrowse-diag" role="log" aria-label="Problems on the visitor's page" hidden={!t.diagOpen || !v.allowed}>
        {!t.diagOpen || !v.allowed ? null : v.diags.length === 0 ? (
          <p class="muted">No console errors or failed requests on the visitor's page.</p>
        ) : (
          // Newest first, each row keyed by its place in the (append-only) list.
          v.diags
            .map((d, i) => [d, i] as const)
            .reverse()
            .map(([d, i]) => (
              <div key={i} class={`cb-diag-row ${d.kind}`} data-kind={d.kind}>
                <time>{new Date(d.at).toLocaleTimeString()}</time>
                <span>{diagText(d)}</span>
              </div>
            ))
        )}
      </div>
    </>
  );
}

export class CobrowseUi {
  private readonly cleanups: (() => void)[] = [];
  readonly cobrowse: AgentCobrowse;
  readonly control: AgentControl;
  private readonly view = signal<CobrowseView>(NOTHING);
  private readonly tools = signal<MirrorTools>({ fit: true, frozen: false, highlighting: false, draw: { on: false, arrow: false, pinned: false }, diagOpen: false });
  /** The connection's figures ("1280×720 · 12 events/s · …"), every second. */
  private readonly figures = signal("");
  private readonly aside = document.createElement("aside");
  /** The grant's line: in the chat header while pending, else at the top of the panel. */
  private readonly statusEl = document.createElement("div");
  /** Where the mirrors' elements go (rendered by the panel). */
  private readonly stageSlot: HTMLDivElement;
  private mirrors = new Map<string, Mirror>();
  private pending = new Map<string, unknown[]>();
  private links = new Map<string, StreamLink>();
  private module: MirrorModule | null = null;
  /** Each conversation's newest diagnostics from the visitor's page. */
  private diags = new Map<string, DiagEntry[]>();
  /** Since when each conversation's co-browsing page has not been connected. */
  private awaySince = new Map<string, number>();
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
    Object.assign(this.aside, { className: "share-aside cb-aside", hidden: true });
    this.aside.setAttribute("data-testid", "cobrowse-panel");
    this.aside.setAttribute("aria-label", "Co-browsing");
    this.statusEl.className = "share-status";
    this.statusEl.setAttribute("role", "status");
    // Ours sit in a box of their own among the composer's tools, laid out as its children.
    const toolsHost = document.createElement("span");
    toolsHost.className = "contents";
    inbox.tools.append(toolsHost);
    render(<CobrowseTools view={this.view} onAsk={() => this.openAsk()} onPush={() => this.openPush()} />, toolsHost);
    render(
      <CobrowseStatus
        view={this.view}
        on={{ end: (c) => this.cobrowse.end(c), askControl: () => this.openAskControl(), releaseControl: (c) => this.control.end(c) }}
      />,
      this.statusEl,
    );
    // The panel's parts lay out as the aside's own children (a column), after the status line.
    const panel = document.createElement("div");
    panel.className = "contents";
    const slot = { current: null as HTMLDivElement | null };
    render(
      <CobrowsePanel
        view={this.view}
        tools={this.tools}
        figures={this.figures}
        slot={slot}
        on={{
          fit: () => this.setTools({ fit: !this.tools.value.fit }),
          highlight: () => this.setHighlighting(!this.tools.value.highlighting),
          draw: (change) => this.setDrawing(change),
          clearDrawings: () => this.withSelected((id) => this.mirrors.get(id)?.clearDrawings(false)),
          freeze: () => this.withSelected((id) => this.toggleFreeze(id)),
          snapshot: () => this.withSelected((id) => void this.snapshot(id)),
          diag: () => this.setTools({ diagOpen: !this.tools.value.diagOpen }),
          fullscreen: () => {
            if (document.fullscreenElement) void document.exitFullscreen();
            else void this.aside.requestFullscreen?.().catch(() => undefined);
          },
        }}
      />,
      panel,
    );
    // The first render is synchronous: the slot is there.
    this.stageSlot = slot.current as HTMLDivElement;
    this.aside.append(this.statusEl, panel);
    inbox.el.appendChild(this.aside);
    this.cleanups.push(session.subscribe(() => this.schedule()));
    if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
      (window as unknown as Record<string, unknown>).__sightlineAgentCobrowse = { cobrowse: this.cobrowse, control: this.control, mirrors: this.mirrors, selected: () => session.selected };
    }
    const figures = setInterval(() => this.aside.hidden || this.renderFigures(), 1000);
    this.cleanups.push(() => clearInterval(figures));
    this.render();
  }

  /** Stops following the session (the agent logged out). */
  dispose(): void {
    for (const f of this.cleanups.splice(0)) f();
  }

  private withSelected(fn: (conversation: string) => void): void {
    const id = this.session.selected;
    if (id) fn(id);
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

  private setTools(change: Partial<MirrorTools>): void {
    const t = { ...this.tools.value, ...change };
    this.tools.value = t;
    if (change.fit !== undefined) for (const m of this.mirrors.values()) m.setFit(t.fit);
    this.schedule();
  }

  private toggleFreeze(conversation: string): void {
    const frozen = !this.tools.value.frozen;
    this.tools.value = { ...this.tools.value, frozen };
    for (const [c, m] of this.mirrors) {
      // Too much arrived while frozen: start over from a fresh snapshot.
      if (!m.setFrozen(frozen) && c === conversation) this.cobrowse.refresh(c);
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
    const t = this.tools.value;
    mirror.setFit(t.fit);
    // The agent's pointer, pings and highlights go to the visitor's page.
    mirror.onGuide((items) => this.cobrowse.guide(conversation, items));
    mirror.setGuideMode(t.highlighting ? "highlight" : "point");
    mirror.setDrawMode(this.drawMode());
    if (t.frozen) mirror.setFrozen(true);
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
    if (!id) return;
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
    this.figures.value = parts.join(" · ");
  }

  /** The mirror passes input on only while control is granted and its stream open (and the picture is live). */
  private syncControl(id: string | null, cg: ReturnType<typeof controlGrant>): void {
    for (const [c, m] of this.mirrors) {
      const on = c === id && cg?.state === "active" && this.control.ready(c) && !this.tools.value.frozen;
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

  /** Works out the view, keeps the mirrors, and places the panel and the status line in the inbox. */
  render(): void {
    this.scheduled = false;
    const id = this.session.selected;
    const e = id ? this.session.get(id) : undefined;
    const mine = !!e && this.session.isMine(e.summary);
    const active = !!e && e.summary.status === "active" && mine;
    const g = cobrowseGrant(e?.summary.grants);
    const live = isCobrowseLive(g);
    const offer = cobrowseOffer(e?.summary.visitor);
    const ask = { disabled: !active || live || !offer.offered, title: live ? "Co-browsing is already under way" : offer.why };
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
    const last = this.view.value;
    if (!(pending || show) || !g || !id || !e) {
      // Kept in the hidden panel: its last state stays on the page, readable.
      this.view.value = { ...last, ask, pushDisabled: !active };
      if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
      return;
    }
    const status = { conversation: id, state: g.state, pending, control: controlLive && cg ? { state: cg.state, ready: this.control.ready(id) } : null };
    if (pending) {
      this.view.value = { ...last, ask, pushDisabled: !active, status };
      this.statusEl.className = "head-status";
      if (this.statusEl.parentElement !== this.inbox.headSlot) this.inbox.headSlot.appendChild(this.statusEl);
      return;
    }
    this.aside.dataset.state = g.state;
    this.statusEl.className = "share-status";
    if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
    // The mirror opens once the visitor has allowed it.
    const allowed = g.state !== "asked";
    // The visitor left the site's pages (another site, or the tab closed): the
    // mirror holds the last picture until they are back (or the grant ends).
    const since = this.awaySince.get(id);
    const away = g.state === "active" && (!e.summary.visitor_online || (since !== undefined && Date.now() - since >= AWAY_AFTER_MS));
    // Shown before a mirror is made in it (the panel's next render says the same).
    this.stageSlot.hidden = !allowed;
    const mirror = g.state === "active" || g.state === "allowed" ? this.mirrorFor(id) : null;
    const info = mirror?.info();
    this.view.value = {
      ask,
      pushDisabled: !active,
      status,
      allowed,
      link: this.links.get(id) ?? null,
      away,
      title: info?.title || null,
      href: info?.href || null,
      diags: this.diags.get(id) ?? [],
    };
    if (mirror) {
      if (mirror.el.parentElement !== this.stageSlot) this.stageSlot.appendChild(mirror.el);
      mirror.el.hidden = false;
    } else {
      const idle = this.mirrors.get(id);
      if (idle) idle.el.hidden = true;
    }
    this.syncControl(id, cg);
    this.renderFigures();
  }

  // Drawing on the mirror: lines (with an arrowhead when asked) that the
  // visitor sees on their page, fading unless pinned; either side clears them.
  private drawMode(): DrawMode | null {
    const d = this.tools.value.draw;
    return d.on ? { arrow: d.arrow, pinned: d.pinned } : null;
  }

  private setHighlighting(on: boolean): void {
    if (on) this.setDrawing({ on: false });
    this.tools.value = { ...this.tools.value, highlighting: on };
    for (const m of this.mirrors.values()) m.setGuideMode(on ? "highlight" : "point");
    this.schedule();
  }

  private setDrawing(change: Partial<DrawTools>): void {
    const draw = { ...this.tools.value.draw, ...change };
    // Drawing and highlighting both use the mirror's clicks: one at a time.
    const highlighting = draw.on ? false : this.tools.value.highlighting;
    if (highlighting !== this.tools.value.highlighting) for (const m of this.mirrors.values()) m.setGuideMode("point");
    this.tools.value = { ...this.tools.value, draw, highlighting };
    for (const m of this.mirrors.values()) m.setDrawMode(this.drawMode());
    this.schedule();
  }
}
