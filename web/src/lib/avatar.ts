// Agents' initials and their colours (DOM-free). The palette's names come from the
// protocol (`AvatarColour`); every colour carries white text at WCAG AA (≥ 4.5:1).

import type { AvatarColour } from "../protocol.gen";
import { AVATAR_HEX } from "./avatar-hex";

export { AVATAR_HEX };

const LABELS: Record<AvatarColour, string> = {
  blue: "Blue",
  teal: "Teal",
  green: "Green",
  amber: "Amber",
  red: "Red",
  pink: "Pink",
  purple: "Purple",
  slate: "Slate",
};

export const AVATAR_COLOURS: Record<AvatarColour, { label: string; hex: string }> = Object.fromEntries(
  (Object.keys(AVATAR_HEX) as AvatarColour[]).map((c) => [c, { label: LABELS[c], hex: AVATAR_HEX[c] }]),
) as Record<AvatarColour, { label: string; hex: string }>;

/** The palette's names in display order. */
export const AVATAR_COLOUR_NAMES = Object.keys(AVATAR_COLOURS) as AvatarColour[];

/** A known colour name, or null (the default) for anything else. */
export function avatarColour(name: string | null | undefined): AvatarColour | null {
  return name && Object.prototype.hasOwnProperty.call(AVATAR_COLOURS, name) ? (name as AvatarColour) : null;
}

/** Up to two initials of a display name: "Anna Kovacs" → "AK", "anna" → "A". */
export function initials(displayName: string): string {
  const words = displayName.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((w) => Array.from(w)[0]?.toUpperCase() ?? "").join("") || "?";
}

/** The choices of a colour picker: the default first, then the palette. */
export function colourChoices(): [string, string][] {
  return [["", "Default"], ...AVATAR_COLOUR_NAMES.map((c): [string, string] => [c, AVATAR_COLOURS[c].label])];
}
