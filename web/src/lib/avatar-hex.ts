// The palette of agents' initials as colour values alone: all the widget needs
// (the console's labels and helpers are in avatar.ts).

import type { AvatarColour } from "../protocol.gen";

/** Each palette colour's value: what the widget needs (no labels). */
export const AVATAR_HEX: Record<AvatarColour, string> = {
  blue: "#1d4ed8",
  teal: "#0f766e",
  green: "#15803d",
  amber: "#b45309",
  red: "#b91c1c",
  pink: "#be185d",
  purple: "#7e22ce",
  slate: "#475569",
};
