// Small Preact components the console's views share.

import { render, type HTMLAttributes, type VNode } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { AvatarColour } from "../protocol.gen";
import { AVATAR_COLOURS, initials } from "../lib/avatar";

/** An agent's initials, on their colour when they chose one (else the stylesheet's). */
export function Avatar({ name, colour, ...attrs }: { name: string; colour: AvatarColour | null | undefined } & HTMLAttributes<HTMLSpanElement>) {
  const hex = colour ? AVATAR_COLOURS[colour as AvatarColour]?.hex : undefined;
  return (
    <span class="me-avatar" aria-hidden="true" {...attrs} style={hex ? { background: hex, color: "#fff" } : undefined}>
      {initials(name)}
    </span>
  );
}

/** An inline 24×24 stroke icon (the paths of ui/dom's ICONS or CONSOLE_ICONS), hidden from screen readers. */
export function Icon({ paths, size = 20, class: cls }: { paths: readonly string[]; size?: number; class?: string }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width={size}
      height={size}
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
      class={cls}
    >
      {paths.map((d) => (
        <path d={d} />
      ))}
    </svg>
  );
}

/**
 * Hosts an element built outside Preact (a picture from images.ts, a tool's
 * button) in a `display: contents` box: the element is made again only when
 * `sig` changes.
 */
export function Hosted({ make, sig }: { make: () => Node; sig: string }) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    box.current?.replaceChildren(make());
  }, [sig]);
  return <div class="hosted" ref={box} />;
}

/**
 * Renders `vnode` and gives back its element, for a place built by hand (a slot
 * another part of the console owns, a view not moved to Preact yet). The element
 * keeps updating in place wherever it is put, as long as its root stays the same
 * element.
 */
export function detached<T extends Element = HTMLElement>(vnode: VNode): T {
  const fragment = document.createDocumentFragment();
  render(vnode, fragment);
  return fragment.firstElementChild as T;
}
