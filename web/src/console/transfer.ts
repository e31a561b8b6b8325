// The transfer dialog: hand a conversation to a colleague with the console open
// (those who are away are shown as away, and can still be chosen) or back to the
// queue, with a note only agents see. The server decides: it refuses a colleague
// who went offline meanwhile, and ends whatever the visitor granted us.

import type { AgentPresence } from "../protocol.gen";
import type { AgentSession } from "../lib/agent-session";
import { AVATAR_COLOURS, initials } from "../lib/avatar";
import { h, replaceChildren } from "../ui/dom";

const QUEUE = "queue";

function agentAvatar(p: AgentPresence): HTMLElement {
  const el = h("span", { class: "me-avatar", "aria-hidden": "true", text: initials(p.agent.display_name) });
  const colour = p.agent.colour ? AVATAR_COLOURS[p.agent.colour] : null;
  if (colour) {
    el.style.background = colour.hex;
    el.style.color = "#fff";
  }
  return el;
}

function option(value: string, name: string, lead: HTMLElement, status: string, statusClass: string, checked: boolean): HTMLElement {
  const radio = h("input", { type: "radio", name: "transfer-to", value, checked, "data-testid": "transfer-option-input" });
  return h(
    "label",
    { class: "transfer-option", "data-testid": "transfer-option", "data-value": value },
    radio,
    lead,
    h("span", { class: "transfer-name", text: name }),
    h("span", { class: `transfer-status ${statusClass}`, "data-testid": "transfer-status", text: status }),
  );
}

export function openTransferDialog(session: AgentSession, conversation: string, visitor: string): void {
  const previous = document.activeElement as HTMLElement | null;
  const list = h("div", { class: "transfer-list", role: "radiogroup", "aria-labelledby": "transfer-to-label", "data-testid": "transfer-list" });
  const note = h("textarea", { id: "transfer-note", class: "transfer-note", rows: "3", maxlength: "4000", placeholder: "What your colleague should know: what was tried, what is left…", "data-testid": "transfer-note" });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "dialog-error", hidden: true });
  const submit = h("button", { class: "btn primary", type: "submit", "data-testid": "transfer-submit", text: "Transfer" });
  const cancel = h("button", { class: "btn", type: "button", "data-testid": "dialog-cancel", text: "Cancel" });
  const form = h(
    "form",
    { class: "modal transfer-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "transfer-title", "data-testid": "transfer-dialog" },
    h("h2", { id: "transfer-title", text: `Transfer ${visitor}` }),
    h("p", { class: "muted", text: "The visitor sees who they are talking to now. Anything they let you see or control ends." }),
    h("p", { id: "transfer-to-label", class: "field-label", text: "To" }),
    list,
    h("label", { class: "field", for: "transfer-note" }, h("span", { text: "Note for your colleague (only agents see it)" }), note),
    error,
    h("div", { class: "modal-actions" }, cancel, submit),
  );
  let chosen = QUEUE;
  let picked = false;
  const draw = () => {
    const agents = session.agents;
    const me = session.me?.id;
    const others = (agents ?? []).filter((p) => p.agent.id !== me);
    // Available colleagues first, then those who are away; by name within each.
    others.sort((a, b) => Number(a.away) - Number(b.away) || a.agent.display_name.localeCompare(b.agent.display_name));
    // Until the agent picks, the first available colleague (else the queue); a
    // pick that went offline falls back the same way.
    if (!picked || (chosen !== QUEUE && !others.some((p) => String(p.agent.id) === chosen))) {
      const available = others.find((p) => !p.away);
      chosen = available ? String(available.agent.id) : QUEUE;
    }
    const rows: HTMLElement[] = others.map((p) =>
      option(String(p.agent.id), p.agent.display_name, agentAvatar(p), p.away ? "Away" : "Available", p.away ? "away" : "available", chosen === String(p.agent.id)),
    );
    if (agents === null) rows.push(h("p", { class: "muted", "data-testid": "transfer-loading", text: "Looking for colleagues who are online…" }));
    else if (others.length === 0) rows.push(h("p", { class: "muted", "data-testid": "transfer-none", text: "No colleague has the console open right now." }));
    rows.push(option(QUEUE, "Back to the queue", h("span", { class: "me-avatar queue-mark", "aria-hidden": "true", text: "⇆" }), "Anyone can accept it", "queue", chosen === QUEUE));
    replaceChildren(list, ...rows);
  };
  list.addEventListener("change", (ev) => {
    const t = ev.target as HTMLInputElement;
    if (t.name === "transfer-to") {
      chosen = t.value;
      picked = true;
    }
  });
  const unsubscribe = session.subscribe(() => {
    if (!form.isConnected) return;
    // The conversation left us (handed over, closed by the visitor): nothing to transfer.
    const e = session.get(conversation);
    if (!e || e.summary.status !== "active" || !session.isMine(e.summary)) return close();
    if (!list.contains(document.activeElement)) draw();
  });
  const backdrop = h("div", { class: "backdrop" }, form);
  const close = () => {
    unsubscribe();
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
    const target = chosen === QUEUE ? null : (session.agents ?? []).find((p) => String(p.agent.id) === chosen);
    const r = session.transfer(conversation, target ? target.agent.id : null, target ? target.agent.display_name : null, note.value);
    if (!r.ok) {
      error.textContent = r.reason;
      error.hidden = false;
      return;
    }
    close();
  });
  draw();
  document.body.appendChild(backdrop);
  session.listAgents();
  note.focus();
}
