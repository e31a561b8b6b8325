// The console's modal dialog: a backdrop, a box named by its heading
// (aria-modal, aria-labelledby), focus moved in on open, kept in with Tab and
// Shift+Tab, and given back to what had it on close; Escape and a press on the
// backdrop close it. The console's dialogs are built on it; the picture viewer
// (images.tsx) has its own full-screen box with the same keyboard rules
// (useDialogFocus), and the snapshot editor is its own.

import { render, type ComponentChildren, type RefObject, type TargetedSubmitEvent, type VNode } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

export interface ModalProps {
  /** The id of the heading that names the dialog. */
  labelledBy: string;
  testid: string;
  /** Classes besides `modal`. */
  class?: string;
  /** Makes the box a <form> (Enter in a field submits) with this handler. */
  onSubmit?: (ev: TargetedSubmitEvent<HTMLElement>) => void;
  onClose: () => void;
  /** Escape, before closing: return true when it was used inside (an open editor closed). */
  onEscape?: () => boolean;
  /** Focused on open (else the first field or button). */
  initialFocus?: RefObject<HTMLElement | null>;
  children: ComponentChildren;
}

const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/** The elements Tab reaches inside `box`, in order (hidden ones left out). */
function focusables(box: HTMLElement): HTMLElement[] {
  return Array.from(box.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => !el.closest("[hidden]") && el.getClientRects().length > 0);
}

export interface DialogFocus {
  onClose: () => void;
  onEscape?: () => boolean;
  initialFocus?: RefObject<HTMLElement | null>;
}

/**
 * What makes an element a modal dialog for the keyboard: focus moved in on open
 * (`initialFocus`, else the first field or button), kept in with Tab and
 * Shift+Tab, given back to what had it on close; Escape closes (after
 * `onEscape`, which returns true when it used the key inside).
 */
export function useDialogFocus(box: RefObject<HTMLElement | null>, props: DialogFocus): void {
  // The listeners are added once; they call the latest props.
  const latest = useRef(props);
  latest.current = props;
  // A layout effect: focus moves while the opener still has it, before the next paint.
  useLayoutEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const el = box.current as HTMLElement;
    (latest.current.initialFocus?.current ?? focusables(el)[0] ?? el)?.focus();
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === "Escape") {
        // Nothing under the dialog (the composer, the top bar's menu) sees this Escape.
        ev.stopPropagation();
        if (!latest.current.onEscape?.()) latest.current.onClose();
      } else if (ev.key === "Tab") {
        const list = focusables(el);
        if (list.length === 0) return;
        const first = list[0];
        const last = list[list.length - 1];
        const active = document.activeElement;
        if (!el.contains(active) || active === el) {
          ev.preventDefault();
          (ev.shiftKey ? last : first).focus();
        } else if (ev.shiftKey && active === first) {
          ev.preventDefault();
          last.focus();
        } else if (!ev.shiftKey && active === last) {
          ev.preventDefault();
          first.focus();
        }
      }
    };
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("keydown", onKey, true);
      previous?.focus?.();
    };
  }, []);
}

export function Modal(props: ModalProps) {
  const box = useRef<HTMLElement>(null);
  useDialogFocus(box, props);

  // A form's box is the <form> itself, as the console's dialogs always were (the
  // types allow only the <div>'s roles, hence the cast).
  const Box = (props.onSubmit ? "form" : "div") as "div";
  return (
    <div
      class="backdrop"
      onMouseDown={(ev) => {
        if (ev.target === ev.currentTarget) props.onClose();
      }}
    >
      <Box
        ref={box as RefObject<HTMLDivElement>}
        class={props.class ? `modal ${props.class}` : "modal"}
        role="dialog"
        aria-modal="true"
        aria-labelledby={props.labelledBy}
        data-testid={props.testid}
        onSubmit={props.onSubmit}
      >
        {props.children}
      </Box>
    </div>
  );
}

/**
 * Shows the dialog `build` makes, in a host element at the end of <body>, until
 * the `close` it is given (or the returned one) is called.
 */
export function openModal(build: (close: () => void) => VNode): () => void {
  const host = document.createElement("div");
  document.body.appendChild(host);
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    render(null, host);
    host.remove();
  };
  render(build(close), host);
  return close;
}

/** A form dialog's last lines: its error (announced as it appears) and its two actions. */
export function FormFooter({
  error,
  onCancel,
  cancelLabel = "Cancel",
  submitLabel,
  submitTestid = "dialog-submit",
  disabled = false,
}: {
  error: string | null;
  onCancel: () => void;
  cancelLabel?: string;
  submitLabel: string;
  submitTestid?: string;
  disabled?: boolean;
}) {
  return (
    <>
      <p class="form-error" role="alert" data-testid="dialog-error" hidden={error === null}>
        {error}
      </p>
      <div class="modal-actions">
        <button class="btn" type="button" data-testid="dialog-cancel" onClick={onCancel}>
          {cancelLabel}
        </button>
        <button class="btn primary" type="submit" data-testid={submitTestid} disabled={disabled}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}
