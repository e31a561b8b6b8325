// Drawing on the mirror: in draw mode a drag over the mirrored page (mouse,
// pen or touch) makes a line, anchored to the element under its first point
// and sent up as it grows (guidance `stroke`, the same id each time); the
// agent's own copy, and what the visitor's page shows, fade after
// DRAWING_FADE_MS unless pinned. The lines are drawn in an SVG inside
// rrweb's wrapper, so they take the mirror's scale and scroll with the page.

import { Line, type Stroke } from "../lib/cobrowse-drawing";
import type { Anchor, Guidance } from "../protocol.gen";
import { createDrawingLayer } from "../ui/drawing-layer";

/** What a line drawn now is: with an arrowhead at its end, and kept until cleared. */
export interface DrawMode {
  arrow: boolean;
  pinned: boolean;
}

export interface MirrorDrawingHost {
  stage: HTMLElement;
  /** The mirror's iframe now (rebuilt with every page), or null. */
  frame(): HTMLIFrameElement | null;
  /** The mirror's element for an rrweb node id. */
  node(id: number): Node | null;
  anchorAt(clientX: number, clientY: number): Anchor | null;
  /** Sends guidance to the visitor's page; false when it could not go. */
  send(items: Guidance[]): void;
}

export interface MirrorDrawing {
  /** Puts the layer into rrweb's wrapper (after every rebuild of the mirror). */
  attach(wrapper: HTMLElement): void;
  /** Draw mode (null: the mirror's pointer does what it did before). */
  setMode(mode: DrawMode | null): void;
  readonly mode: DrawMode | null;
  /** Takes every line away here; `tell` sends the visitor's page a clear too. */
  clear(tell: boolean): void;
  destroy(): void;
}

/** How often a line being drawn goes out at most (the pointer's own place goes too). */
const SEND_EVERY_MS = 60;

export function createMirrorDrawing(host: MirrorDrawingHost): MirrorDrawing {
  const { stage } = host;
  const layer = createDrawingLayer({ place });
  let mode: DrawMode | null = null;
  // Ids of this console's lines: a new console (a reload) does not reuse the
  // ids of lines it drew before, which still show on the visitor's page.
  let nextId = (Math.random() * 0x7fffffff) >>> 0;

  /** Where an anchor is now in the mirror's page, in its viewport's CSS pixels. */
  function place(a: Anchor): { x: number; y: number } | null {
    const frame = host.frame();
    const win = frame?.contentWindow;
    if (!frame || !win) return null;
    // The layer covers the visitor's viewport and no more: a line scrolled out
    // of it is cut off, as on their screen.
    const w = `${frame.offsetWidth}px`;
    const h = `${frame.offsetHeight}px`;
    if (layer.svg.style.width !== w || layer.svg.style.height !== h) {
      layer.svg.style.width = w;
      layer.svg.style.height = h;
      layer.svg.style.overflow = "hidden";
    }
    const el = a.node === null ? null : host.node(a.node);
    if (el && el.nodeType === 1 && el.isConnected) {
      const r = (el as Element).getBoundingClientRect();
      if (r.width > 0 || r.height > 0) return { x: r.left + a.fx * r.width, y: r.top + a.fy * r.height };
    }
    return { x: a.x - win.scrollX, y: a.y - win.scrollY };
  }

  interface Drawn {
    pointer: number;
    id: number;
    at: Anchor;
    line: Line;
    /** The first point, in the console's window. */
    cx: number;
    cy: number;
    /** The mirror's scale when the line began. */
    scale: number;
    arrow: boolean;
    pinned: boolean;
  }
  let drawn: Drawn | null = null;
  let sentAt = 0;
  let sendTimer: ReturnType<typeof setTimeout> | null = null;

  const strokeOf = (d: Drawn): Stroke => ({ kind: "stroke", id: d.id, at: d.at, points: d.line.points.slice(), arrow: d.arrow, pinned: d.pinned });

  function send(): void {
    if (sendTimer !== null) clearTimeout(sendTimer);
    sendTimer = null;
    if (!drawn) return;
    sentAt = performance.now();
    host.send([strokeOf(drawn)]);
  }

  function sendSoon(): void {
    if (sendTimer !== null) return;
    const wait = SEND_EVERY_MS - (performance.now() - sentAt);
    if (wait <= 0) send();
    else sendTimer = setTimeout(send, wait);
  }

  function begin(pointer: number, cx: number, cy: number): boolean {
    const at = host.anchorAt(cx, cy);
    const frame = host.frame();
    if (!at || !frame || !mode) return false;
    const r = frame.getBoundingClientRect();
    const scale = r.width / (frame.offsetWidth || r.width || 1) || 1;
    nextId = (nextId + 1) >>> 0;
    drawn = { pointer, id: nextId, at, line: new Line(), cx, cy, scale, arrow: mode.arrow, pinned: mode.pinned };
    layer.apply([strokeOf(drawn)]);
    return true;
  }

  function extend(cx: number, cy: number): void {
    const d = drawn;
    if (!d) return;
    if (!d.line.add((cx - d.cx) / d.scale, (cy - d.cy) / d.scale)) {
      // The line is as long as one stroke may be: it goes on as another, from
      // its last point (anchored to the element there).
      send();
      const [lx, ly] = d.line.last;
      if (begin(d.pointer, d.cx + lx * d.scale, d.cy + ly * d.scale)) extend(cx, cy);
      else drawn = null;
      return;
    }
    layer.apply([strokeOf(d)]);
    sendSoon();
  }

  function end(): void {
    if (!drawn) return;
    send();
    drawn = null;
  }

  stage.addEventListener("pointerdown", (e) => {
    if (!mode || !e.isPrimary || e.button !== 0 || drawn) return;
    if (!begin(e.pointerId, e.clientX, e.clientY)) return;
    e.preventDefault();
    try {
      stage.setPointerCapture(e.pointerId);
    } catch {
      // The pointer is gone already: its up event ends the line all the same.
    }
    sendSoon();
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drawn || e.pointerId !== drawn.pointer) return;
    const all = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const c of all.length > 0 ? all : [e]) extend(c.clientX, c.clientY);
  });
  const up = (e: PointerEvent) => {
    if (drawn && e.pointerId === drawn.pointer) end();
  };
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);

  return {
    attach(wrapper) {
      if (layer.svg.parentNode !== wrapper) wrapper.appendChild(layer.svg);
    },
    setMode(m) {
      mode = m;
      if (!m) end();
      stage.dataset.draw = String(!!m);
      // A touch drags a line instead of panning the stage.
      stage.style.touchAction = m ? "none" : "";
    },
    get mode() {
      return mode;
    },
    clear(tell) {
      drawn = null;
      layer.clear();
      if (tell) host.send([{ kind: "clear" }]);
    },
    destroy() {
      if (sendTimer !== null) clearTimeout(sendTimer);
      layer.destroy();
    },
  };
}
