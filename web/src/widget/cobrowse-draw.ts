// The agent's drawings on the visitor's page: lines and arrows over the page,
// each placed every frame through the element under its first point (rrweb's
// ids are the same here and in the mirror), so that it scrolls and moves with
// the page. Drawn in the widget's shadow root (never recorded) with pointer
// events off: the visitor's clicks reach the page through them.

import type { Guidance } from "../protocol.gen";
import { createDrawingLayer } from "../ui/drawing-layer";
import { h } from "../ui/dom";
import { place } from "./cobrowse-guide";

export interface DrawHost {
  /** Where the overlay goes (the widget's shadow root's container). */
  parent: HTMLElement;
  /** The page's element for an rrweb node id, when the recorder knows it. */
  node(id: number): Node | null;
  /** Drawings came or went. */
  changed(count: number): void;
}

export interface Drawing {
  apply(items: Guidance[]): void;
  clear(): void;
  readonly count: number;
  destroy(): void;
}

export function mountDrawing(host: DrawHost): Drawing {
  const layer = createDrawingLayer({
    place: (a) => place(a, a.node === null ? null : host.node(a.node)),
    changed: (n) => {
      box.hidden = n === 0;
      host.changed(n);
    },
  });
  const box = h("div", { class: "sl-draw", "data-testid": "visitor-drawings", hidden: true });
  box.appendChild(layer.svg);
  host.parent.appendChild(box);
  return {
    apply: (items) => layer.apply(items),
    clear: () => layer.clear(),
    get count() {
      return layer.count;
    },
    destroy() {
      layer.destroy();
      box.remove();
    },
  };
}
