// Admin: agents and their rights.

import { render } from "preact";
import { signal, useSignal } from "@preact/signals";
import type { Permissions, UserInfo } from "../protocol.gen";
import { formatTime } from "../lib/format";
import { avatarColour, colourChoices } from "../lib/avatar";
import { api } from "./api";
import { Avatar } from "./components";
import { openForm, type Field as FormField } from "./dialog";

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
function Limits({ permissions }: { permissions: Permissions }) {
  const refused = PERMISSIONS.filter(([key]) => !permissions[key]).map(([, label]) => label.toLowerCase());
  if (refused.length === 0) return null;
  return (
    <span class="tag off" data-testid="user-limits" title={`Not allowed: ${refused.join(", ")}`}>
      {`No ${refused.join(", ")}`}
    </span>
  );
}

interface AdminProps {
  myId: () => number | null;
  toast: (text: string) => void;
}

/** The page's state: the list and its error, the add form's outcome. */
class AdminState {
  readonly users = signal<UserInfo[]>([]);
  readonly error = signal<string | null>(null);

  async load(): Promise<void> {
    this.error.value = null;
    try {
      const users = await api.users();
      users.sort((a, b) => a.name.localeCompare(b.name));
      this.users.value = users;
    } catch (e) {
      this.error.value = (e as Error).message;
    }
  }
}

function UserRow({ u, state, props }: { u: UserInfo; state: AdminState; props: AdminProps }) {
  const self = u.id === props.myId();
  const update = async (change: { is_admin?: boolean; disabled?: boolean }, done: string) => {
    try {
      await api.updateUser(u.id, { display_name: null, is_admin: change.is_admin ?? null, disabled: change.disabled ?? null, permissions: null });
      props.toast(done);
      await state.load();
    } catch (e) {
      state.error.value = (e as Error).message;
    }
  };
  const edit = () =>
    openForm({
      title: `Edit ${u.display_name}`,
      description: "The name visitors see, the colour of the initials, and what they may use (the site policy on the Install page can turn more off for everyone).",
      fields: [{ name: "display_name", label: "Display name", value: u.display_name }, { name: "colour", label: "Colour", value: u.colour ?? "", options: colourChoices() }, ...permissionFields(u.permissions)],
      submitLabel: "Save",
      onSubmit: async (v) => {
        const colour = avatarColour(v.colour);
        await api.setProfile(u.id, { display_name: v.display_name.trim(), colour });
        const permissions = permissionsFrom(v);
        if (PERMISSIONS.some(([key]) => permissions[key] !== u.permissions[key])) {
          await api.updateUser(u.id, { display_name: null, is_admin: null, disabled: null, permissions });
        }
        props.toast(`${v.display_name.trim()} saved.`);
        await state.load();
      },
    });
  const resetPassword = () =>
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
        props.toast(`Password for ${u.display_name} changed.`);
      },
    });
  return (
    <tr data-testid="user-row" data-name={u.name} data-disabled={String(u.disabled)} data-admin={String(u.is_admin)}>
      <td>
        <div class="user-cell">
          <Avatar name={u.display_name} colour={u.colour} data-testid="user-avatar" data-colour={u.colour ?? ""} />
          <div>
            <strong data-testid="user-display">{u.display_name}</strong>
            <span class="muted">{"@" + u.name + (self ? " (you)" : "")}</span>
          </div>
        </div>
      </td>
      <td>
        <span class={`tag ${u.is_admin ? "admin" : ""}`} data-testid="user-role">
          {u.is_admin ? "Admin" : "Agent"}
        </span>
        <Limits permissions={u.permissions} />
      </td>
      <td>
        <span class={`tag ${u.disabled ? "off" : "ok"}`} data-testid="user-status">
          {u.disabled ? "Disabled" : "Active"}
        </span>
      </td>
      <td class="nowrap">{formatTime(u.created_at)}</td>
      <td class="right actions-cell">
        <div>
          <button
            class="btn small"
            type="button"
            data-testid="user-toggle-admin"
            disabled={self}
            onClick={() => update({ is_admin: !u.is_admin }, u.is_admin ? `${u.display_name} is no longer an admin.` : `${u.display_name} is now an admin.`)}
          >
            {u.is_admin ? "Remove admin" : "Make admin"}
          </button>
          <button
            class="btn small"
            type="button"
            data-testid="user-toggle-disabled"
            disabled={self}
            onClick={() => update({ disabled: !u.disabled }, u.disabled ? `${u.display_name} can log in again.` : `${u.display_name} can no longer log in.`)}
          >
            {u.disabled ? "Enable" : "Disable"}
          </button>
          <button class="btn small" type="button" data-testid="user-edit" onClick={edit}>
            Edit
          </button>
          <button class="btn small" type="button" data-testid="user-reset-password" onClick={resetPassword}>
            Reset password
          </button>
        </div>
      </td>
    </tr>
  );
}

const NO_AGENT = { name: "", display: "", password: "", admin: false };

/** The side form that adds an agent. */
function AddAgent({ state }: { state: AdminState }) {
  const fields = useSignal(NO_AGENT);
  const error = useSignal<string | null>(null);
  const ok = useSignal<string | null>(null);
  const busy = useSignal(false);
  const set = (change: Partial<typeof NO_AGENT>) => (fields.value = { ...fields.value, ...change });
  const submit = async (ev: Event) => {
    ev.preventDefault();
    error.value = ok.value = null;
    busy.value = true;
    const f = fields.value;
    try {
      const u = await api.createUser({ name: f.name.trim(), display_name: f.display.trim() || null, password: f.password, is_admin: f.admin });
      fields.value = NO_AGENT;
      ok.value = `${u.display_name} can now log in as “${u.name}”.`;
      await state.load();
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
    }
  };
  const f = fields.value;
  return (
    <form class="side-form" data-testid="user-add-form" onSubmit={submit}>
      <h2>Add an agent</h2>
      <label class="field" for="nu-name">
        <span>Login name</span>
        <input
          id="nu-name"
          name="name"
          required
          autocomplete="off"
          pattern="[A-Za-z0-9._\-]{2,40}"
          title="2 to 40 letters, digits, dots, dashes or underscores"
          data-testid="user-add-name"
          value={f.name}
          onInput={(ev) => set({ name: ev.currentTarget.value })}
        />
      </label>
      <label class="field" for="nu-display">
        <span>Display name</span>
        <input id="nu-display" name="display_name" autocomplete="off" data-testid="user-add-display" value={f.display} onInput={(ev) => set({ display: ev.currentTarget.value })} />
        <small class="muted">Shown to visitors. Defaults to the login name.</small>
      </label>
      <label class="field" for="nu-password">
        <span>Password</span>
        <input id="nu-password" name="password" type="password" required autocomplete="new-password" data-testid="user-add-password" value={f.password} onInput={(ev) => set({ password: ev.currentTarget.value })} />
      </label>
      <label class="check" for="nu-admin">
        <input id="nu-admin" name="is_admin" type="checkbox" data-testid="user-add-admin" checked={f.admin} onChange={(ev) => set({ admin: ev.currentTarget.checked })} />
        <span>Administrator (can manage agents)</span>
      </label>
      <p class="form-error" role="alert" data-testid="user-add-error" hidden={error.value === null}>
        {error.value}
      </p>
      <p class="form-ok" role="status" data-testid="user-add-ok" hidden={ok.value === null}>
        {ok.value}
      </p>
      <button class="btn primary" type="submit" data-testid="user-add-submit" disabled={busy.value}>
        Add agent
      </button>
    </form>
  );
}

function AdminPage({ state, props }: { state: AdminState; props: AdminProps }) {
  return (
    <>
      <div class="page-head">
        <h1>Agents</h1>
        <p class="muted">Who can log in to this console.</p>
      </div>
      <p class="form-error" role="alert" data-testid="admin-error" hidden={state.error.value === null}>
        {state.error.value}
      </p>
      <div class="admin-grid">
        <div class="table-card">
          <table class="table" data-testid="users-table">
            <thead>
              <tr>
                <th>Agent</th>
                <th>Role</th>
                <th>Status</th>
                <th>Created</th>
                <th class="right">Actions</th>
              </tr>
            </thead>
            <tbody>
              {state.users.value.map((u) => (
                <UserRow key={u.id} u={u} state={state} props={props} />
              ))}
            </tbody>
          </table>
        </div>
        <AddAgent state={state} />
      </div>
    </>
  );
}

/** The Admin page, for the console's router: `el` to show, `load` on each visit. */
export class AdminView {
  readonly el: HTMLElement = document.createElement("div");
  private readonly state = new AdminState();

  constructor(myId: () => number | null, toast: (text: string) => void) {
    this.el.className = "page";
    render(<AdminPage state={this.state} props={{ myId, toast }} />, this.el);
  }

  load(): Promise<void> {
    return this.state.load();
  }
}
