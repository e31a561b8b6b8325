// The agent's view of a visitor's shared screen: fit / actual size / zoom with
// drag-to-pan, full screen, freeze frame, live connection figures, text/motion
// mode and "End share".
//
// The toolbar, the "Frozen" badge and the figures are a Preact view of the
// viewer's signals. The picture is imperative: the <video>, the frozen frame's
// <canvas> and the drawings' SVG are positioned and drawn by this class, which
// gets the elements through refs.

import { render } from "preact";
import { batch, signal } from "@preact/signals";
import { formatBitrate } from "../lib/share-stats";
import type { LiveShare } from "../lib/share-agent";
import type { PeerState } from "../lib/share-peer";
import type { ShareFigures } from "../lib/share-stats";
import { IconButton } from "./components";
import { InkBoard, INK_SCALE, fitPoints } from "../lib/ink";
import { inkLayer, type InkLayer } from "../ui/ink-svg";
import type { ShareInk } from "../protocol.gen";

const STATE_TEXT: Record<PeerState, string> = {
  connecting: "Connecting…",
  direct: "Connected · direct",
  relayed: "Connected · relayed",
  reconnecting: "Reconnecting…",
  lost: "Connection lost",
  closed: "Closed",
};

export interface ViewerActions {
  end(): void;
  setMode(mode: "text" | "motion"): void;
  restart(): void;
  /** The current frame at full resolution (Snapshot button, S key). */
  snapshot?(frame: HTMLCanvasElement): void;
}

/** What the toolbar, the badge and the figures show. */
interface ViewerSignals {
  /** The connection's state, and whether the picture has arrived; null before any share. */
  conn: { state: PeerState; waiting: boolean } | null;
  mode: "text" | "motion";
  frozen: boolean;
  fit: boolean;
  scale: number;
  /** The figures' line and route, once the first getStats answered. */
  stats: { text: string; route: string } | null;
  drawing: boolean;
  arrow: boolean;
  pinned: boolean;
  dragging: boolean;
}

interface ViewerViewProps {
  s: { [K in keyof ViewerSignals]: { value: ViewerSignals[K] } };
  on: {
    fit(): void;
    actual(): void;
    zoomBy(f: number): void;
    toggle(tool: "drawing" | "arrow" | "pinned"): void;
    clearInk(): void;
    snapshot(): void;
    freeze(): void;
    mode(): void;
    restart(): void;
    fullscreen(): void;
    end(): void;
  };
  video: { current: HTMLVideoElement | null };
  frozen: { current: HTMLCanvasElement | null };
  stage: { current: HTMLDivElement | null };
}

function ViewerView({ s, on, video, frozen, stage }: ViewerViewProps) {
  const conn = s.conn.value;
  const isFrozen = s.frozen.value;
  const mode = s.mode.value;
  const stats = s.stats.value;
  const stageClass = ["sv-stage", s.dragging.value ? "dragging" : "", s.drawing.value ? "drawing" : ""].filter(Boolean).join(" ");
  const Sep = () => <span class="sv-sep" aria-hidden="true" />;
  return (
    <>
      {/* Icon buttons with tooltips: one row of tools that fits beside the chat. */}
      <div class="sv-bar" role="toolbar" aria-label="Viewer">
        <span class="sv-state" data-testid="share-conn" data-state={conn?.state}>
          {conn ? (conn.waiting ? "Waiting for the picture…" : STATE_TEXT[conn.state]) : ""}
        </span>
        <span class="grow" />
        <IconButton icon="fit" label="Fit to window" data-testid="share-fit" onClick={on.fit} />
        <IconButton icon="actual" label="Actual size (100%)" data-testid="share-actual" onClick={on.actual} />
        <IconButton icon="zoomOut" label="Zoom out" data-testid="share-zoom-out" onClick={() => on.zoomBy(0.8)} />
        <span class="sv-zoom" data-testid="share-zoom">{`${Math.round(s.scale.value * 100)}%`}</span>
        <IconButton icon="zoomIn" label="Zoom in" data-testid="share-zoom-in" onClick={() => on.zoomBy(1.25)} />
        <Sep />
        <IconButton icon="pen" label="Draw on the visitor's screen: they see it over their preview, and over the page when they share this tab" data-testid="share-draw" aria-pressed={s.drawing.value} onClick={() => on.toggle("drawing")} />
        <IconButton icon="arrow" label="Draw arrows instead of lines" data-testid="share-arrow" aria-pressed={s.arrow.value} onClick={() => on.toggle("arrow")} />
        <IconButton icon="pin" label="Keep new drawings until cleared (otherwise they fade after a few seconds)" data-testid="share-pin" aria-pressed={s.pinned.value} onClick={() => on.toggle("pinned")} />
        <IconButton icon="eraser" label="Clear drawings: take every drawing away, here and on the visitor's side" data-testid="share-clear-drawings" onClick={on.clearInk} />
        <Sep />
        <IconButton icon="camera" label="Snapshot: grab the current picture at full resolution and annotate it (S)" data-testid="share-snapshot" onClick={on.snapshot} />
        <IconButton
          icon={isFrozen ? "play" : "pause"}
          label={isFrozen ? "Back to live" : "Freeze: hold the current picture"}
          data-testid="share-freeze"
          aria-pressed={isFrozen}
          data-frozen={String(isFrozen)}
          onClick={on.freeze}
        />
        <IconButton
          icon={mode === "motion" ? "text" : "motion"}
          label={mode === "motion" ? "Text mode: sharp text (few frames)" : "Motion mode: smooth motion (more frames)"}
          data-testid="share-mode"
          data-mode={mode}
          onClick={on.mode}
        />
        <IconButton icon="refresh" label="Reconnect: ask the visitor's browser for a new connection" data-testid="share-restart" onClick={on.restart} />
        <IconButton icon="fullscreen" label="Full screen" data-testid="share-fullscreen" onClick={on.fullscreen} />
        <button class="btn small danger-solid" type="button" data-testid="share-end" title="End the screen share" onClick={on.end}>
          End share
        </button>
      </div>
      <div ref={stage} class={stageClass} data-testid="share-stage" tabindex={0} aria-label="Visitor's screen" data-fit={String(s.fit.value)} data-scale={s.scale.value.toFixed(3)}>
        <video ref={video} class="sv-video" data-testid="share-video" autoplay playsinline muted style={{ visibility: isFrozen ? "hidden" : "" }} />
        <canvas ref={frozen} class="sv-video" data-testid="share-frozen" hidden={!isFrozen} />
        {/* The drawings' SVG goes here (inserted by the viewer, after the frozen frame). */}
        {/* On the picture itself, so that nobody mistakes a held frame for the live screen. Its
            button is not the start of a drag or a stroke on the picture. */}
        <div class="sv-frozen-badge" data-testid="share-frozen-badge" role="status" hidden={!isFrozen} onPointerDown={(ev) => ev.stopPropagation()}>
          <span class="sv-frozen-label">Frozen</span>
          <button class="btn small" type="button" data-testid="share-frozen-live" onClick={on.freeze}>
            Back to live
          </button>
        </div>
      </div>
      <div class="sv-foot">
        <div class="sv-stats" data-testid="share-stats" data-route={stats?.route}>
          {stats?.text ?? ""}
        </div>
      </div>
    </>
  );
}

export class Viewer {
  /** The viewer's `<div class="sv">`, into which Preact renders. */
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly stage: HTMLElement;
  private readonly frozen: HTMLCanvasElement;
  private readonly s = {
    conn: signal<ViewerSignals["conn"]>(null),
    mode: signal<ViewerSignals["mode"]>("text"),
    frozen: signal(false),
    fit: signal(true),
    scale: signal(1),
    stats: signal<ViewerSignals["stats"]>(null),
    drawing: signal(false),
    arrow: signal(false),
    pinned: signal(false),
    dragging: signal(false),
  };
  private live: LiveShare | null = null;
  private x = 0;
  private y = 0;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  figures: ShareFigures | null = null;
  /** Drawing on the visitor's screen: the agent's strokes, shown here and sent to the visitor. */
  private readonly board = new InkBoard();
  private readonly ink: InkLayer;
  private inkFrame = 0;
  private nextInk = 1;

  constructor(private readonly actions: ViewerActions) {
    this.el = document.createElement("div");
    this.el.className = "sv";
    this.el.dataset.testid = "share-viewer";
    this.el.dataset.frozen = "false";
    const video = { current: null as HTMLVideoElement | null };
    const frozen = { current: null as HTMLCanvasElement | null };
    const stage = { current: null as HTMLDivElement | null };
    render(
      <ViewerView
        s={this.s}
        video={video}
        frozen={frozen}
        stage={stage}
        on={{
          fit: () => this.setFit(),
          actual: () => this.setScale(1),
          zoomBy: (f) => this.zoomBy(f),
          toggle: (tool) => {
            this.s[tool].value = !this.s[tool].value;
          },
          clearInk: () => this.sendInk({ kind: "clear" }),
          snapshot: () => this.snapshot(),
          freeze: () => this.toggleFreeze(),
          mode: () => this.actions.setMode(this.live?.peer.mode === "motion" ? "text" : "motion"),
          restart: () => this.actions.restart(),
          fullscreen: () => {
            if (document.fullscreenElement) void document.exitFullscreen();
            else void this.el.requestFullscreen?.().catch(() => undefined);
          },
          end: () => this.actions.end(),
        }}
      />,
      this.el,
    );
    // The first render is synchronous: the refs are set.
    this.video = video.current as HTMLVideoElement;
    this.frozen = frozen.current as HTMLCanvasElement;
    this.stage = stage.current as HTMLDivElement;
    this.video.muted = true;
    this.ink = inkLayer(this.board, "share-ink");
    this.ink.svg.style.transformOrigin = "0 0";
    this.frozen.after(this.ink.svg);
    this.video.addEventListener("resize", () => this.layout());
    this.video.addEventListener("loadedmetadata", () => this.layout());
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => this.layout()).observe(this.stage);
    this.bindPan();
    this.stage.addEventListener("keydown", (ev) => {
      if (ev.key.toLowerCase() === "s" && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
        ev.preventDefault();
        this.snapshot();
      }
    });
  }

  private get isFrozen(): boolean {
    return this.s.frozen.value;
  }

  private get fit(): boolean {
    return this.s.fit.value;
  }

  private get scale(): number {
    return this.s.scale.value;
  }

  /**
   * The picture at its own resolution (videoWidth × videoHeight, not the scaled
   * view): the frozen frame when frozen, else the live video's current frame.
   */
  grab(): HTMLCanvasElement | null {
    const w = this.isFrozen ? this.frozen.width : this.video.videoWidth;
    const hh = this.isFrozen ? this.frozen.height : this.video.videoHeight;
    if (!w || !hh) return null;
    const c = document.createElement("canvas");
    c.width = w;
    c.height = hh;
    const ctx = c.getContext("2d");
    if (!ctx) return null;
    ctx.drawImage(this.isFrozen ? this.frozen : this.video, 0, 0, w, hh);
    return c;
  }

  snapshot(): void {
    const frame = this.grab();
    if (frame) this.actions.snapshot?.(frame);
  }

  /** Show this share (or nothing). */
  show(live: LiveShare | null): void {
    if (live !== this.live) {
      this.live = live;
      this.figures = null;
      this.setFrozen(false);
      this.s.fit.value = true;
      this.board.clear();
      this.drawInk();
      if (this.statsTimer) clearInterval(this.statsTimer);
      this.statsTimer = live ? setInterval(() => void this.poll(), 1000) : null;
    }
    const stream = live?.stream ?? null;
    if (this.video.srcObject !== stream) {
      this.video.srcObject = stream;
      if (stream) void this.video.play().catch(() => undefined);
    }
    this.update();
  }

  /** The share's connection and mode, which its peer keeps (not a signal): read again on every show and poll. */
  private update(): void {
    const l = this.live;
    const state = l?.peer.state ?? "connecting";
    batch(() => {
      this.s.conn.value = { state, waiting: !!l && !l.stream && state === "connecting" };
      this.s.mode.value = l?.peer.mode ?? "text";
    });
  }

  private setFrozen(on: boolean): void {
    this.s.frozen.value = on;
    this.el.dataset.frozen = String(on);
  }

  private async poll(): Promise<void> {
    const l = this.live;
    if (!l) return;
    try {
      const f = await l.peer.stats();
      if (l !== this.live || !f) return;
      this.figures = f;
      const parts = [
        f.width && f.height ? `${f.width}×${f.height}` : "–",
        f.fps !== null ? `${Math.round(f.fps)} fps` : "– fps",
        formatBitrate(f.bitrate),
        f.rttMs !== null ? `RTT ${f.rttMs} ms` : "RTT –",
        f.lossPct !== null ? `loss ${f.lossPct}%` : "loss –",
        f.route ?? "–",
      ];
      this.s.stats.value = { text: parts.join(" · "), route: f.route ?? "" };
    } catch {
      /* closed */
    }
    this.update();
  }

  // ---- zoom and pan ----
  private natural(): { w: number; h: number } {
    return { w: this.video.videoWidth || 1280, h: this.video.videoHeight || 720 };
  }

  private layout(): void {
    const { w, h: hh } = this.natural();
    const sw = this.stage.clientWidth || 1;
    const sh = this.stage.clientHeight || 1;
    if (this.fit) {
      this.s.scale.value = Math.min(sw / w, sh / hh);
      this.x = (sw - w * this.scale) / 2;
      this.y = (sh - hh * this.scale) / 2;
    } else {
      this.clamp();
    }
    for (const el of [this.video, this.frozen, this.ink.svg as unknown as HTMLElement]) {
      el.style.width = w + "px";
      el.style.height = hh + "px";
      el.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    }
    this.drawInk();
  }

  private clamp(): void {
    const { w, h: hh } = this.natural();
    const sw = this.stage.clientWidth;
    const sh = this.stage.clientHeight;
    const cw = w * this.scale;
    const ch = hh * this.scale;
    this.x = cw <= sw ? (sw - cw) / 2 : Math.min(0, Math.max(sw - cw, this.x));
    this.y = ch <= sh ? (sh - ch) / 2 : Math.min(0, Math.max(sh - ch, this.y));
  }

  setFit(): void {
    this.s.fit.value = true;
    this.layout();
  }

  setScale(scale: number, cx = this.stage.clientWidth / 2, cy = this.stage.clientHeight / 2): void {
    const k = Math.max(0.1, Math.min(8, scale));
    // Keep the point under (cx, cy) in place.
    this.x = cx - ((cx - this.x) * k) / this.scale;
    this.y = cy - ((cy - this.y) * k) / this.scale;
    batch(() => {
      this.s.scale.value = k;
      this.s.fit.value = false;
    });
    this.layout();
  }

  zoomBy(factor: number): void {
    this.setScale(this.scale * factor);
  }

  private bindPan(): void {
    let drag: { x: number; y: number; ox: number; oy: number } | null = null;
    this.bindDraw();
    this.stage.addEventListener("pointerdown", (ev) => {
      if (this.fit || this.s.drawing.value) return;
      drag = { x: ev.clientX, y: ev.clientY, ox: this.x, oy: this.y };
      this.stage.setPointerCapture?.(ev.pointerId);
      this.s.dragging.value = true;
    });
    this.stage.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      this.x = drag.ox + ev.clientX - drag.x;
      this.y = drag.oy + ev.clientY - drag.y;
      this.layout();
    });
    const end = () => {
      drag = null;
      this.s.dragging.value = false;
    };
    this.stage.addEventListener("pointerup", end);
    this.stage.addEventListener("pointercancel", end);
    this.stage.addEventListener(
      "wheel",
      (ev) => {
        if (!ev.ctrlKey) return;
        ev.preventDefault();
        const r = this.stage.getBoundingClientRect();
        this.setScale(this.scale * (ev.deltaY < 0 ? 1.1 : 0.9), ev.clientX - r.left, ev.clientY - r.top);
      },
      { passive: false },
    );
  }

  // ---- drawing ----
  /** Shows a drawing here and sends it to the visitor (false when their side is not connected). */
  private sendInk(ink: ShareInk): boolean {
    this.board.apply(ink, performance.now());
    this.drawInk();
    return this.live?.peer.sendInk(JSON.stringify(ink)) ?? false;
  }

  private drawInk(): void {
    if (this.inkFrame) return;
    this.inkFrame = requestAnimationFrame(() => {
      this.inkFrame = 0;
      const { w, h: hh } = this.natural();
      // Again next frame while something shows (to fade it).
      if (this.ink.draw(w, hh, performance.now())) this.drawInk();
    });
  }

  /** A drag in draw mode: a stroke in ten-thousandths of the picture, sent as it grows. */
  private bindDraw(): void {
    let points: number[] | null = null;
    let id = 0;
    let last = 0;
    const at = (ev: PointerEvent): [number, number] => {
      const r = this.stage.getBoundingClientRect();
      const { w, h: hh } = this.natural();
      return [(((ev.clientX - r.left - this.x) / this.scale) / w) * INK_SCALE, (((ev.clientY - r.top - this.y) / this.scale) / hh) * INK_SCALE];
    };
    const send = () => {
      if (points && points.length >= 2) this.sendInk({ kind: "stroke", id, points: fitPoints(points), arrow: this.s.arrow.value, pinned: this.s.pinned.value });
    };
    this.stage.addEventListener("pointerdown", (ev) => {
      if (!this.s.drawing.value || ev.button !== 0) return;
      ev.preventDefault();
      id = this.nextInk++;
      points = [...at(ev)];
      last = performance.now();
      this.stage.setPointerCapture?.(ev.pointerId);
    });
    this.stage.addEventListener("pointermove", (ev) => {
      if (!points) return;
      points.push(...at(ev));
      if (performance.now() - last >= 50) {
        last = performance.now();
        send();
      }
    });
    const end = (ev: PointerEvent) => {
      if (!points) return;
      points.push(...at(ev));
      send();
      points = null;
    };
    this.stage.addEventListener("pointerup", end);
    this.stage.addEventListener("pointercancel", end);
  }

  // ---- freeze frame ----
  toggleFreeze(): void {
    if (!this.isFrozen) {
      const { w, h: hh } = this.natural();
      this.frozen.width = w;
      this.frozen.height = hh;
      this.frozen.getContext("2d")?.drawImage(this.video, 0, 0, w, hh);
      this.setFrozen(true);
    } else {
      this.setFrozen(false);
    }
    this.layout();
  }

  destroy(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.video.srcObject = null;
    render(null, this.el);
  }
}
