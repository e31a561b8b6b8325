// Agents' initials and their colours (DOM-free). The palette's names come from the
// protocol (`AvatarColour`); every colour carries white text at WCAG AA (≥ 4.5:1).

import type { AvatarColour } from "../protocol.gen";

export const AVATAR_COLOURS: Record<AvatarColour, { label: string; hex: string }> = {
  blue: { label: "Blue", hex: "#1d4ed8" },
  teal: { label: "Teal", hex: "#0f766e" },
  green: { label: "Green", hex: "#15803d" },
  amber: { label: "Amber", hex: "#b45309" },
  red: { label: "Red", hex: "#b91c1c" },
  pink: { label: "Pink", hex: "#be185d" },
  purple: { label: "Purple", hex: "#7e22ce" },
  slate: { label: "Slate", hex: "#475569" },
};

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
