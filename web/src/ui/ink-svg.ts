// Draws an InkBoard's strokes into an SVG laid over a picture (the agent's view
// of a screen share, the visitor's preview, or the visitor's own page when they
// share this tab). Pointer events are off: nothing under it is blocked.

import { InkBoard, strokePath } from "../lib/ink";

const NS = "http://www.w3.org/2000/svg";

export interface InkLayer {
  readonly svg: SVGSVGElement;
  /** Draws what shows now in a box of this size; true while anything shows (call again next frame). */
  draw(width: number, height: number, now: number): boolean;
}

export function inkLayer(board: InkBoard, testid: string, color = "#ef4444"): InkLayer {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("data-testid", testid);
  svg.setAttribute("aria-hidden", "true");
  svg.style.cssText = "position:absolute;left:0;top:0;overflow:visible;pointer-events:none;";
  return {
    svg,
    draw(width, height, now) {
      const shown = board.visible(now);
      svg.setAttribute("width", String(Math.max(0, Math.round(width))));
      svg.setAttribute("height", String(Math.max(0, Math.round(height))));
      svg.setAttribute("data-strokes", String(shown.length));
      while (svg.firstChild) svg.firstChild.remove();
      for (const { stroke, opacity } of shown) {
        const path = document.createElementNS(NS, "path");
        path.setAttribute("d", strokePath(stroke, width, height));
        path.setAttribute("fill", "none");
        path.setAttribute("stroke", color);
        path.setAttribute("stroke-width", "4");
        path.setAttribute("stroke-linecap", "round");
        path.setAttribute("stroke-linejoin", "round");
        path.setAttribute("opacity", opacity.toFixed(2));
        path.setAttribute("data-pinned", String(stroke.pinned));
        svg.appendChild(path);
      }
      return shown.length > 0;
    },
  };
}
