// Small Preact components the console's views share.

import type { HTMLAttributes } from "preact";
import type { AvatarColour } from "../protocol.gen";
import { AVATAR_COLOURS, initials } from "../lib/avatar";
import { CONSOLE_ICONS, type ConsoleIcon } from "./icons";

/** An inline 24×24 stroke icon (the same drawing as ui/dom's `icon`), hidden from screen readers. */
export function Icon({ name, size = 16, class: cls }: { name: ConsoleIcon; size?: number; class?: string }) {
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" class={cls}>
      {CONSOLE_ICONS[name].map((d) => (
        <path d={d} />
      ))}
    </svg>
  );
}

/**
 * An agent's initials in their colour. The colour is set through the CSSOM
 * (Preact's style object), which the console's CSP allows, not a style attribute.
 */
export function Avatar({ name, colour, ...attrs }: { name: string; colour: AvatarColour | null | undefined } & HTMLAttributes<HTMLSpanElement>) {
  const hex = colour ? AVATAR_COLOURS[colour as AvatarColour]?.hex : undefined;
  return (
    <span class="me-avatar" aria-hidden="true" {...attrs} style={hex ? { background: hex, color: "#fff" } : undefined}>
      {initials(name)}
    </span>
  );
}
