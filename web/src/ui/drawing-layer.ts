// The agent's drawings as SVG, the same on the visitor's page (widget) and
// over the console's mirror: one group per stroke (a light halo under the line,
// so that it shows on any background, and an arrowhead when asked), placed each
// frame where its anchor is now, so it scrolls and moves with the page. What a
// stroke means and when it fades is lib/cobrowse-drawing's; this only draws.
// The layer never takes a pointer event.

import { Drawings, FADE_OUT_MS, arrowPath, linePath, type Stroke } from "../lib/cobrowse-drawing";
import type { Anchor, Guidance } from "../protocol.gen";

const SVG_NS = "http://www.w3.org/2000/svg";
const COLOR = "#e11d48";
const HALO = "rgba(255,255,255,.85)";

export interface DrawingLayerHost {
  /** Where an anchor is now, in the layer's coordinates; null hides the stroke this frame. */
  place(anchor: Anchor): { x: number; y: number } | null;
  /** Called when strokes come or go (not on every frame). */
  changed?(count: number): void;
  now?(): number;
}

export interface DrawingLayer {
  readonly svg: SVGSVGElement;
  /** Strokes and clears among the items (anything else is ignored). */
  apply(items: Guidance[]): void;
  clear(): void;
  readonly count: number;
  destroy(): void;
}

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** One stroke's group: halo, line and arrowhead (the same paths twice, wide and light, then narrow and strong). */
function strokeGroup(stroke: Stroke): SVGGElement {
  const g = svgEl("g", { "data-testid": "drawing-stroke", "data-id": String(stroke.id), "data-pinned": String(stroke.pinned) });
  const d = linePath(stroke.points) + (stroke.arrow ? arrowPath(stroke.points) ?? "" : "");
  const common = { d, fill: "none", "stroke-linecap": "round", "stroke-linejoin": "round" };
  g.append(svgEl("path", { ...common, stroke: HALO, "stroke-width": "7" }), svgEl("path", { ...common, stroke: COLOR, "stroke-width": "4" }));
  return g;
}

export function createDrawingLayer(host: DrawingLayerHost): DrawingLayer {
  const now = host.now ?? (() => Date.now());
  const svg = svgEl("svg", { "data-testid": "drawings", "aria-hidden": "true", focusable: "false" });
  svg.style.cssText = "position:absolute;left:0;top:0;width:100%;height:100%;overflow:visible;pointer-events:none";
  const model = new Drawings();
  const groups = new Map<number, SVGGElement>();
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  /** Puts every stroke where its anchor is now; again next frame while any shows. */
  function draw(): void {
    frame = 0;
    for (const [id, g] of groups) {
      const s = model.get(id);
      const p = s ? host.place(s.stroke.at) : null;
      if (!p) {
        g.setAttribute("visibility", "hidden");
        continue;
      }
      g.removeAttribute("visibility");
      g.setAttribute("transform", `translate(${Math.round(p.x * 10) / 10} ${Math.round(p.y * 10) / 10})`);
    }
    if (groups.size > 0) frame = requestAnimationFrame(draw);
  }

  /** Makes the groups match the model: new ones in, gone ones out, fading ones fading. */
  function sync(announce = false): void {
    const t = now();
    const before = groups.size;
    let changed = model.expire(t).length > 0;
    for (const [id, g] of groups) {
      if (model.get(id)) continue;
      g.remove();
      groups.delete(id);
      changed = true;
    }
    for (const id of model.ids()) {
      const fading = model.fading(id, t);
      const g = groups.get(id);
      if (g) {
        if (fading !== (g.dataset.fading === "true")) {
          g.dataset.fading = String(fading);
          g.style.opacity = fading ? "0" : "";
        }
      }
    }
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const next = model.nextChange(t);
    if (next !== null) timer = setTimeout(sync, Math.max(0, next - t) + 5);
    if (!frame && groups.size > 0) frame = requestAnimationFrame(draw);
    if (announce || changed || before !== groups.size) host.changed?.(groups.size);
  }

  return {
    svg,
    apply(items) {
      const t = now();
      let changed = false;
      for (const g of items) {
        if (g.kind === "clear") {
          changed ||= model.size > 0;
          model.clear();
        } else if (model.apply([g], t)) {
          // A new version of a stroke replaces its group.
          const s = g as Stroke;
          const group = strokeGroup(s);
          group.style.transition = `opacity ${FADE_OUT_MS}ms ease-out`;
          groups.get(s.id)?.replaceWith(group);
          if (!groups.has(s.id)) svg.appendChild(group);
          groups.set(s.id, group);
          changed = true;
        }
      }
      if (!changed) return;
      sync(true);
      // Placed at once, not a frame later.
      if (frame) cancelAnimationFrame(frame);
      draw();
    },
    clear() {
      if (model.size === 0 && groups.size === 0) return;
      model.clear();
      sync();
    },
    get count() {
      return groups.size;
    },
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      if (timer !== null) clearTimeout(timer);
      frame = 0;
      timer = null;
      model.clear();
      groups.clear();
      svg.remove();
    },
  };
}
