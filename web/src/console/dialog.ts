// A small modal form (change password, reset password).

import { h } from "../ui/dom";

export interface Field {
  name: string;
  label: string;
  type?: string;
  autocomplete?: string;
  value?: string;
  required?: boolean;
  /** A choice among these (value, label) instead of a text input. */
  options?: [string, string][];
}

export interface FormDialog {
  title: string;
  description?: string;
  fields: Field[];
  submitLabel: string;
  /** Resolve to close; throw an Error to show its message and stay open. */
  onSubmit: (values: Record<string, string>) => Promise<void>;
}

export function openForm(spec: FormDialog): void {
  const previous = document.activeElement as HTMLElement | null;
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "dialog-error", hidden: true });
  const inputs = spec.fields.map((f): HTMLInputElement | HTMLSelectElement => {
    if (f.options) {
      const select = h("select", { id: `dlg-${f.name}`, name: f.name, "data-testid": `dialog-${f.name}` }, ...f.options.map(([value, label]) => h("option", { value, text: label })));
      select.value = f.value ?? "";
      return select;
    }
    return h("input", {
      id: `dlg-${f.name}`,
      name: f.name,
      type: f.type || "text",
      autocomplete: f.autocomplete || "off",
      value: f.value,
      required: f.required !== false,
      "data-testid": `dialog-${f.name}`,
    });
  });
  const submit = h("button", { class: "btn primary", type: "submit", "data-testid": "dialog-submit", text: spec.submitLabel });
  const cancel = h("button", { class: "btn", type: "button", "data-testid": "dialog-cancel", text: "Cancel" });
  const form = h(
    "form",
    { class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "dlg-title", "data-testid": "dialog" },
    h("h2", { id: "dlg-title", text: spec.title }),
    spec.description ? h("p", { class: "muted", text: spec.description }) : null,
    ...spec.fields.map((f, i) => h("label", { class: "field", for: `dlg-${f.name}` }, h("span", { text: f.label }), inputs[i])),
    error,
    h("div", { class: "modal-actions" }, cancel, submit),
  );
  const backdrop = h("div", { class: "backdrop" }, form);
  const close = () => {
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
    previous?.focus?.();
  };
  const onKey = (ev: KeyboardEvent) => {
    if (ev.key === "Escape") close();
  };
  document.addEventListener("keydown", onKey, true);
  cancel.addEventListener("click", close);
  backdrop.addEventListener("mousedown", (ev) => {
    if (ev.target === backdrop) close();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values: Record<string, string> = {};
    spec.fields.forEach((f, i) => (values[f.name] = inputs[i].value));
    submit.disabled = true;
    error.hidden = true;
    try {
      await spec.onSubmit(values);
      close();
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
      error.hidden = false;
      submit.disabled = false;
    }
  });
  document.body.appendChild(backdrop);
  inputs[0]?.focus();
}
