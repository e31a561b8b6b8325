// The invite dialog: bring a colleague with the console open into one of our
// conversations, read-only (they observe: a supervisor, someone learning) or
// taking part (they write to the visitor too), with a note only agents see. The
// people already in it are listed with their role, to change it or take them
// out. The server decides: the owner or an admin may invite, at most a few
// colleagues, and only someone online.

import type { AgentPresence, InviteRole, Invitee } from "../protocol.gen";
import type { AgentSession } from "../lib/agent-session";
import { AVATAR_COLOURS, initials } from "../lib/avatar";
import { h, replaceChildren } from "../ui/dom";

export const ROLE_BADGE: Record<InviteRole, string> = { observer: "Observing", participant: "Taking part" };

function agentAvatar(agent: AgentPresence["agent"]): HTMLElement {
  const el = h("span", { class: "me-avatar", "aria-hidden": "true", text: initials(agent.display_name) });
  const colour = agent.colour ? AVATAR_COLOURS[agent.colour] : null;
  if (colour) {
    el.style.background = colour.hex;
    el.style.color = "#fff";
  }
  return el;
}

function roleOption(role: InviteRole, title: string, detail: string, checked: boolean): HTMLElement {
  return h(
    "label",
    { class: "transfer-option role-option", "data-testid": `invite-role-${role}` },
    h("input", { type: "radio", name: "invite-role", value: role, checked }),
    h("span", { class: "role-text" }, h("span", { class: "transfer-name", text: title }), h("span", { class: "muted role-detail", text: detail })),
  );
}

export function openInviteDialog(session: AgentSession, conversation: string, visitor: string): void {
  const previous = document.activeElement as HTMLElement | null;
  const list = h("div", { class: "transfer-list", role: "radiogroup", "aria-labelledby": "invite-who-label", "data-testid": "invite-list" });
  const current = h("div", { class: "invitee-list", "data-testid": "invitee-list" });
  const roles = h(
    "div",
    { class: "role-list", role: "radiogroup", "aria-labelledby": "invite-role-label" },
    roleOption("observer", "Read-only", "Sees the conversation live; cannot write.", true),
    roleOption("participant", "Taking part", "Writes to the visitor and adds notes too.", false),
  );
  const note = h("textarea", { id: "invite-note", class: "transfer-note", rows: "2", maxlength: "4000", placeholder: "Why you are asking them in…", "data-testid": "invite-note" });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "dialog-error", hidden: true });
  const submit = h("button", { class: "btn primary", type: "submit", "data-testid": "invite-submit", text: "Invite" });
  const cancel = h("button", { class: "btn", type: "button", "data-testid": "dialog-cancel", text: "Close" });
  const form = h(
    "form",
    { class: "modal transfer-modal invite-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "invite-title", "data-testid": "invite-dialog" },
    h("h2", { id: "invite-title", text: `Invite a colleague to ${visitor}` }),
    h("p", { class: "muted", text: "You keep the conversation: closing it, handing it over and anything the visitor lets you see stay with you." }),
    current,
    h("p", { id: "invite-who-label", class: "field-label", text: "Who" }),
    list,
    h("p", { id: "invite-role-label", class: "field-label", text: "How" }),
    roles,
    h("label", { class: "field", for: "invite-note" }, h("span", { text: "Note for your colleague (only agents see it)" }), note),
    error,
    h("div", { class: "modal-actions" }, cancel, submit),
  );
  let chosen: string | null = null;
  const invitees = (): Invitee[] => session.get(conversation)?.summary.invitees ?? [];
  // Who is in it already: their role, to change or take them out.
  let currentSig = "";
  const drawCurrent = () => {
    const inside = invitees();
    const sig = JSON.stringify(inside);
    if (sig === currentSig) return;
    currentSig = sig;
    const hadFocus = current.contains(document.activeElement);
    replaceChildren(
      current,
      ...(inside.length
        ? [
            h("p", { class: "field-label", text: "In this conversation" }),
            ...inside.map((i) =>
              h(
                "div",
                { class: "invitee-row", "data-testid": "invitee-row", "data-agent": String(i.agent.id) },
                agentAvatar(i.agent),
                h("span", { class: "transfer-name", text: i.agent.display_name }),
                h("span", { class: `tag invite-badge ${i.role}`, "data-testid": "invitee-role", text: ROLE_BADGE[i.role] }),
                h("button", {
                  class: "btn ghost small",
                  type: "button",
                  "data-testid": "invitee-switch",
                  text: i.role === "observer" ? "Let them take part" : "Make read-only",
                  onclick: () => {
                    const r = session.invite(conversation, i.agent.id, i.role === "observer" ? "participant" : "observer", "");
                    if (!r.ok) showError(r.reason);
                  },
                }),
                h("button", { class: "btn danger-ghost small", type: "button", "data-testid": "invitee-remove", "aria-label": `Remove ${i.agent.display_name}`, text: "Remove", onclick: () => session.uninvite(conversation, i.agent.id) }),
              ),
            ),
          ]
        : []),
    );
    // The keyboard stays in the dialog when the row it was on is rebuilt.
    if (hadFocus) (current.querySelector("button") ?? note).focus();
  };
  const draw = () => {
    const agents = session.agents;
    const me = session.me?.id;
    const owner = session.get(conversation)?.summary.agent?.id;
    const inside = invitees();
    drawCurrent();
    const others = (agents ?? []).filter((p) => p.agent.id !== me && p.agent.id !== owner && !inside.some((i) => i.agent.id === p.agent.id));
    others.sort((a, b) => Number(a.away) - Number(b.away) || a.agent.display_name.localeCompare(b.agent.display_name));
    if (chosen === null || !others.some((p) => String(p.agent.id) === chosen)) chosen = others[0] ? String(others[0].agent.id) : null;
    const rows: HTMLElement[] = others.map((p) =>
      h(
        "label",
        { class: "transfer-option", "data-testid": "invite-option", "data-value": String(p.agent.id) },
        h("input", { type: "radio", name: "invite-who", value: String(p.agent.id), checked: chosen === String(p.agent.id) }),
        agentAvatar(p.agent),
        h("span", { class: "transfer-name", text: p.agent.display_name }),
        h("span", { class: `transfer-status ${p.away ? "away" : "available"}`, text: p.away ? "Away" : "Available" }),
      ),
    );
    if (agents === null) rows.push(h("p", { class: "muted", "data-testid": "invite-loading", text: "Looking for colleagues who are online…" }));
    else if (others.length === 0) rows.push(h("p", { class: "muted", "data-testid": "invite-none", text: "No other colleague has the console open right now." }));
    replaceChildren(list, ...rows);
    submit.disabled = chosen === null;
  };
  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };
  list.addEventListener("change", (ev) => {
    const t = ev.target as HTMLInputElement;
    if (t.name === "invite-who") chosen = t.value;
  });
  const unsubscribe = session.subscribe(() => {
    if (!form.isConnected) return;
    const e = session.get(conversation);
    if (!e || e.summary.status !== "active") return close();
    // The list of colleagues is not rebuilt under a choice being made in it.
    if (list.contains(document.activeElement)) drawCurrent();
    else draw();
  });
  // Refusals (someone went offline, too many invitees) come back as the session's notice.
  const offRaw = session.onServerMessage((msg) => {
    if (msg.type === "error" && form.isConnected) showError(msg.message);
  });
  const backdrop = h("div", { class: "backdrop" }, form);
  const close = () => {
    unsubscribe();
    offRaw();
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
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (chosen === null) return;
    const role = (form.querySelector("input[name=invite-role]:checked") as HTMLInputElement | null)?.value === "participant" ? "participant" : "observer";
    const r = session.invite(conversation, Number(chosen), role, note.value);
    if (!r.ok) return showError(r.reason);
    error.hidden = true;
    note.value = "";
    chosen = null;
  });
  draw();
  document.body.appendChild(backdrop);
  session.listAgents();
  (list.querySelector("input") ?? note).focus();
}
