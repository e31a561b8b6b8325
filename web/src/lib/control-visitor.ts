// The visitor's side of remote control, without DOM: the grant, the visitor's
// answers, and the stream on which the agent's inputs arrive. What an input does
// on the page is injected (the widget's executor, which refuses private fields
// and anything outside the page). Control lives in the tab being co-browsed:
// it acts through the same element ids as the mirror.

import type { ControlAction, ControlInput, ControlResult, ConversationSummary, Event, GrantState, ServerMessage } from "../protocol.gen";
import type { Timers } from "./connection";
import { grantFromEvent, grantFromSummary, type GrantView } from "./grant-view";
import { Reassembler, frameMessage } from "./stream-frames";
import { StreamSocket, type BinarySocketLike } from "./stream-socket";
import type { KeyValueStore, VisitorSession } from "./visitor-session";

/** sessionStorage key: the remote-control grant this tab took back (until the server confirms it is over). */
export const CONTROL_REVOKED_KEY = "sightline.control_revoked";

export type ControlGrant = GrantView;

export interface VisitorControlDeps {
  relayUrl: (token: string) => string;
  /** Whether this tab is the one being co-browsed (control acts only there). */
  inThisTab: () => boolean;
  /** Carries out the agent's inputs, in order; an answer for each. */
  execute: (inputs: ControlInput[]) => ControlResult[];
  /**
   * Per-tab storage: a grant the visitor took back is remembered, so that a
   * revocation sent while the connection was down is sent again on the next
   * welcome, and the grant is never resumed meanwhile.
   */
  tabStorage?: KeyValueStore;
  createSocket?: (url: string) => BinarySocketLike;
  timers?: Timers;
}

const LIVE: GrantState[] = ["asked", "allowed", "choosing", "active"];
const RUNNING: GrantState[] = ["allowed", "choosing", "active"];

/** Decodes one message of inputs (the relay checked their shape). */
export function decodeInputs(bytes: Uint8Array): ControlInput[] | null {
  let items: unknown;
  try {
    items = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  return Array.isArray(items) ? (items.filter((i) => !!i && typeof i === "object" && typeof (i as { seq?: unknown }).seq === "number") as ControlInput[]) : null;
}

export class VisitorControl {
  grant: ControlGrant | null = null;
  private stream: StreamSocket | null = null;
  private startSent = false;
  private answers = 1;
  private listeners = new Set<() => void>();
  /** Inputs carried out or refused (for tests and figures). */
  handled = 0;

  constructor(
    private readonly session: VisitorSession,
    private readonly deps: VisitorControlDeps,
  ) {
    session.intercept((m) => this.onMessage(m));
    session.onEvent((e) => this.onEvent(e));
    if (session.ready) this.fromSummary(session.welcomeSummary);
    for (const e of session.transcript.getEvents()) this.onEvent(e);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A request waiting for the visitor's answer, in the co-browsed tab. */
  get asking(): boolean {
    return this.grant?.state === "asked" && !this.revoked(this.grant.id) && this.deps.inThisTab();
  }

  /** The agent may act on this page now (or is about to). */
  get controlling(): boolean {
    return !!this.grant && RUNNING.includes(this.grant.state) && !this.revoked(this.grant.id) && this.deps.inThisTab();
  }

  private revoked(id: string): boolean {
    try {
      return this.deps.tabStorage?.get(CONTROL_REVOKED_KEY) === id;
    } catch {
      return false;
    }
  }

  allow(): boolean {
    const g = this.grant;
    if (!g || g.state !== "asked") return false;
    return this.session.send({ type: "grant_step", grant: g.id, step: "allow", detail: null });
  }

  decline(): boolean {
    const g = this.grant;
    if (!g || g.state !== "asked") return false;
    return this.session.send({ type: "grant_step", grant: g.id, step: "decline", detail: null });
  }

  /** The visitor takes control back: nothing more is carried out from now on, and the server revokes. */
  stop(): boolean {
    const g = this.grant;
    if (!g || !LIVE.includes(g.state)) return false;
    this.teardown();
    try {
      this.deps.tabStorage?.set(CONTROL_REVOKED_KEY, g.id);
    } catch {
      // storage blocked: this page remembers through the state below
    }
    // Shown as over at once; the server's event confirms it.
    this.grant = { ...g, state: "ended" };
    this.changed();
    return this.session.send({ type: "grant_end", grant: g.id });
  }

  /** What control did, for the conversation's history. */
  report(action: ControlAction): void {
    const g = this.grant;
    if (g?.state === "active") this.session.send({ type: "control_report", grant: g.id, action });
  }

  /** Co-browsing moved to or from this tab: join or leave accordingly. */
  recheck(): void {
    if (!this.deps.inThisTab()) this.teardown();
    else this.rejoin();
    this.changed();
  }

  private onMessage(msg: ServerMessage): boolean | void {
    switch (msg.type) {
      case "visitor_welcome":
      case "conversation_changed":
        this.fromSummary(msg.conversation);
        break;
      case "stream_granted":
        if (msg.capability !== "remote_control" || msg.role !== "subscriber") return;
        if (this.revoked(msg.grant)) return true;
        if (this.grant?.id === msg.grant) this.grant.stream = msg.stream;
        if (this.grant?.id !== msg.grant || !RUNNING.includes(this.grant.state) && this.grant.state !== "asked") return true;
        if (!this.deps.inThisTab()) return true;
        this.ensureStream().open(msg.token);
        return true;
    }
  }

  private onEvent(e: Event): void {
    if (e.kind !== "grant" || e.capability !== "remote_control") return;
    this.grant = grantFromEvent(this.grant, e);
    if (!LIVE.includes(e.state)) this.teardown();
    this.changed();
  }

  private fromSummary(summary: ConversationSummary | null): void {
    const g = summary?.grants.find((x) => x.capability === "remote_control") ?? null;
    if (!g) {
      if (this.grant) this.teardown();
      this.grant = null;
      this.changed();
      return;
    }
    this.grant = grantFromSummary(this.grant, g);
    if (!LIVE.includes(g.state)) this.teardown();
    else if (this.revoked(g.id)) {
      // Taken back while the connection was down: say so again, never resume.
      this.teardown();
      const id = g.id;
      queueMicrotask(() => this.session.send({ type: "grant_end", grant: id }));
    } else queueMicrotask(() => this.rejoin());
    this.changed();
  }

  /** After a navigation or a reconnect: this tab goes on under the same consent. */
  private rejoin(): void {
    const g = this.grant;
    if (!g?.stream || !RUNNING.includes(g.state) || this.revoked(g.id) || !this.deps.inThisTab()) return;
    if (this.stream && this.stream.state !== "ended") return;
    this.ensureStream();
    this.session.send({ type: "stream_join", stream: g.stream });
  }

  private ensureStream(): StreamSocket {
    if (this.stream && this.stream.state !== "ended") return this.stream;
    const frames = new Reassembler();
    const stream: StreamSocket = new StreamSocket({
      url: this.deps.relayUrl,
      needToken: () => {
        const s = this.grant?.stream;
        if (s && this.controlling) this.session.send({ type: "stream_join", stream: s });
      },
      onControl: (c) => {
        if (this.stream !== stream || c.type !== "joined") return;
        const g = this.grant;
        if (g && !this.startSent && g.state === "allowed") {
          this.startSent = true;
          this.session.send({ type: "grant_step", grant: g.id, step: "start", detail: null });
        }
      },
      onFrame: (frame) => {
        if (this.stream !== stream || !this.controlling) return;
        const message = frames.push(frame);
        if (!message || message.compressed) return;
        const inputs = decodeInputs(message.bytes);
        if (!inputs || inputs.length === 0) return;
        const results = this.deps.execute(inputs);
        this.handled += results.length;
        if (results.length === 0 || this.stream !== stream) return;
        const [answer] = frameMessage(this.answers++ >>> 0, new TextEncoder().encode(JSON.stringify(results)), false);
        stream.send(answer);
      },
      onLink: (link) => {
        if (link === "ended" && this.stream === stream) this.teardown();
        this.changed();
      },
      createSocket: this.deps.createSocket,
      timers: this.deps.timers,
    });
    this.stream = stream;
    return stream;
  }

  private teardown(): void {
    const stream = this.stream;
    this.stream = null;
    stream?.close();
    this.startSent = false;
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}
