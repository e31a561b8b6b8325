// Small Preact components the console's views share.

import { render, type ButtonHTMLAttributes, type HTMLAttributes, type RefObject, type VNode } from "preact";
import type { Signal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { AvatarColour } from "../protocol.gen";
import { AVATAR_COLOURS, initials } from "../lib/avatar";
import { CONSOLE_ICONS, transcriptHref, type ConsoleIcon } from "./icons";

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
        <path key={d} d={d} />
      ))}
    </svg>
  );
}

/** The link that downloads a conversation's transcript as text, in this browser's time zone. */
export function TranscriptDownload({ id }: { id: string }) {
  return (
    <a class="btn ghost icon-btn" href={transcriptHref(id)} download="" data-testid="transcript-download" title="Download the transcript" aria-label="Download the transcript">
      <Icon paths={CONSOLE_ICONS.download} size={16} />
    </a>
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
      <Icon paths={CONSOLE_ICONS[icon]} size={16} />
    </button>
  );
}

/**
 * Hosts an element built outside Preact (a picture from images.tsx's
 * `imageElement`) in a `display: contents` box: the element is made again only when
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
 * another part of the console owns: the inbox's drawer button in the top bar). The element
 * keeps updating in place wherever it is put, as long as its root stays the same
 * element.
 */
export function detached<T extends Element = HTMLElement>(vnode: VNode): T {
  const fragment = document.createDocumentFragment();
  render(vnode, fragment);
  return fragment.firstElementChild as T;
}

/**
 * Hosts an element that another part of the console builds and keeps (the
 * inbox's drawer button): Preact renders only the wrapper, which
 * takes no box of its own (`display: contents`), and never looks inside it.
 */
export function Slot({ el }: { el: Node }) {
  const host = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const slot = host.current as HTMLSpanElement;
    if (el.parentNode !== slot) slot.replaceChildren(el);
  }, [el]);
  return <span ref={host} style={{ display: "contents" }} />;
}

/** Up to two characters for a visitor: the last digits of a "Visitor 1234" label, else its first letters. */
function visitorInitials(label: string): string {
  const digits = label.replace(/\D/g, "");
  return digits ? digits.slice(-2) : label.slice(0, 2).toUpperCase();
}

/** A hue from a conversation's id, so that a visitor keeps their colour. */
function visitorHue(id: string): number {
  let x = 0;
  for (let i = 0; i < id.length; i++) x = (x * 33 + id.charCodeAt(i)) % 360;
  return x;
}

/** A visitor's initials on a colour of their conversation's own. */
export function VisitorAvatar({ id, label }: { id: string; label: string }) {
  return (
    <span class="avatar" aria-hidden="true" style={{ "--h": String(visitorHue(id)) }}>
      {visitorInitials(label)}
    </span>
  );
}

/** The note a hand-over or an invitation carries to a colleague (agents only); its test id is its `id`. */
export function ColleagueNote({ id, rows, placeholder, note, inputRef }: { id: string; rows: number; placeholder: string; note: Signal<string>; inputRef?: RefObject<HTMLTextAreaElement | null> }) {
  return (
    <label class="field" for={id}>
      <span>Note for your colleague (only agents see it)</span>
      <textarea
        ref={inputRef}
        id={id}
        class="transfer-note"
        rows={rows}
        maxLength={4000}
        placeholder={placeholder}
        data-testid={id}
        value={note.value}
        onInput={(ev) => (note.value = ev.currentTarget.value)}
      />
    </label>
  );
}
