// The console's icons and icon buttons as Preact components (the hand-built views
// use `icon`/`iconButton` from icons.ts, which draw the same paths).

import type { ButtonHTMLAttributes } from "preact";
import { CONSOLE_ICONS, type ConsoleIcon } from "./icons";

/** A 24×24 stroke icon from CONSOLE_ICONS, hidden from screen readers (its button has the name). */
export function Icon({ name, size = 16 }: { name: ConsoleIcon; size?: number }) {
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
      {CONSOLE_ICONS[name].map((d) => (
        <path d={d} />
      ))}
    </svg>
  );
}

export type IconButtonProps = { icon: ConsoleIcon; label: string } & Omit<ButtonHTMLAttributes<HTMLButtonElement>, "icon" | "label">;

/**
 * A button that shows only an icon: its name (for screen readers) and its tooltip
 * are the same text, so what a pointer shows is what a screen reader says. A
 * toggle whose meaning flips (Freeze / Back to live) gives another icon and label.
 */
export function IconButton({ icon, label, class: cls, ...rest }: IconButtonProps) {
  return (
    <button class={cls ?? "btn icon-btn small"} type="button" title={label} aria-label={label} data-icon={icon} {...rest}>
      <Icon name={icon} />
    </button>
  );
}
