// Small Preact components the console's views share.

import type { HTMLAttributes } from "preact";
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
