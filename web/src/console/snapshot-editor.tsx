// The snapshot editor: a full-window canvas over a picture (a frame of a screen
// share at full resolution, an uploaded or pasted file, or an image already in
// the conversation) with shapes from lib/annotate. "Send to visitor" flattens it
// to a PNG (blur boxes are burned into the pixels) and uploads it with the vector
// annotations; "Save" downloads the PNG.
//
// The toolbar, the colour and width choices, the buttons and the status line are
// a Preact view (`EditorChrome`) of the editor's signals; the canvas, its view
// transform and the text box placed over it stay imperative in `SnapshotEditor`,
// which gets them through refs and draws the model of lib/annotate.

import { render } from "preact";
import { batch, signal, type ReadonlySignal } from "@preact/signals";
import { MAX_ANNOTATIONS_BYTES, type UploadedImage } from "../protocol.gen";
import { Annotations, arrowHead, bounds, boxOf, isFreehand, isTwoPoint, simplify, type AnnotationsDoc, type Crop, type Shape, type ShapeType } from "../lib/annotate";
import { newClientId } from "../lib/ids";
import { UploadError, uploadAgentImage } from "../lib/images";

export type Tool = ShapeType | "select" | "crop";

interface ToolInfo {
  tool: Tool;
  key: string;
  label: string;
}

const TOOLS: ToolInfo[] = [
  { tool: "select", key: "v", label: "Select / move" },
  { tool: "rect", key: "r", label: "Rectangle" },
  { tool: "ellipse", key: "e", label: "Ellipse" },
  { tool: "line", key: "l", label: "Line" },
  { tool: "arrow", key: "a", label: "Arrow" },
  { tool: "pen", key: "p", label: "Pen" },
  { tool: "highlight", key: "h", label: "Highlighter" },
  { tool: "text", key: "t", label: "Text" },
  { tool: "marker", key: "n", label: "Numbered marker" },
  { tool: "blur", key: "b", label: "Blur (hide private data)" },
  { tool: "crop", key: "c", label: "Crop" },
];

const SWATCHES = ["#ef4444", "#f59e0b", "#22c55e", "#3b82f6", "#a855f7", "#111827", "#ffffff"];
const WIDTHS = [2, 4, 6, 10, 16];

export const SHORTCUTS: [string, string][] = [
  ...TOOLS.map((t): [string, string] => [t.key.toUpperCase(), t.label]),
  ["Del / Backspace", "Delete the selected shape"],
  ["Arrow keys", "Nudge the selected shape (Shift: 10 px)"],
  ["Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y)", "Undo / redo"],
  ["+ / −", "Zoom in / out (also Ctrl+wheel)"],
  ["0", "Fit to window"],
  ["Space+drag, middle button, or drag empty space with Select", "Pan"],
  ["Two fingers", "Pinch to zoom, drag to pan (touch screens)"],
  ["Esc", "Cancel the shape being drawn, deselect, or close (twice when there are changes)"],
];

export interface EditorSource {
  /** The base picture, at full resolution. */
  image: CanvasImageSource;
  width: number;
  height: number;
  /** Shapes to start with (an image reopened). */
  doc?: AnnotationsDoc | null;
  /** The stored image id of the base picture, if it is stored. */
  baseId: string | null;
  /** Sent as ?source_image= (the image being edited). */
  sourceImage: string | null;
  title: string;
  /** Shown under the toolbar (e.g. a limitation of this reopened picture). */
  note?: string;
}

export interface EditorHooks {
  conversation: string;
  csrf(): string;
  /** After a successful send; `base` is the unannotated picture (for reopening later). */
  sent(up: UploadedImage, base: Blob | null): void;
  closed?(): void;
  /** A remark for the agent after the editor has closed. */
  notice?(text: string): void;
}

type Drag =
  | { kind: "draw"; shape: Omit<Shape, "id"> }
  | { kind: "move"; id: number; x: number; y: number; moved: boolean }
  | { kind: "pan"; sx: number; sy: number; ox: number; oy: number }
  | { kind: "crop"; x0: number; y0: number; x1: number; y1: number };

function fileStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The pixelation block of blur boxes (image pixels) for a picture `width` pixels wide. */
export function blurBlock(width: number): number {
  return Math.max(12, Math.round(width / 100));
}

/** Draws one shape on a context in image coordinates; blur pixelates what is already on `ctx.canvas`. */
export function drawShape(ctx: CanvasRenderingContext2D, s: Omit<Shape, "id">, pixelWidth: number): void {
  const p = s.pts;
  ctx.save();
  ctx.strokeStyle = s.color;
  ctx.fillStyle = s.color;
  ctx.lineWidth = s.width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  switch (s.type) {
    case "rect": {
      const b = boxOf(p[0], p[1], p[2], p[3]);
      ctx.strokeRect(b.x, b.y, b.w, b.h);
      break;
    }
    case "ellipse": {
      const b = boxOf(p[0], p[1], p[2], p[3]);
      ctx.beginPath();
      ctx.ellipse(b.x + b.w / 2, b.y + b.h / 2, Math.max(0.5, b.w / 2), Math.max(0.5, b.h / 2), 0, 0, Math.PI * 2);
      ctx.stroke();
      break;
    }
    case "line":
    case "arrow": {
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      ctx.lineTo(p[2], p[3]);
      ctx.stroke();
      if (s.type === "arrow" && Math.hypot(p[2] - p[0], p[3] - p[1]) > 1) {
        const [ax, ay, bx, by] = arrowHead(p[0], p[1], p[2], p[3], s.width);
        ctx.beginPath();
        ctx.moveTo(p[2], p[3]);
        ctx.lineTo(ax, ay);
        ctx.lineTo(bx, by);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
      break;
    }
    case "pen":
    case "highlight": {
      if (s.type === "highlight") ctx.globalAlpha = 0.4;
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      if (p.length === 2) ctx.lineTo(p[0] + 0.01, p[1]);
      for (let i = 2; i + 1 < p.length; i += 2) ctx.lineTo(p[i], p[i + 1]);
      ctx.stroke();
      break;
    }
    case "text": {
      const size = s.width;
      ctx.font = `600 ${size}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
      ctx.textBaseline = "top";
      ctx.lineWidth = Math.max(2, size / 6);
      ctx.strokeStyle = s.color.toLowerCase() === "#ffffff" ? "#111827" : "#ffffff";
      (s.text || "").split("\n").forEach((line, i) => {
        ctx.strokeText(line, p[0], p[1] + i * size * 1.25);
        ctx.fillText(line, p[0], p[1] + i * size * 1.25);
      });
      break;
    }
    case "marker": {
      const r = s.width;
      ctx.beginPath();
      ctx.arc(p[0], p[1], r, 0, Math.PI * 2);
      ctx.fill();
      ctx.lineWidth = Math.max(1.5, r / 8);
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.fillStyle = s.color.toLowerCase() === "#ffffff" ? "#111827" : "#ffffff";
      ctx.font = `700 ${Math.round(r * 1.1)}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(String(s.n ?? "?"), p[0], p[1] + r * 0.05);
      break;
    }
    case "blur": {
      const b = boxOf(p[0], p[1], p[2], p[3]);
      const x = Math.max(0, Math.floor(b.x));
      const y = Math.max(0, Math.floor(b.y));
      const w = Math.min(ctx.canvas.width - x, Math.ceil(b.w));
      const hh = Math.min(ctx.canvas.height - y, Math.ceil(b.h));
      if (w < 1 || hh < 1) break;
      const block = blurBlock(pixelWidth);
      const tw = Math.max(1, Math.ceil(w / block));
      const th = Math.max(1, Math.ceil(hh / block));
      const tmp = document.createElement("canvas");
      tmp.width = tw;
      tmp.height = th;
      const t = tmp.getContext("2d");
      if (!t) break;
      // Average the box down to one pixel per block, then scale back up without
      // smoothing: square blocks aligned on the box's corner, clipped to the box.
      t.imageSmoothingEnabled = true;
      t.imageSmoothingQuality = "medium";
      t.drawImage(ctx.canvas, x, y, w, hh, 0, 0, tw, th);
      ctx.beginPath();
      ctx.rect(x, y, w, hh);
      ctx.clip();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(tmp, 0, 0, tw, th, x, y, tw * block, th * block);
      tmp.width = tmp.height = 0;
      break;
    }
  }
  ctx.restore();
}

/** What the editor's chrome shows. */
interface EditorState {
  tool: Tool;
  /** The colour input's value: the colour chosen, or the picked shape's. */
  shownColor: string;
  width: number;
  canUndo: boolean;
  canRedo: boolean;
  hasSelection: boolean;
  sending: boolean;
  status: string;
  error: string | null;
  /** The view's scale, shown as a percentage. */
  scale: number;
}

type EditorSignals = { readonly [K in keyof EditorState]: ReadonlySignal<EditorState[K]> };

interface EditorActions {
  tool(t: Tool): void;
  color(c: string): void;
  width(w: number): void;
  undo(): void;
  redo(): void;
  deleteSelected(): void;
  resetCrop(): void;
  zoomBy(f: number): void;
  fit(): void;
  close(): void;
  save(): void;
  send(): void;
}

interface EditorRefs {
  stage: { current: HTMLDivElement | null };
  canvas: { current: HTMLCanvasElement | null };
  text: { current: HTMLTextAreaElement | null };
}

function Btn({ testid, title, onClick, disabled, class: cls = "btn small", children }: { testid: string; title: string; onClick: () => void; disabled?: boolean; class?: string; children: string }) {
  return (
    <button type="button" class={cls} data-testid={testid} title={title} disabled={disabled} onClick={onClick}>
      {children}
    </button>
  );
}

/** The editor's toolbar, the note, the stage (canvas and text box, driven by the editor) and the footer. */
function EditorChrome({ title, note, s, on, refs }: { title: string; note?: string; s: EditorSignals; on: EditorActions; refs: EditorRefs }) {
  const tool = s.tool.value;
  const sending = s.sending.value;
  const error = s.error.value;
  return (
    <>
      <div class="snap-bar">
        <strong class="snap-title">{title}</strong>
        <div class="snap-tools" role="toolbar" aria-label="Tools">
          {TOOLS.map((t) => (
            <button
              type="button"
              class="snap-tool"
              data-testid={`tool-${t.tool}`}
              data-tool={t.tool}
              title={`${t.label} (${t.key.toUpperCase()})`}
              aria-pressed={tool === t.tool}
              onClick={() => on.tool(t.tool)}
            >
              {t.label.split(" ")[0]}
            </button>
          ))}
        </div>
        <span class="snap-sep" />
        <input type="color" value={s.shownColor.value} data-testid="editor-color" aria-label="Colour" title="Colour" onInput={(ev) => on.color(ev.currentTarget.value)} />
        <span class="snap-swatches">
          {SWATCHES.map((c) => (
            <button type="button" class="snap-swatch" data-testid={`swatch-${c.slice(1)}`} title={c} aria-label={`Colour ${c}`} style={{ background: c }} onClick={() => on.color(c)} />
          ))}
        </span>
        <select data-testid="editor-width" aria-label="Stroke width" title="Stroke width" value={String(s.width.value)} onChange={(ev) => on.width(Number(ev.currentTarget.value))}>
          {WIDTHS.map((w) => (
            <option value={String(w)}>{`${w} px`}</option>
          ))}
        </select>
        <span class="snap-sep" />
        <Btn testid="editor-undo" title="Undo (Ctrl+Z)" disabled={!s.canUndo.value} onClick={on.undo}>
          Undo
        </Btn>
        <Btn testid="editor-redo" title="Redo (Ctrl+Shift+Z)" disabled={!s.canRedo.value} onClick={on.redo}>
          Redo
        </Btn>
        <Btn testid="editor-delete" title="Delete the selected shape (Del)" disabled={!s.hasSelection.value} onClick={on.deleteSelected}>
          Delete
        </Btn>
        <Btn testid="editor-crop-reset" title="Show the whole picture again" onClick={on.resetCrop}>
          Reset crop
        </Btn>
        <span class="snap-sep" />
        <Btn testid="editor-zoom-out" title="Zoom out (−)" onClick={() => on.zoomBy(0.8)}>
          −
        </Btn>
        <span class="snap-zoom" data-testid="editor-zoom">{`${Math.round(s.scale.value * 100)}%`}</span>
        <Btn testid="editor-zoom-in" title="Zoom in (+)" onClick={() => on.zoomBy(1.25)}>
          +
        </Btn>
        <Btn testid="editor-fit" title="Fit to window (0)" onClick={on.fit}>
          Fit
        </Btn>
      </div>
      {note ? (
        <p class="snap-note" data-testid="editor-note">
          {note}
        </p>
      ) : null}
      <div ref={refs.stage} class="snap-stage" data-testid="editor-stage">
        <canvas ref={refs.canvas} class="snap-canvas" data-testid="editor-canvas" tabindex={0} aria-label="Picture being annotated" style={{ touchAction: "none" }} />
        {/* Placed, shown and filled by the editor (where the text goes, in the picture's colour and scale). */}
        <textarea ref={refs.text} class="snap-text" data-testid="editor-text-input" rows={1} aria-label="Text to place" placeholder="Type, then Enter" />
      </div>
      <div class="snap-foot">
        <details class="snap-help" data-testid="editor-help">
          <summary>Keyboard shortcuts</summary>
          <dl>
            {SHORTCUTS.map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </>
            ))}
          </dl>
        </details>
        <span class="snap-status" data-testid="editor-status" role="status">
          {s.status.value}
        </span>
        <p class="snap-error" data-testid="editor-error" role="alert" hidden={!error}>
          {error ?? ""}
        </p>
        <span class="grow" />
        <Btn testid="editor-close" title="Close without sending (Esc)" class="btn ghost" onClick={on.close}>
          Close
        </Btn>
        <Btn testid="editor-save" title="Download the picture as PNG" disabled={sending} onClick={on.save}>
          Save
        </Btn>
        <Btn testid="editor-send" title="Flatten and send the picture into the chat" class="btn primary" disabled={sending} onClick={on.send}>
          Send to visitor
        </Btn>
      </div>
    </>
  );
}

export class SnapshotEditor {
  readonly el: HTMLElement;
  readonly model: Annotations;
  private readonly canvas: HTMLCanvasElement;
  private readonly stage: HTMLElement;
  private readonly composite: HTMLCanvasElement;
  private readonly textInput: HTMLTextAreaElement;
  private readonly s = {
    tool: signal<Tool>("arrow"),
    shownColor: signal("#ef4444"),
    width: signal(4),
    canUndo: signal(false),
    canRedo: signal(false),
    hasSelection: signal(false),
    sending: signal(false),
    status: signal(""),
    error: signal<string | null>(null),
    scale: signal(1),
  };
  /** The colour of new shapes (the colour input may show a picked shape's). */
  private color = "#ef4444";
  private selected: number | null = null;
  private drag: Drag | null = null;
  private draft: Omit<Shape, "id"> | null = null;
  private textAt: { x: number; y: number; editing: number | null } | null = null;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private fit = true;
  private space = false;
  private dirty = true;
  private raf = 0;
  private lastClientId: { id: string; version: string } | null = null;
  private resizeObs: ResizeObserver | null = null;
  private closedFlag = false;
  /** Esc pressed once with unsent changes: a second Esc discards them. */
  private escArmed = false;
  /** Touch pointers down on the canvas (two of them pinch-zoom and pan). */
  private touches = new Map<number, { x: number; y: number }>();
  private pinch: { d: number; mx: number; my: number } | null = null;

  constructor(
    private readonly src: EditorSource,
    private readonly hooks: EditorHooks,
  ) {
    this.model = src.doc ? Annotations.fromDoc(src.doc, src.width, src.height) : new Annotations(src.width, src.height);
    this.model.base = src.baseId;
    this.composite = document.createElement("canvas");
    this.composite.width = src.width;
    this.composite.height = src.height;
    this.el = document.createElement("div");
    this.el.className = "snap";
    for (const [k, v] of Object.entries({ role: "dialog", "aria-modal": "true", "aria-label": src.title, "data-testid": "snapshot-editor", "data-width": String(src.width), "data-height": String(src.height), tabindex: "-1" })) {
      this.el.setAttribute(k, v);
    }
    const refs: EditorRefs = { stage: { current: null }, canvas: { current: null }, text: { current: null } };
    render(
      <EditorChrome
        title={src.title}
        note={src.note}
        s={this.s}
        refs={refs}
        on={{
          tool: (t) => this.setTool(t),
          color: (c) => this.setColor(c),
          width: (w) => this.setWidth(w),
          undo: () => this.undo(),
          redo: () => this.redo(),
          deleteSelected: () => this.deleteSelected(),
          resetCrop: () => this.resetCrop(),
          zoomBy: (f) => this.zoomBy(f),
          fit: () => this.setFit(),
          close: () => this.close(),
          save: () => void this.save(),
          send: () => void this.send(),
        }}
      />,
      this.el,
    );
    // The first render is synchronous: the refs are set.
    this.stage = refs.stage.current as HTMLDivElement;
    this.canvas = refs.canvas.current as HTMLCanvasElement;
    this.textInput = refs.text.current as HTMLTextAreaElement;
    this.textInput.hidden = true;
    this.bind();
    this.setTool(this.model.shapes.length ? "select" : "arrow");
    this.updateUi();
  }

  private get tool(): Tool {
    return this.s.tool.value;
  }

  private set tool(t: Tool) {
    this.s.tool.value = t;
  }

  private get width(): number {
    return this.s.width.value;
  }

  private get sending(): boolean {
    return this.s.sending.value;
  }

  private set sending(on: boolean) {
    this.s.sending.value = on;
  }

  /** Adds the editor to the page. */
  open(parent: HTMLElement = document.body): void {
    parent.appendChild(this.el);
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObs = new ResizeObserver(() => {
        if (this.fit) this.fitView();
        this.requestDraw(false);
      });
      this.resizeObs.observe(this.stage);
    }
    this.fitView();
    this.requestDraw(true);
    this.el.focus();
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.resizeObs?.disconnect();
    cancelAnimationFrame(this.raf);
    this.el.remove();
    // Free the pixel buffers at once.
    this.composite.width = this.composite.height = 0;
    this.canvas.width = this.canvas.height = 0;
    if (typeof ImageBitmap !== "undefined" && this.src.image instanceof ImageBitmap) this.src.image.close();
    this.hooks.closed?.();
  }

  get isOpen(): boolean {
    return !this.closedFlag;
  }

  // ---- state changes ----
  setTool(t: Tool): void {
    this.commitText();
    const wasCrop = this.tool === "crop";
    this.tool = t;
    if (t !== "select") this.selected = null;
    this.el.dataset.tool = t;
    this.canvas.style.cursor = t === "select" ? "default" : t === "text" ? "text" : "crosshair";
    if (wasCrop !== (t === "crop")) this.fitView();
    this.updateUi();
    this.requestDraw(false);
  }

  setColor(c: string): void {
    this.color = c.toLowerCase();
    this.s.shownColor.value = this.color;
    const s = this.selected !== null ? this.model.get(this.selected) : undefined;
    if (s && s.type !== "blur") {
      this.model.update(s.id, { color: this.color });
      this.changed();
    }
  }

  setWidth(w: number): void {
    this.s.width.value = w;
    const s = this.selected !== null ? this.model.get(this.selected) : undefined;
    if (s && s.type !== "blur") {
      this.model.update(s.id, { width: this.shapeWidth(s.type) });
      this.changed();
    }
  }

  private shapeWidth(t: ShapeType): number {
    // Widths are in screen-ish pixels for a ~1280 px picture; scale with bigger pictures.
    const k = Math.max(1, Math.max(this.src.width, this.src.height) / 1600);
    if (t === "highlight") return Math.round(this.width * 4 * k);
    if (t === "text") return Math.round((14 + this.width * 3) * k);
    if (t === "marker") return Math.round((10 + this.width * 2) * k);
    return Math.max(1, Math.round(this.width * k));
  }

  undo(): void {
    this.commitText();
    if (this.model.undo()) {
      if (this.selected !== null && !this.model.get(this.selected)) this.selected = null;
      this.changed();
    }
  }

  redo(): void {
    if (this.model.redo()) this.changed();
  }

  deleteSelected(): void {
    if (this.selected === null) return;
    this.model.remove(this.selected);
    this.selected = null;
    this.changed();
  }

  resetCrop(): void {
    if (!this.model.crop) return;
    this.model.setCrop(null);
    this.changed();
    this.fitView();
  }

  private changed(): void {
    this.updateUi();
    this.requestDraw(true);
  }

  private updateUi(): void {
    batch(() => {
      this.s.canUndo.value = this.model.canUndo;
      this.s.canRedo.value = this.model.canRedo;
      this.s.hasSelection.value = this.selected !== null;
    });
    this.el.dataset.shapes = String(this.model.shapes.length);
    this.el.dataset.selected = this.selected === null ? "" : String(this.selected);
    const v = this.model.view;
    this.el.dataset.crop = this.model.crop ? `${v.x},${v.y},${v.w},${v.h}` : "";
  }

  // ---- view transform ----
  private region(): Crop {
    return this.tool === "crop" ? { x: 0, y: 0, w: this.src.width, h: this.src.height } : this.model.view;
  }

  private fitView(): void {
    const r = this.region();
    const sw = this.stage.clientWidth || 800;
    const sh = this.stage.clientHeight || 600;
    const pad = 16;
    this.scale = Math.min((sw - pad * 2) / r.w, (sh - pad * 2) / r.h, 4);
    if (!(this.scale > 0)) this.scale = 1;
    this.ox = (sw - r.w * this.scale) / 2 - r.x * this.scale;
    this.oy = (sh - r.h * this.scale) / 2 - r.y * this.scale;
    this.fit = true;
    this.requestDraw(false);
  }

  setFit(): void {
    this.fitView();
  }

  zoomBy(f: number, cx = this.stage.clientWidth / 2, cy = this.stage.clientHeight / 2): void {
    const k = Math.max(0.05, Math.min(16, this.scale * f));
    this.ox = cx - ((cx - this.ox) * k) / this.scale;
    this.oy = cy - ((cy - this.oy) * k) / this.scale;
    this.scale = k;
    this.fit = false;
    this.requestDraw(false);
  }

  /** Image coordinates of a pointer event. */
  toImage(clientX: number, clientY: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: (clientX - r.left - this.ox) / this.scale, y: (clientY - r.top - this.oy) / this.scale };
  }

  /** Client coordinates of an image point (tests drive the mouse with this). */
  toClient(x: number, y: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + this.ox + x * this.scale, y: r.top + this.oy + y * this.scale };
  }

  // ---- drawing ----
  private requestDraw(content: boolean): void {
    if (content) this.dirty = true;
    if (this.raf || this.closedFlag) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.draw();
    });
  }

  /** The full-size picture with every shape (and the one being drawn). */
  private renderComposite(withDraft: boolean): void {
    const ctx = this.composite.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.src.width, this.src.height);
    ctx.drawImage(this.src.image, 0, 0, this.src.width, this.src.height);
    for (const s of this.model.shapes) drawShape(ctx, s, this.src.width);
    if (withDraft && this.draft) drawShape(ctx, this.draft, this.src.width);
  }

  private draw(): void {
    if (this.dirty) {
      this.renderComposite(true);
      this.dirty = false;
    }
    const dpr = window.devicePixelRatio || 1;
    const cw = this.stage.clientWidth;
    const ch = this.stage.clientHeight;
    if (this.canvas.width !== Math.round(cw * dpr) || this.canvas.height !== Math.round(ch * dpr)) {
      this.canvas.width = Math.round(cw * dpr);
      this.canvas.height = Math.round(ch * dpr);
      this.canvas.style.width = cw + "px";
      this.canvas.style.height = ch + "px";
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.ox, dpr * this.oy);
    const r = this.region();
    ctx.imageSmoothingEnabled = this.scale < 2;
    ctx.drawImage(this.composite, r.x, r.y, r.w, r.h, r.x, r.y, r.w, r.h);
    const px = 1 / this.scale;
    if (this.tool === "crop") {
      const c = this.drag?.kind === "crop" ? boxOf(this.drag.x0, this.drag.y0, this.drag.x1, this.drag.y1) : this.model.crop;
      if (c) {
        ctx.fillStyle = "rgba(0,0,0,.5)";
        ctx.beginPath();
        ctx.rect(0, 0, this.src.width, this.src.height);
        ctx.rect(c.x, c.y, c.w, c.h);
        ctx.fill("evenodd");
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 2 * px;
        ctx.setLineDash([6 * px, 4 * px]);
        ctx.strokeRect(c.x, c.y, c.w, c.h);
        ctx.setLineDash([]);
      }
    }
    const sel = this.selected !== null ? this.model.get(this.selected) : undefined;
    if (sel) {
      const b = this.selectionBox(sel);
      ctx.strokeStyle = "#2563eb";
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash([5 * px, 3 * px]);
      ctx.strokeRect(b.x, b.y, b.w, b.h);
      ctx.setLineDash([]);
    }
    this.s.scale.value = this.scale;
    this.el.dataset.scale = this.scale.toFixed(3);
  }

  private selectionBox(s: Shape): Crop {
    // The lib's bounds, with a text's width measured as drawn.
    let b = { ...bounds(s) };
    if (s.type === "text") {
      const ctx = this.composite.getContext("2d");
      if (ctx) {
        ctx.save();
        ctx.font = `600 ${s.width}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
        const lines = (s.text || "").split("\n");
        b.w = Math.max(...lines.map((l) => ctx.measureText(l).width));
        ctx.restore();
      }
    }
    const pad = s.width / 2 + 4;
    b = { x: b.x - pad, y: b.y - pad, w: b.w + 2 * pad, h: b.h + 2 * pad };
    return b;
  }

  /** The flattened picture (crop applied, blur burned in) as a PNG. */
  async flatten(): Promise<Blob> {
    this.commitText();
    this.draft = null;
    this.renderComposite(false);
    this.dirty = true;
    const v = this.model.view;
    const out = document.createElement("canvas");
    out.width = v.w;
    out.height = v.h;
    const ctx = out.getContext("2d");
    if (!ctx) throw new Error("no canvas");
    ctx.drawImage(this.composite, v.x, v.y, v.w, v.h, 0, 0, v.w, v.h);
    const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, "image/png"));
    out.width = out.height = 0;
    if (!blob) throw new Error("The picture could not be encoded.");
    return blob;
  }

  private async baseBlob(): Promise<Blob | null> {
    try {
      const c = document.createElement("canvas");
      c.width = this.src.width;
      c.height = this.src.height;
      c.getContext("2d")?.drawImage(this.src.image, 0, 0);
      const b = await new Promise<Blob | null>((resolve) => c.toBlob(resolve, "image/png"));
      c.width = c.height = 0;
      return b;
    } catch {
      return null;
    }
  }

  /**
   * Keeps the picture without shapes on the server for agents only (never posted),
   * so the shapes can be changed later from any console. If that fails (e.g. too
   * large), the send goes on without it.
   */
  private async storeBase(): Promise<void> {
    const base = await this.baseBlob();
    if (!base) return;
    try {
      this.s.status.value = "Keeping the original for later edits…";
      const up = await uploadAgentImage({
        conversation: this.hooks.conversation,
        csrf: this.hooks.csrf(),
        png: base,
        annotations: null,
        sourceImage: null,
        clientId: newClientId(),
        agentsOnly: true,
      });
      this.src.baseId = up.image.id;
      this.model.base = up.image.id;
    } catch {
      /* sent without it: later edits draw over the sent picture */
    }
  }

  // ---- send / save ----
  private setError(text: string | null): void {
    this.s.error.value = text || null;
  }

  async send(): Promise<UploadedImage | null> {
    if (this.sending) return null;
    this.sending = true;
    this.setError(null);
    this.s.status.value = "Preparing…";
    this.updateUi();
    try {
      const png = await this.flatten();
      const hasVector = this.model.shapes.length > 0 || !!this.model.crop;
      if (hasVector && !this.src.baseId) await this.storeBase();
      let doc: AnnotationsDoc | null = hasVector ? this.model.toDoc() : null;
      let kept = true;
      if (doc && new Blob([JSON.stringify(doc)]).size > MAX_ANNOTATIONS_BYTES) {
        // Very long freehand strokes: whole pixels, then, if still too big, the picture alone.
        doc = { ...doc, shapes: doc.shapes.map((s) => ({ ...s, pts: simplify(s.pts.map(Math.round), 2) })) };
        if (new Blob([JSON.stringify(doc)]).size > MAX_ANNOTATIONS_BYTES) {
          doc = null;
          kept = false;
        }
      }
      // The same picture retried keeps its idempotency key (no double message).
      const version = JSON.stringify(doc) + "|" + png.size;
      if (!this.lastClientId || this.lastClientId.version !== version) this.lastClientId = { id: newClientId(), version };
      const up = await uploadAgentImage({
        conversation: this.hooks.conversation,
        csrf: this.hooks.csrf(),
        png,
        annotations: doc,
        sourceImage: this.src.sourceImage,
        clientId: this.lastClientId.id,
        onProgress: (f) => (this.s.status.value = `Sending… ${Math.round(f * 100)}%`),
      });
      this.s.status.value = "Sent.";
      const base = hasVector && !this.src.baseId ? await this.baseBlob() : null;
      this.hooks.sent(up, base);
      if (!kept) this.hooks.notice?.("Picture sent. Its shapes were too many to keep for editing later.");
      this.close();
      return up;
    } catch (err) {
      this.s.status.value = "";
      this.setError(err instanceof UploadError || err instanceof Error ? err.message : "The picture was not sent.");
      return null;
    } finally {
      this.sending = false;
      if (!this.closedFlag) this.updateUi();
    }
  }

  async save(): Promise<void> {
    const png = await this.flatten();
    const url = URL.createObjectURL(png);
    const a = document.createElement("a");
    a.href = url;
    a.download = `snapshot-${fileStamp()}.png`;
    a.dataset.testid = "editor-download";
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    this.s.status.value = "Saved as PNG.";
  }

  // ---- text ----
  private openText(x: number, y: number, editing: Shape | null): void {
    this.textAt = { x, y, editing: editing ? editing.id : null };
    const c = this.toClient(x, y);
    const r = this.stage.getBoundingClientRect();
    this.textInput.hidden = false;
    this.textInput.value = editing?.text ?? "";
    this.textInput.style.left = c.x - r.left + "px";
    this.textInput.style.top = c.y - r.top + "px";
    this.textInput.style.color = editing?.color ?? this.color;
    this.textInput.style.fontSize = Math.max(12, (editing?.width ?? this.shapeWidth("text")) * this.scale) + "px";
    // Focus now (the pointerdown's default is prevented, so it sticks): keys typed
    // right after the click must land in the text, not act as tool shortcuts.
    this.textInput.focus();
    setTimeout(() => {
      if (this.textAt && document.activeElement !== this.textInput) this.textInput.focus();
    }, 0);
  }

  private commitText(): void {
    const at = this.textAt;
    if (!at) return;
    this.textAt = null;
    const text = this.textInput.value.replace(/\s+$/, "");
    this.textInput.hidden = true;
    this.textInput.value = "";
    if (at.editing !== null) {
      if (text) this.model.update(at.editing, { text });
      else this.model.remove(at.editing);
    } else if (text) {
      this.model.add({ type: "text", color: this.color, width: this.shapeWidth("text"), pts: [at.x, at.y], text });
    }
    this.changed();
    this.el.focus();
  }

  // ---- input ----
  private bind(): void {
    const c = this.canvas;
    c.addEventListener("pointerdown", (ev) => this.onDown(ev));
    c.addEventListener("pointermove", (ev) => this.onMove(ev));
    c.addEventListener("pointerup", (ev) => this.onUp(ev));
    c.addEventListener("pointercancel", (ev) => {
      this.touches.delete(ev.pointerId);
      if (this.touches.size === 0) this.pinch = null;
      this.drag = null;
      this.draft = null;
      this.requestDraw(true);
    });
    c.addEventListener("dblclick", (ev) => {
      const p = this.toImage(ev.clientX, ev.clientY);
      const s = this.model.hitTest(p.x, p.y, 6 / this.scale);
      if (s && s.type === "text") this.openText(s.pts[0], s.pts[1], s);
    });
    this.stage.addEventListener(
      "wheel",
      (ev) => {
        ev.preventDefault();
        const r = this.stage.getBoundingClientRect();
        if (ev.ctrlKey || ev.metaKey) this.zoomBy(ev.deltaY < 0 ? 1.1 : 1 / 1.1, ev.clientX - r.left, ev.clientY - r.top);
        else {
          this.ox -= ev.deltaX;
          this.oy -= ev.deltaY;
          this.fit = false;
          this.requestDraw(false);
        }
      },
      { passive: false },
    );
    this.textInput.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        this.commitText();
      } else if (ev.key === "Escape") {
        this.textInput.value = this.textAt?.editing !== null ? (this.model.get(this.textAt?.editing ?? -1)?.text ?? "") : "";
        this.commitText();
      }
    });
    this.textInput.addEventListener("blur", () => this.commitText());
    this.el.addEventListener("keydown", (ev) => this.onKey(ev));
    this.el.addEventListener("keyup", (ev) => {
      if (ev.key === " ") this.space = false;
    });
  }

  private pinchState(): { d: number; mx: number; my: number } {
    const [a, b] = [...this.touches.values()];
    const r = this.stage.getBoundingClientRect();
    return { d: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)), mx: (a.x + b.x) / 2 - r.left, my: (a.y + b.y) / 2 - r.top };
  }

  private onDown(ev: PointerEvent): void {
    if (ev.pointerType === "touch") {
      this.touches.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
      if (this.touches.size === 2) {
        // A second finger: pinch instead of drawing.
        if (this.drag?.kind === "move" && this.drag.moved) this.model.undo();
        this.drag = null;
        this.draft = null;
        this.pinch = this.pinchState();
        this.requestDraw(true);
        return;
      }
      if (this.touches.size > 2) return;
    }
    if (this.textAt) {
      this.commitText();
      return;
    }
    try {
      this.canvas.setPointerCapture?.(ev.pointerId);
    } catch {
      /* not an active pointer (synthetic events) */
    }
    const p = this.toImage(ev.clientX, ev.clientY);
    const tol = 6 / this.scale;
    if (ev.button === 1 || this.space) {
      this.drag = { kind: "pan", sx: ev.clientX, sy: ev.clientY, ox: this.ox, oy: this.oy };
      return;
    }
    if (ev.button !== 0) return;
    ev.preventDefault();
    switch (this.tool) {
      case "select": {
        const s = this.model.hitTest(p.x, p.y, tol);
        this.selected = s ? s.id : null;
        if (s) {
          this.drag = { kind: "move", id: s.id, x: p.x, y: p.y, moved: false };
          // Picking a shape shows its colour.
          if (s.type !== "blur") this.s.shownColor.value = s.color;
        } else this.drag = { kind: "pan", sx: ev.clientX, sy: ev.clientY, ox: this.ox, oy: this.oy };
        this.updateUi();
        this.requestDraw(false);
        return;
      }
      case "crop":
        this.drag = { kind: "crop", x0: p.x, y0: p.y, x1: p.x, y1: p.y };
        return;
      case "text":
        this.openText(p.x, p.y, null);
        return;
      case "marker":
        this.model.add({ type: "marker", color: this.color, width: this.shapeWidth("marker"), pts: [p.x, p.y] });
        this.changed();
        return;
      default: {
        const t = this.tool;
        this.draft = { type: t, color: t === "blur" ? "#000000" : this.color, width: t === "blur" ? 1 : this.shapeWidth(t), pts: isFreehand(t) ? [p.x, p.y] : [p.x, p.y, p.x, p.y] };
        this.drag = { kind: "draw", shape: this.draft };
        this.requestDraw(true);
      }
    }
  }

  private onMove(ev: PointerEvent): void {
    if (ev.pointerType === "touch" && this.touches.has(ev.pointerId)) {
      this.touches.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
      if (this.pinch && this.touches.size === 2) {
        const now = this.pinchState();
        this.ox += now.mx - this.pinch.mx;
        this.oy += now.my - this.pinch.my;
        this.zoomBy(now.d / this.pinch.d, now.mx, now.my);
        this.pinch = now;
        return;
      }
    }
    const d = this.drag;
    if (!d) return;
    const p = this.toImage(ev.clientX, ev.clientY);
    if (d.kind === "pan") {
      this.ox = d.ox + ev.clientX - d.sx;
      this.oy = d.oy + ev.clientY - d.sy;
      this.fit = false;
      this.requestDraw(false);
    } else if (d.kind === "move") {
      if (!d.moved) {
        this.model.checkpoint();
        d.moved = true;
      }
      this.model.translate(d.id, p.x - d.x, p.y - d.y);
      d.x = p.x;
      d.y = p.y;
      this.requestDraw(true);
    } else if (d.kind === "crop") {
      d.x1 = p.x;
      d.y1 = p.y;
      this.requestDraw(false);
    } else {
      const s = d.shape;
      if (isFreehand(s.type)) {
        const events = typeof ev.getCoalescedEvents === "function" ? ev.getCoalescedEvents() : [];
        for (const e of events.length ? events : [ev]) {
          const q = this.toImage(e.clientX, e.clientY);
          s.pts.push(q.x, q.y);
        }
      } else {
        let x = p.x;
        let y = p.y;
        if (ev.shiftKey && (s.type === "line" || s.type === "arrow")) {
          // Snap to 45°.
          const a = Math.round(Math.atan2(y - s.pts[1], x - s.pts[0]) / (Math.PI / 4)) * (Math.PI / 4);
          const len = Math.hypot(x - s.pts[0], y - s.pts[1]);
          x = s.pts[0] + len * Math.cos(a);
          y = s.pts[1] + len * Math.sin(a);
        }
        s.pts[2] = x;
        s.pts[3] = y;
      }
      this.requestDraw(true);
    }
  }

  private onUp(ev: PointerEvent): void {
    this.touches.delete(ev.pointerId);
    if (this.pinch) {
      if (this.touches.size === 0) this.pinch = null;
      return;
    }
    const d = this.drag;
    this.drag = null;
    try {
      this.canvas.releasePointerCapture?.(ev.pointerId);
    } catch {
      /* not captured */
    }
    if (!d) return;
    if (d.kind === "move") {
      this.changed();
    } else if (d.kind === "crop") {
      const b = boxOf(d.x0, d.y0, d.x1, d.y1);
      if (b.w * this.scale > 4 && b.h * this.scale > 4) {
        this.model.setCrop(b);
        this.tool = "select";
        this.setTool("select");
        this.fitView();
      }
      this.changed();
    } else if (d.kind === "draw") {
      const s = d.shape;
      this.draft = null;
      const minLen = 3 / this.scale;
      let keep = true;
      if (isTwoPoint(s.type)) {
        const len = Math.hypot(s.pts[2] - s.pts[0], s.pts[3] - s.pts[1]);
        keep = s.type === "line" || s.type === "arrow" ? len >= minLen : Math.abs(s.pts[2] - s.pts[0]) >= minLen && Math.abs(s.pts[3] - s.pts[1]) >= minLen;
      } else if (isFreehand(s.type)) {
        s.pts = simplify(s.pts, 1 / this.scale);
      }
      if (keep) {
        const added = this.model.add(s);
        this.el.dataset.last = String(added.id);
      }
      this.changed();
    }
  }

  private onKey(ev: KeyboardEvent): void {
    const target = ev.target as HTMLElement | null;
    const typing = !!target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
    const mod = ev.ctrlKey || ev.metaKey;
    const k = ev.key.toLowerCase();
    if (mod && k === "z") {
      ev.preventDefault();
      if (ev.shiftKey) this.redo();
      else this.undo();
      return;
    }
    if (mod && k === "y") {
      ev.preventDefault();
      this.redo();
      return;
    }
    if (typing || mod || ev.altKey) return;
    if (target?.tagName === "BUTTON" && (ev.key === " " || ev.key === "Enter")) return;
    if (ev.key !== "Escape" && this.escArmed) {
      this.escArmed = false;
      this.s.status.value = "";
    }
    if (ev.key === " ") {
      this.space = true;
      ev.preventDefault();
      return;
    }
    if (ev.key === "Delete" || ev.key === "Backspace") {
      ev.preventDefault();
      this.deleteSelected();
      return;
    }
    if (ev.key === "Escape") {
      ev.preventDefault();
      if (this.drag || this.draft) {
        this.drag = null;
        this.draft = null;
        this.requestDraw(true);
      } else if (this.selected !== null) {
        this.selected = null;
        this.changed();
      } else if (this.model.canUndo && !this.escArmed) {
        this.escArmed = true;
        this.s.status.value = "Press Esc again to close without sending.";
      } else this.close();
      return;
    }
    if (ev.key === "+" || ev.key === "=") return void this.zoomBy(1.25);
    if (ev.key === "-" || ev.key === "_") return void this.zoomBy(0.8);
    if (ev.key === "0") return void this.setFit();
    if (ev.key.startsWith("Arrow") && this.selected !== null) {
      ev.preventDefault();
      const n = ev.shiftKey ? 10 : 1;
      const dx = ev.key === "ArrowLeft" ? -n : ev.key === "ArrowRight" ? n : 0;
      const dy = ev.key === "ArrowUp" ? -n : ev.key === "ArrowDown" ? n : 0;
      this.model.move(this.selected, dx, dy);
      this.changed();
      return;
    }
    const t = TOOLS.find((x) => x.key === k);
    if (t) {
      ev.preventDefault();
      this.setTool(t.tool);
    }
  }
}

