// The agent's view of a visitor's shared screen: fit / actual size / zoom with
// drag-to-pan, full screen, freeze frame, live connection figures, text/motion
// mode and "End share".

import { formatBitrate, type ShareFigures } from "../lib/share-stats";
import type { LiveShare } from "../lib/share-agent";
import type { PeerState } from "../lib/share-peer";
import { h, replaceChildren } from "../ui/dom";
import { iconButton, setIconButton, type ConsoleIcon } from "./icons";
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

export class Viewer {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly stage: HTMLElement;
  private readonly frozen: HTMLCanvasElement;
  private readonly stateEl = h("span", { class: "sv-state", "data-testid": "share-conn" });
  private readonly statsEl = h("div", { class: "sv-stats", "data-testid": "share-stats" });
  private readonly modeBtn: HTMLButtonElement;
  private readonly freezeBtn: HTMLButtonElement;
  private readonly zoomLabel = h("span", { class: "sv-zoom", "data-testid": "share-zoom" });
  private readonly frozenBadge: HTMLElement;
  private live: LiveShare | null = null;
  private fit = true;
  private scale = 1;
  private x = 0;
  private y = 0;
  private isFrozen = false;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  figures: ShareFigures | null = null;
  /** Drawing on the visitor's screen: the agent's strokes, shown here and sent to the visitor. */
  private readonly board = new InkBoard();
  private readonly ink: InkLayer;
  private drawing = false;
  private arrow = false;
  private pinned = false;
  private inkFrame = 0;
  private nextInk = 1;
  private readonly drawBtn: HTMLButtonElement;
  private readonly arrowBtn: HTMLButtonElement;
  private readonly pinBtn: HTMLButtonElement;

  constructor(private readonly actions: ViewerActions) {
    this.video = h("video", { class: "sv-video", "data-testid": "share-video", autoplay: true, playsinline: true, muted: true });
    this.video.muted = true;
    this.frozen = h("canvas", { class: "sv-video", "data-testid": "share-frozen", hidden: true });
    this.ink = inkLayer(this.board, "share-ink");
    this.ink.svg.style.transformOrigin = "0 0";
    this.stage = h("div", { class: "sv-stage", "data-testid": "share-stage", tabindex: "0", "aria-label": "Visitor's screen" }, this.video, this.frozen, this.ink.svg as unknown as HTMLElement);
    // Icon buttons with tooltips: one row of tools that fits beside the chat.
    const b = (name: ConsoleIcon, testid: string, title: string, onclick: () => void) => iconButton(name, title, { "data-testid": testid, onclick });
    const toggle = (name: ConsoleIcon, testid: string, title: string, onclick: () => void) => {
      const t = b(name, testid, title, onclick);
      t.setAttribute("aria-pressed", "false");
      return t;
    };
    this.drawBtn = toggle("pen", "share-draw", "Draw on the visitor's screen: they see it over their preview, and over the page when they share this tab", () => this.setDrawing(!this.drawing));
    this.arrowBtn = toggle("arrow", "share-arrow", "Draw arrows instead of lines", () => {
      this.arrow = !this.arrow;
      this.arrowBtn.setAttribute("aria-pressed", String(this.arrow));
    });
    this.pinBtn = toggle("pin", "share-pin", "Keep new drawings until cleared (otherwise they fade after a few seconds)", () => {
      this.pinned = !this.pinned;
      this.pinBtn.setAttribute("aria-pressed", String(this.pinned));
    });
    const clearInk = b("eraser", "share-clear-drawings", "Clear drawings: take every drawing away, here and on the visitor's side", () => this.sendInk({ kind: "clear" }));
    this.modeBtn = b("motion", "share-mode", "Motion mode: smooth motion (more frames)", () => {
      const next = this.live?.peer.mode === "motion" ? "text" : "motion";
      this.actions.setMode(next);
    });
    const snap = b("camera", "share-snapshot", "Snapshot: grab the current picture at full resolution and annotate it (S)", () => this.snapshot());
    this.freezeBtn = b("pause", "share-freeze", "Freeze: hold the current picture", () => this.toggleFreeze());
    const full = b("fullscreen", "share-fullscreen", "Full screen", () => {
      if (document.fullscreenElement) void document.exitFullscreen();
      else void this.el.requestFullscreen?.().catch(() => undefined);
    });
    // On the picture itself, so that nobody mistakes a held frame for the live screen.
    this.frozenBadge = h(
      "div",
      { class: "sv-frozen-badge", "data-testid": "share-frozen-badge", role: "status", hidden: true },
      h("span", { class: "sv-frozen-label", text: "Frozen" }),
      h("button", { class: "btn small", type: "button", "data-testid": "share-frozen-live", text: "Back to live", onclick: () => this.toggleFreeze() }),
    );
    // Its button is not the start of a drag or a stroke on the picture.
    this.frozenBadge.addEventListener("pointerdown", (ev) => ev.stopPropagation());
    this.stage.appendChild(this.frozenBadge);
    const sep = () => h("span", { class: "sv-sep", "aria-hidden": "true" });
    this.el = h(
      "div",
      { class: "sv", "data-testid": "share-viewer" },
      h(
        "div",
        { class: "sv-bar", role: "toolbar", "aria-label": "Viewer" },
        this.stateEl,
        h("span", { class: "grow" }),
        b("fit", "share-fit", "Fit to window", () => this.setFit()),
        b("actual", "share-actual", "Actual size (100%)", () => this.setScale(1)),
        b("zoomOut", "share-zoom-out", "Zoom out", () => this.zoomBy(0.8)),
        this.zoomLabel,
        b("zoomIn", "share-zoom-in", "Zoom in", () => this.zoomBy(1.25)),
        sep(),
        this.drawBtn,
        this.arrowBtn,
        this.pinBtn,
        clearInk,
        sep(),
        snap,
        this.freezeBtn,
        this.modeBtn,
        b("refresh", "share-restart", "Reconnect: ask the visitor's browser for a new connection", () => this.actions.restart()),
        full,
        h("button", { class: "btn small danger-solid", type: "button", "data-testid": "share-end", title: "End the screen share", text: "End share", onclick: () => this.actions.end() }),
      ),
      this.stage,
      h("div", { class: "sv-foot" }, this.statsEl),
    );
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
      this.isFrozen = false;
      this.fit = true;
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

  private update(): void {
    const l = this.live;
    const state = l?.peer.state ?? "connecting";
    this.stateEl.dataset.state = state;
    this.stateEl.textContent = l && !l.stream && state === "connecting" ? "Waiting for the picture…" : STATE_TEXT[state];
    const mode = l?.peer.mode ?? "text";
    this.modeBtn.dataset.mode = mode;
    if (mode === "motion") setIconButton(this.modeBtn, "text", "Text mode: sharp text (few frames)");
    else setIconButton(this.modeBtn, "motion", "Motion mode: smooth motion (more frames)");
    if (this.isFrozen) setIconButton(this.freezeBtn, "play", "Back to live");
    else setIconButton(this.freezeBtn, "pause", "Freeze: hold the current picture");
    this.freezeBtn.setAttribute("aria-pressed", String(this.isFrozen));
    this.frozenBadge.hidden = !this.isFrozen;
    this.freezeBtn.dataset.frozen = String(this.isFrozen);
    this.frozen.hidden = !this.isFrozen;
    this.video.style.visibility = this.isFrozen ? "hidden" : "";
    this.el.dataset.frozen = String(this.isFrozen);
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
      replaceChildren(this.statsEl, parts.join(" · "));
      this.statsEl.dataset.route = f.route ?? "";
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
      this.scale = Math.min(sw / w, sh / hh);
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
    this.zoomLabel.textContent = Math.round(this.scale * 100) + "%";
    this.stage.dataset.fit = String(this.fit);
    this.stage.dataset.scale = this.scale.toFixed(3);
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
    this.fit = true;
    this.layout();
  }

  setScale(scale: number, cx = this.stage.clientWidth / 2, cy = this.stage.clientHeight / 2): void {
    const k = Math.max(0.1, Math.min(8, scale));
    // Keep the point under (cx, cy) in place.
    this.x = cx - ((cx - this.x) * k) / this.scale;
    this.y = cy - ((cy - this.y) * k) / this.scale;
    this.scale = k;
    this.fit = false;
    this.layout();
  }

  zoomBy(factor: number): void {
    this.setScale(this.scale * factor);
  }

  private bindPan(): void {
    let drag: { x: number; y: number; ox: number; oy: number } | null = null;
    this.bindDraw();
    this.stage.addEventListener("pointerdown", (ev) => {
      if (this.fit || this.drawing) return;
      drag = { x: ev.clientX, y: ev.clientY, ox: this.x, oy: this.y };
      this.stage.setPointerCapture?.(ev.pointerId);
      this.stage.classList.add("dragging");
    });
    this.stage.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      this.x = drag.ox + ev.clientX - drag.x;
      this.y = drag.oy + ev.clientY - drag.y;
      this.layout();
    });
    const end = () => {
      drag = null;
      this.stage.classList.remove("dragging");
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
  private setDrawing(on: boolean): void {
    this.drawing = on;
    this.drawBtn.setAttribute("aria-pressed", String(on));
    this.stage.classList.toggle("drawing", on);
  }

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
      if (points && points.length >= 2) this.sendInk({ kind: "stroke", id, points: fitPoints(points), arrow: this.arrow, pinned: this.pinned });
    };
    this.stage.addEventListener("pointerdown", (ev) => {
      if (!this.drawing || ev.button !== 0) return;
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
      this.isFrozen = true;
    } else {
      this.isFrozen = false;
    }
    this.layout();
    this.update();
  }

  destroy(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.video.srcObject = null;
  }
}
