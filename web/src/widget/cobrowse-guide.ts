// What the agent shows on the visitor's page while co-browsing: their pointer
// with their name, a ripple where they click in the mirror, and an outline
// around an element that follows it as the page scrolls. Drawn in the widget's
// shadow root (so it is never recorded), with pointer-events off: the visitor's
// clicks always reach the page. Positions come as a node id and the spot within
// its box (rrweb's ids are the same here and in the mirror), so the pointer lands
// on the same place of the same element whatever the two windows' sizes.

import type { Anchor, Guidance } from "../protocol.gen";
import { h } from "../ui/dom";

export interface GuideHost {
  /** Where the overlay goes (the widget's shadow root's container). */
  parent: HTMLElement;
  /** The page's element for an rrweb node id, when the recorder knows it. */
  node(id: number): Node | null;
  /** The agent's name, shown beside the pointer. */
  agentName(): string;
}

export interface Guide {
  apply(items: Guidance[]): void;
  destroy(): void;
}

/** How long a ripple shows. */
const PING_MS = 900;

/** Where an anchor is now, in viewport coordinates; null when nowhere. */
export function place(anchor: Anchor, node: Node | null): { x: number; y: number } | null {
  if (node instanceof Element && node.isConnected) {
    const r = node.getBoundingClientRect();
    if (r.width > 0 || r.height > 0) return { x: r.left + anchor.fx * r.width, y: r.top + anchor.fy * r.height };
  }
  // The element is unknown here: the page coordinates, as they scroll.
  return { x: anchor.x - window.scrollX, y: anchor.y - window.scrollY };
}

export function mountGuide(host: GuideHost): Guide {
  const label = h("span", { class: "sl-guide-name" });
  const pointer = h(
    "div",
    { class: "sl-guide-pointer", "data-testid": "agent-pointer", hidden: true, "aria-hidden": "true" },
    h("span", { class: "sl-guide-arrow" }),
    label,
  );
  const outline = h("div", { class: "sl-guide-outline", "data-testid": "agent-highlight", hidden: true, "aria-hidden": "true" });
  host.parent.append(outline, pointer);
  let at: Anchor | null = null;
  let highlighted: number | null = null;
  let frame = 0;

  const anchorNode = (a: Anchor) => (a.node === null ? null : host.node(a.node));

  /** Puts the pointer and the outline where their elements are now; again next frame while either shows. */
  function draw(): void {
    frame = 0;
    if (at) {
      const p = place(at, anchorNode(at));
      if (p) {
        pointer.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
        pointer.hidden = false;
      }
    } else {
      pointer.hidden = true;
    }
    const el = highlighted === null ? null : host.node(highlighted);
    if (el instanceof Element && el.isConnected) {
      const r = el.getBoundingClientRect();
      outline.style.transform = `translate(${Math.round(r.left - 4)}px, ${Math.round(r.top - 4)}px)`;
      outline.style.width = `${Math.round(r.width + 8)}px`;
      outline.style.height = `${Math.round(r.height + 8)}px`;
      outline.hidden = false;
    } else {
      outline.hidden = true;
    }
    // Follow scrolling and layout while something shows.
    if (at || highlighted !== null) frame = requestAnimationFrame(draw);
  }

  function schedule(): void {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function ping(a: Anchor): void {
    const p = place(a, anchorNode(a));
    if (!p) return;
    const ripple = h("div", { class: "sl-guide-ping", "data-testid": "agent-ping", "aria-hidden": "true" });
    ripple.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
    host.parent.appendChild(ripple);
    setTimeout(() => ripple.remove(), PING_MS);
  }

  return {
    apply(items) {
      for (const g of items) {
        if (g.kind === "pointer") {
          at = g.at;
          label.textContent = host.agentName();
        } else if (g.kind === "ping") {
          ping(g.at);
        } else if (g.kind === "highlight") {
          highlighted = g.node;
        }
      }
      schedule();
    },
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      pointer.remove();
      outline.remove();
    },
  };
}
