// Admin: agents and their rights.

import type { Permissions, UserInfo } from "../protocol.gen";
import { formatTime } from "../lib/format";
import { h, replaceChildren } from "../ui/dom";
import { AVATAR_COLOURS, avatarColour, colourChoices, initials } from "../lib/avatar";
import { api } from "./api";
import { openForm, type Field as FormField } from "./dialog";

/** An agent's initials in their colour (set through the CSSOM: the console's CSP has no inline styles). */
function avatar(u: UserInfo): HTMLElement {
  const el = h("span", { class: "me-avatar", "aria-hidden": "true", "data-testid": "user-avatar", "data-colour": u.colour ?? "", text: initials(u.display_name) });
  if (u.colour) {
    el.style.background = AVATAR_COLOURS[u.colour].hex;
    el.style.color = "#fff";
  }
  return el;
}

export class AdminView {
  readonly el: HTMLElement;
  private readonly body = h("tbody");
  private readonly error = h("p", { class: "form-error", role: "alert", "data-testid": "admin-error", hidden: true });
  private readonly formError = h("p", { class: "form-error", role: "alert", "data-testid": "user-add-error", hidden: true });
  private readonly formOk = h("p", { class: "form-ok", role: "status", "data-testid": "user-add-ok", hidden: true });

  constructor(
    private readonly myId: () => number | null,
    private readonly toast: (text: string) => void,
  ) {
    const name = h("input", { id: "nu-name", name: "name", required: true, autocomplete: "off", pattern: "[A-Za-z0-9._\\-]{2,40}", title: "2 to 40 letters, digits, dots, dashes or underscores", "data-testid": "user-add-name" });
    const display = h("input", { id: "nu-display", name: "display_name", autocomplete: "off", "data-testid": "user-add-display" });
    const password = h("input", { id: "nu-password", name: "password", type: "password", required: true, autocomplete: "new-password", "data-testid": "user-add-password" });
    const admin = h("input", { id: "nu-admin", name: "is_admin", type: "checkbox", "data-testid": "user-add-admin" });
    const submit = h("button", { class: "btn primary", type: "submit", "data-testid": "user-add-submit", text: "Add agent" });
    const form = h(
      "form",
      { class: "side-form", "data-testid": "user-add-form" },
      h("h2", { text: "Add an agent" }),
      h("label", { class: "field", for: "nu-name" }, h("span", { text: "Login name" }), name),
      h("label", { class: "field", for: "nu-display" }, h("span", { text: "Display name" }), display, h("small", { class: "muted", text: "Shown to visitors. Defaults to the login name." })),
      h("label", { class: "field", for: "nu-password" }, h("span", { text: "Password" }), password),
      h("label", { class: "check", for: "nu-admin" }, admin, h("span", { text: "Administrator (can manage agents)" })),
      this.formError,
      this.formOk,
      submit,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      this.formError.hidden = this.formOk.hidden = true;
      submit.disabled = true;
      try {
        const u = await api.createUser({ name: name.value.trim(), display_name: display.value.trim() || null, password: password.value, is_admin: admin.checked });
        form.reset();
        this.formOk.textContent = `${u.display_name} can now log in as “${u.name}”.`;
        this.formOk.hidden = false;
        await this.load();
      } catch (e) {
        this.formError.textContent = (e as Error).message;
        this.formError.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    this.el = h(
      "div",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", { text: "Agents" }), h("p", { class: "muted", text: "Who can log in to this console." })),
      this.error,
      h(
        "div",
        { class: "admin-grid" },
        h(
          "div",
          { class: "table-card" },
          h(
            "table",
            { class: "table", "data-testid": "users-table" },
            h("thead", null, h("tr", null, h("th", { text: "Agent" }), h("th", { text: "Role" }), h("th", { text: "Status" }), h("th", { text: "Created" }), h("th", { class: "right", text: "Actions" }))),
            this.body,
          ),
        ),
        form,
      ),
    );
  }

  async load(): Promise<void> {
    this.error.hidden = true;
    try {
      const users = await api.users();
      users.sort((a, b) => a.name.localeCompare(b.name));
      replaceChildren(this.body, ...users.map((u) => this.row(u)));
    } catch (e) {
      this.error.textContent = (e as Error).message;
      this.error.hidden = false;
    }
  }

  private async update(u: UserInfo, change: { is_admin?: boolean; disabled?: boolean }, done: string): Promise<void> {
    try {
      await api.updateUser(u.id, { display_name: null, is_admin: change.is_admin ?? null, disabled: change.disabled ?? null, permissions: null });
      this.toast(done);
      await this.load();
    } catch (e) {
      this.error.textContent = (e as Error).message;
      this.error.hidden = false;
    }
  }

  private row(u: UserInfo): HTMLElement {
    const self = u.id === this.myId();
    return h(
      "tr",
      { "data-testid": "user-row", "data-name": u.name, "data-disabled": String(u.disabled), "data-admin": String(u.is_admin) },
      h(
        "td",
        null,
        h(
          "div",
          { class: "user-cell" },
          avatar(u),
          h("div", null, h("strong", { "data-testid": "user-display", text: u.display_name }), h("span", { class: "muted", text: "@" + u.name + (self ? " (you)" : "") })),
        ),
      ),
      h(
        "td",
        null,
        h("span", { class: `tag ${u.is_admin ? "admin" : ""}`, "data-testid": "user-role", text: u.is_admin ? "Admin" : "Agent" }),
        limited(u.permissions),
      ),
      h("td", null, h("span", { class: `tag ${u.disabled ? "off" : "ok"}`, "data-testid": "user-status", text: u.disabled ? "Disabled" : "Active" })),
      h("td", { class: "nowrap", text: formatTime(u.created_at) }),
      h(
        "td",
        { class: "right actions-cell" },
        h(
          "div",
          null,
        h("button", {
          class: "btn small",
          type: "button",
          "data-testid": "user-toggle-admin",
          disabled: self,
          text: u.is_admin ? "Remove admin" : "Make admin",
          onclick: () => this.update(u, { is_admin: !u.is_admin }, u.is_admin ? `${u.display_name} is no longer an admin.` : `${u.display_name} is now an admin.`),
        }),
        h("button", {
          class: "btn small",
          type: "button",
          "data-testid": "user-toggle-disabled",
          disabled: self,
          text: u.disabled ? "Enable" : "Disable",
          onclick: () => this.update(u, { disabled: !u.disabled }, u.disabled ? `${u.display_name} can log in again.` : `${u.display_name} can no longer log in.`),
        }),
        h("button", {
          class: "btn small",
          type: "button",
          "data-testid": "user-edit",
          text: "Edit",
          onclick: () =>
            openForm({
              title: `Edit ${u.display_name}`,
              description: "The name visitors see, the colour of the initials, and what they may use (the site policy on the Install page can turn more off for everyone).",
              fields: [
                { name: "display_name", label: "Display name", value: u.display_name },
                { name: "colour", label: "Colour", value: u.colour ?? "", options: colourChoices() },
                ...permissionFields(u.permissions),
              ],
              submitLabel: "Save",
              onSubmit: async (v) => {
                const colour = avatarColour(v.colour);
                await api.setProfile(u.id, { display_name: v.display_name.trim(), colour });
                const permissions = permissionsFrom(v);
                if (PERMISSIONS.some(([key]) => permissions[key] !== u.permissions[key])) {
                  await api.updateUser(u.id, { display_name: null, is_admin: null, disabled: null, permissions });
                }
                this.toast(`${v.display_name.trim()} saved.`);
                await this.load();
              },
            }),
        }),
        h("button", {
          class: "btn small",
          type: "button",
          "data-testid": "user-reset-password",
          text: "Reset password",
          onclick: () =>
            openForm({
              title: `Reset password for ${u.display_name}`,
              description: "They will need the new password for their next login.",
              fields: [
                { name: "password", label: "New password", type: "password", autocomplete: "new-password" },
                { name: "confirm", label: "Repeat new password", type: "password", autocomplete: "new-password" },
              ],
              submitLabel: "Set password",
              onSubmit: async (v) => {
                if (v.password !== v.confirm) throw new Error("The passwords do not match.");
                await api.setPassword(u.id, { current: null, password: v.password });
                this.toast(`Password for ${u.display_name} changed.`);
              },
            }),
        }),
        ),
      ),
    );
  }
}

/** The capabilities an admin allows or refuses an agent, with their names. */
export const PERMISSIONS: [keyof Permissions, string][] = [
  ["screen_share", "Screen sharing"],
  ["cobrowse", "Co-browsing"],
  ["remote_control", "Remote control"],
  ["session_keys", "Session keys"],
];

function permissionFields(p: Permissions): FormField[] {
  return PERMISSIONS.map(([key, label]) => ({
    name: `may_${key}`,
    label,
    value: p[key] ? "yes" : "no",
    options: [
      ["yes", "Allowed"],
      ["no", "Not allowed"],
    ],
  }));
}

function permissionsFrom(values: Record<string, string>): Permissions {
  const p = { screen_share: true, cobrowse: true, remote_control: true, session_keys: true };
  for (const [key] of PERMISSIONS) p[key] = values[`may_${key}`] !== "no";
  return p;
}

/** A tag naming what the agent may not use, if anything. */
function limited(p: Permissions): HTMLElement | null {
  const refused = PERMISSIONS.filter(([key]) => !p[key]).map(([, label]) => label.toLowerCase());
  if (refused.length === 0) return null;
  return h("span", { class: "tag off", "data-testid": "user-limits", title: `Not allowed: ${refused.join(", ")}`, text: `No ${refused.join(", ")}` });
}
