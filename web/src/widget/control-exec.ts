// What the agent's remote control does on the visitor's page. Each input names
// an element by the mirror's id (rrweb's, the same on both sides), with the spot
// as a fallback. The page's own code sees what a person would cause: pointer and
// mouse events, focus, and for fields the value set through the element's own
// setter followed by `input` and `change` (so React- or Vue-style controlled
// forms take the change). Never:
// - private or password fields, or anything inside a private part of the page;
// - file pickers, downloads, other sites, other schemes or new windows;
// - while the visitor is using the page: what they do wins.

import type { ControlAction, ControlInput, ControlKey, ControlRefusal, ControlResult } from "../protocol.gen";

export interface ControlExecHost {
  /** The page's node for an rrweb id. */
  node(id: number): Node | null;
  /** Whether an element is private (never shown, never acted on). */
  isPrivate(el: Element): boolean;
  /** What happened, for the conversation's history. */
  report(action: ControlAction): void;
  /** Text the page keeps from the agent (private, masked, editable): never used to name an element. */
  hiddenText(el: Element): boolean;
  /** The widget's own element (never a target). */
  widget: Element;
}

/** How long after the visitor's own input the agent's waits. */
const VISITOR_FIRST_MS = 1200;

const TEXT_TYPES = new Set(["", "text", "search", "email", "tel", "url", "number"]);

type Field = HTMLInputElement | HTMLTextAreaElement;

function isField(el: Element | null): el is Field {
  return (el instanceof HTMLInputElement && TEXT_TYPES.has(el.type)) || el instanceof HTMLTextAreaElement;
}

/** Elements a person names by their text (a button's caption, a link's words). */
const NAMED_BY_TEXT = "button, a[href], summary, label, legend, option, [role=button], [role=link], [role=tab], [role=menuitem], h1, h2, h3, h4, h5, h6";

/**
 * An element's name for a person: its label, a button's or link's caption, or
 * what it is. Never a field's value, and never text the page keeps private or
 * masks (`hidden(el)`: inside or holding a private part, an editable region or
 * a text area), so nothing typed or private reaches the history.
 */
export function nameOf(el: Element, hidden: (el: Element) => boolean = () => false): string {
  const clean = (s: string | null | undefined) => (s ?? "").replace(/\s+/g, " ").trim();
  const textOf = (e: Element | null | undefined) => (e && !hidden(e) ? clean(e.textContent) : "");
  const named = el.closest(NAMED_BY_TEXT);
  const label =
    clean(el.getAttribute("aria-label")) ||
    ("labels" in el && (el as HTMLInputElement).labels?.length ? textOf((el as HTMLInputElement).labels![0]) : "") ||
    clean(el.getAttribute("placeholder")) ||
    (el instanceof HTMLInputElement && (el.type === "submit" || el.type === "button") ? clean(el.value) : "") ||
    (named && !isField(named) ? clean(named.getAttribute("aria-label")) || textOf(named) : "") ||
    clean(el.getAttribute("title")) ||
    clean(el.getAttribute("name")) ||
    el.tagName.toLowerCase();
  return label.length > 80 ? label.slice(0, 79) + "…" : label;
}

/** The native value setter (so a framework's own setter on the element does not swallow it). */
function setValue(el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void {
  const proto = Object.getPrototypeOf(el) as object;
  const setter = Object.getOwnPropertyDescriptor(proto, "value")?.set;
  if (setter) setter.call(el, value);
  else el.value = value;
}

export interface ControlExec {
  execute(inputs: ControlInput[]): ControlResult[];
  destroy(): void;
}

export function mountControlExec(host: ControlExecHost): ControlExec {
  let visitorAt = -Infinity;
  /** The field the agent clicked last: where text goes. */
  let field: Field | HTMLElement | null = null;
  /** The last reported action, so that typing into one field is one line. */
  let lastReport = "";
  // The visitor's own input on the page (not in the widget: answering the chat
  // or the request is not using the page).
  const mine = (e: Event) => {
    if (e.isTrusted && !e.composedPath().includes(host.widget)) visitorAt = performance.now();
  };
  const kinds = ["pointerdown", "keydown", "wheel", "touchstart"] as const;
  for (const k of kinds) addEventListener(k, mine, { capture: true, passive: true });

  const report = (action: ControlAction) => {
    const key = `${action.verb}:${action.target}:${action.refused ?? ""}`;
    if (action.verb === "type" && key === lastReport) return;
    lastReport = key;
    host.report(action);
  };

  function target(id: number | null, x: number, y: number): Element | null {
    const n = id === null ? null : host.node(id);
    if (n instanceof Element && n.isConnected) return n;
    if (n && n.parentElement?.isConnected) return n.parentElement;
    const el = document.elementFromPoint(x - scrollX, y - scrollY);
    return el && !host.widget.contains(el) && el !== host.widget ? el : null;
  }

  /** Whether an address stays on this page's origin (and is not a blob or data address: those download). */
  function sameOrigin(href: string | null): boolean {
    try {
      const url = new URL(href ?? "", document.baseURI);
      return url.origin === location.origin && url.protocol !== "blob:" && url.protocol !== "data:";
    } catch {
      return false;
    }
  }

  /** A browsing context name that is not this one (a new window, a parent, a named frame). */
  function elsewhere(target: string): boolean {
    const t = target.trim().toLowerCase();
    return t !== "" && t !== "_self";
  }

  const baseTarget = () => document.querySelector("base[target]")?.getAttribute("target") ?? "";
  /** A form's own address and target, read from its attributes (a field named "action" or "target" shadows the properties). */
  const formAction = (form: HTMLFormElement) => form.getAttribute("action") ?? "";
  const formTarget = (form: HTMLFormElement) => form.getAttribute("target") ?? baseTarget();
  /** The element's form (a field named "form" cannot shadow an element's own property). */
  const formOf = (el: Element): HTMLFormElement | null => {
    const f = (el as HTMLButtonElement).form;
    return f && f.localName === "form" ? f : null;
  };
  const isSubmitter = (el: Element) =>
    (el.localName === "button" && ((el as HTMLButtonElement).type === "submit")) || (el.localName === "input" && ["submit", "image"].includes((el as HTMLInputElement).type));

  /** Where a submission through `submitter` (or the form's own, without one) would go. */
  function submissionLeaves(form: HTMLFormElement, submitter: Element | null): boolean {
    const action = submitter?.hasAttribute("formaction") ? submitter.getAttribute("formaction") : formAction(form);
    const target = submitter?.hasAttribute("formtarget") ? (submitter.getAttribute("formtarget") ?? "") : formTarget(form);
    return !sameOrigin(action) || elsewhere(target);
  }

  /**
   * Why the agent may not act on this element, if they may not. Checked on
   * every element the click could activate: the element itself, the control
   * it sits in (a button inside a label is what a click activates), the label's
   * control, a submit button's form with its own overrides (formaction,
   * formtarget) and the page's <base target>. Elements of other documents
   * (frames) are refused: their kinds cannot be told from here.
   */
  function refusal(el: Element): ControlRefusal | null {
    if (el === host.widget || host.widget.contains(el)) return "outside_page";
    if (el.ownerDocument !== document) return "outside_page";
    const inner = el.closest("button, input, select, textarea");
    const label = el.closest("label");
    const candidates = [el, inner, label ? label.control : null].filter((c): c is Element => !!c);
    for (const c of candidates) {
      if (c === host.widget || host.widget.contains(c)) return "outside_page";
      if (c.localName === "input" && (c as HTMLInputElement).type === "file") return "file_picker";
      if (host.isPrivate(c)) return "private";
      if (isSubmitter(c)) {
        const form = formOf(c);
        if (form && submissionLeaves(form, c)) return "outside_page";
      }
    }
    const link = el.closest("a[href], area[href]");
    if (link) {
      if (!sameOrigin(link.getAttribute("href")) || link.hasAttribute("download") || elsewhere(link.getAttribute("target") ?? baseTarget())) return "outside_page";
    }
    const activated = inner ?? label?.control ?? el;
    if ((activated as HTMLButtonElement).disabled || activated.closest("fieldset:disabled")) return "disabled";
    return null;
  }

  /** The form's default button (the first submit button among its elements, wherever they are), or null. */
  function defaultButton(form: HTMLFormElement): Element | null {
    const elements = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "elements")?.get?.call(form) as HTMLFormControlsCollection | undefined;
    for (const e of Array.from(elements ?? [])) if (isSubmitter(e)) return e;
    return null;
  }

  /** Enter in a field: where its form would go (through its default button, as the browser does). */
  function formLeaves(form: HTMLFormElement, first: Element | null): ControlRefusal | null {
    if (first) return refusal(first);
    return submissionLeaves(form, null) ? "outside_page" : null;
  }

  function mouse(el: Element, type: string, x: number, y: number): void {
    const init = { bubbles: true, cancelable: true, composed: true, clientX: x, clientY: y, button: 0, buttons: type.endsWith("down") ? 1 : 0, view: window };
    el.dispatchEvent(type.startsWith("pointer") ? new PointerEvent(type, { ...init, pointerId: 1, pointerType: "mouse", isPrimary: true }) : new MouseEvent(type, init));
  }

  function click(id: number | null, fx: number, fy: number, px: number, py: number): ControlResult["refused"] {
    const el = target(id, px, py);
    if (!el) return "not_found";
    const why = refusal(el);
    if (why) {
      report({ verb: "click", target: why === "private" ? "a private field" : nameOf(el, host.hiddenText), refused: why });
      return why;
    }
    const r = el.getBoundingClientRect();
    const x = r.left + fx * r.width;
    const y = r.top + fy * r.height;
    mouse(el, "pointerdown", x, y);
    mouse(el, "mousedown", x, y);
    const focusable = el.closest("input, textarea, select, button, a[href], [tabindex], [contenteditable]") as HTMLElement | null;
    focusable?.focus({ preventScroll: true });
    mouse(el, "pointerup", x, y);
    mouse(el, "mouseup", x, y);
    const editable = focusable && (isField(focusable) || focusable.isContentEditable) ? focusable : null;
    field = editable;
    const submit = el.closest("button, input[type=submit]") as HTMLButtonElement | HTMLInputElement | null;
    const submits = !!submit && !!submit.form && submit.type === "submit";
    // The element's own activation: a link follows, a box ticks, a form submits.
    (el as HTMLElement).click?.();
    if (!editable) report({ verb: submits ? "submit" : "click", target: nameOf(submits && submit ? submit : el, host.hiddenText), refused: null });
    return null;
  }

  function editableField(): Field | HTMLElement | ControlRefusal {
    const f = field;
    if (!f || !f.isConnected) return "no_field";
    if (host.isPrivate(f)) return "private";
    if ((f as Field).disabled || (f as Field).readOnly) return "disabled";
    if (document.activeElement !== f) f.focus({ preventScroll: true });
    return f;
  }

  function replaceRange(f: Field, text: string, from: number, to: number): void {
    const v = f.value;
    let start = from;
    let end = to;
    setValue(f, v.slice(0, start) + text + v.slice(end));
    start += text.length;
    end = start;
    try {
      f.setSelectionRange(start, end);
    } catch {
      // number and email fields have no selection
    }
  }

  function selection(f: Field): [number, number] {
    try {
      const s = f.selectionStart;
      const e = f.selectionEnd;
      if (s !== null && e !== null) return [s, e];
    } catch {
      // no selection on this type
    }
    return [f.value.length, f.value.length];
  }

  /** The key going down, as the page's handlers see it; false when one of them cancelled it. */
  function key(f: Field | HTMLElement, name: string): boolean {
    return f.dispatchEvent(new KeyboardEvent("keydown", { key: name, bubbles: true, cancelable: true, composed: true }));
  }

  function text(t: string): ControlResult["refused"] {
    const f = editableField();
    if (typeof f === "string") return f;
    if (!key(f, t.length === 1 ? t : "Unidentified")) return null;
    if (isField(f)) {
      const [s, e] = selection(f);
      if (f.maxLength > 0 && f.value.length - (e - s) + t.length > f.maxLength) t = t.slice(0, Math.max(0, f.maxLength - f.value.length + (e - s)));
      replaceRange(f, t, s, e);
      f.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true, inputType: "insertText", data: t }));
    } else {
      document.execCommand("insertText", false, t);
    }
    f.dispatchEvent(new KeyboardEvent("keyup", { key: t.length === 1 ? t : "Unidentified", bubbles: true, composed: true }));
    report({ verb: "type", target: nameOf(f, host.hiddenText), refused: null });
    return null;
  }

  function tabbables(): HTMLElement[] {
    return Array.from(document.querySelectorAll<HTMLElement>("input, select, textarea, button, a[href], [tabindex]:not([tabindex='-1'])")).filter(
      (el) => !(el as HTMLInputElement).disabled && (el as HTMLInputElement).type !== "hidden" && el.getClientRects().length > 0 && !host.widget.contains(el),
    );
  }

  function press(k: ControlKey): ControlResult["refused"] {
    if (k === "Tab") {
      const all = tabbables();
      const from = field ?? (document.activeElement as HTMLElement | null);
      const next = all[(from ? all.indexOf(from) : -1) + 1] ?? all[0];
      if (!next) return "not_found";
      next.focus({ preventScroll: false });
      field = isField(next) || next.isContentEditable ? next : null;
      return null;
    }
    const f = editableField();
    if (typeof f === "string") return f;
    if (!key(f, k)) return null;
    if (isField(f)) {
      const [s, e] = selection(f);
      const v = f.value;
      const caret = (at: number) => {
        try {
          f.setSelectionRange(at, at);
        } catch {
          // no selection on this type
        }
      };
      if (k === "Backspace" || k === "Delete") {
        const from = s !== e ? s : k === "Backspace" ? Math.max(0, s - 1) : s;
        const to = s !== e ? e : k === "Backspace" ? s : Math.min(v.length, s + 1);
        if (from !== to) {
          replaceRange(f, "", from, to);
          caret(from);
          f.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true, inputType: k === "Backspace" ? "deleteContentBackward" : "deleteContentForward" }));
        }
      } else if (k === "Enter") {
        if (f instanceof HTMLTextAreaElement) {
          replaceRange(f, "\n", s, e);
          f.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true, inputType: "insertLineBreak" }));
        } else if (formOf(f)) {
          const form = formOf(f) as HTMLFormElement;
          const first = defaultButton(form);
          const why = formLeaves(form, first);
          if (why) return why;
          f.dispatchEvent(new Event("change", { bubbles: true }));
          form.requestSubmit(first as HTMLButtonElement | null);
          report({ verb: "submit", target: nameOf(first ?? f, host.hiddenText), refused: null });
        }
      } else if (k === "ArrowLeft") caret(Math.max(0, s - 1));
      else if (k === "ArrowRight") caret(Math.min(v.length, e + 1));
      else if (k === "Home") caret(0);
      else if (k === "End") caret(v.length);
    }
    f.dispatchEvent(new KeyboardEvent("keyup", { key: k, bubbles: true, composed: true }));
    return null;
  }

  function choose(id: number, option: number): ControlResult["refused"] {
    const el = host.node(id);
    if (!(el instanceof HTMLSelectElement) || !el.isConnected) return "not_found";
    const why = refusal(el);
    if (why) {
      report({ verb: "choose", target: why === "private" ? "a private field" : nameOf(el, host.hiddenText), refused: why });
      return why;
    }
    const o = el.options[option];
    if (!o) return "not_found";
    if (o.disabled) return "disabled";
    el.focus({ preventScroll: true });
    setValue(el, o.value);
    el.selectedIndex = option;
    el.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
    report({ verb: "choose", target: nameOf(el, host.hiddenText), refused: null });
    return null;
  }

  function scroll(id: number | null, dx: number, dy: number): ControlResult["refused"] {
    let el: Element | null = id === null ? null : (host.node(id) as Element | null);
    while (el instanceof Element && el !== document.documentElement && el !== document.body) {
      const s = getComputedStyle(el);
      if (/(auto|scroll)/.test(s.overflowY + s.overflowX) && (el.scrollHeight > el.clientHeight || el.scrollWidth > el.clientWidth)) {
        el.scrollBy(dx, dy);
        return null;
      }
      el = el.parentElement;
    }
    window.scrollBy(dx, dy);
    return null;
  }

  return {
    execute(inputs) {
      const out: ControlResult[] = [];
      for (const i of inputs) {
        let refused: ControlResult["refused"];
        if (performance.now() - visitorAt < VISITOR_FIRST_MS) refused = "visitor_active";
        else {
          try {
            refused =
              i.kind === "click"
                ? click(i.at.node, i.at.fx, i.at.fy, i.at.x, i.at.y)
                : i.kind === "text"
                  ? text(i.text)
                  : i.kind === "key"
                    ? press(i.key)
                    : i.kind === "select"
                      ? choose(i.node, i.option)
                      : scroll(i.at?.node ?? null, i.dx, i.dy);
          } catch {
            refused = "not_found";
          }
        }
        out.push({ seq: i.seq, refused });
      }
      return out;
    },
    destroy() {
      for (const k of kinds) removeEventListener(k, mine, { capture: true });
      field = null;
    },
  };
}
