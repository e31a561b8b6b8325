// The site policy (admins, on the Install page): capabilities turned off for
// everyone, and CSS selectors of elements the widget keeps private on every page
// on top of `data-sightline-private`. Saved as a whole; the server checks the
// selectors and applies the change at once.

import { MAX_PRIVATE_SELECTORS, MAX_PRIVATE_SELECTOR_BYTES, type Permissions, type SitePolicy } from "../protocol.gen";
import { h } from "../ui/dom";
import { PERMISSIONS } from "./admin";
import { api } from "./api";

export class PolicySection {
  readonly el: HTMLElement;
  private readonly boxes = new Map<keyof Permissions, HTMLInputElement>();
  private readonly selectors = h("textarea", {
    id: "policy-selectors",
    name: "private_selectors",
    rows: "4",
    spellcheck: "false",
    placeholder: ".account-balance\n#iban",
    "data-testid": "policy-selectors",
  });
  private readonly error = h("p", { class: "form-error", role: "alert", "data-testid": "policy-error", hidden: true });

  constructor(private readonly toast: (text: string) => void) {
    const checks = PERMISSIONS.map(([key, label]) => {
      const box = h("input", { type: "checkbox", id: `policy-${key}`, name: key, "data-testid": `policy-${key}` });
      this.boxes.set(key, box);
      return h("label", { class: "check", for: `policy-${key}` }, box, h("span", { text: label }));
    });
    const form = h(
      "form",
      { "data-testid": "policy-form" },
      h("fieldset", { class: "checks" }, h("legend", { text: "Allowed for agents (an agent's own permissions, under Admin, can refuse more)" }), ...checks),
      h(
        "label",
        { class: "field", for: "policy-selectors" },
        h("span", { text: `Private selectors: one CSS selector a line, at most ${MAX_PRIVATE_SELECTORS}` }),
        this.selectors,
      ),
      this.error,
      h("button", { class: "btn primary", type: "submit", "data-testid": "policy-save", text: "Save policy" }),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.save();
    });
    this.el = h(
      "section",
      { class: "card-section", "data-testid": "policy-section" },
      h("h2", { text: "Policy" }),
      h("p", {
        class: "muted",
        text: "What matches a private selector never leaves the visitor's browser: blocked in co-browsing, blacked out of screen shares of the page, like elements marked data-sightline-private. Changes apply at once; a capability turned off ends where it is in use.",
      }),
      form,
    );
  }

  async load(): Promise<void> {
    this.error.hidden = true;
    try {
      this.render(await api.sitePolicy());
    } catch (e) {
      this.showError(e);
    }
  }

  private render(policy: SitePolicy): void {
    for (const [key, box] of this.boxes) box.checked = policy.allowed[key];
    this.selectors.value = policy.private_selectors.join("\n");
  }

  private async save(): Promise<void> {
    this.error.hidden = true;
    const allowed = { screen_share: true, cobrowse: true, remote_control: true, session_keys: true };
    for (const [key, box] of this.boxes) allowed[key] = box.checked;
    const private_selectors = this.selectors.value
      .split("\n")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const tooLong = private_selectors.find((s) => new TextEncoder().encode(s).length > MAX_PRIVATE_SELECTOR_BYTES);
    if (tooLong) return this.showError(new Error(`A selector is at most ${MAX_PRIVATE_SELECTOR_BYTES} bytes: ${tooLong.slice(0, 40)}…`));
    try {
      this.render(await api.setSitePolicy({ allowed, private_selectors }));
      this.toast("Policy saved.");
    } catch (e) {
      this.showError(e);
    }
  }

  private showError(e: unknown): void {
    this.error.textContent = (e as Error).message;
    this.error.hidden = false;
  }
}
