// The invite dialog: bring a colleague with the console open into one of our
// conversations, read-only (they observe: a supervisor, someone learning) or
// taking part (they write to the visitor too), with a note only agents see. The
// people already in it are listed with their role, to change it or take them
// out. The server decides: the owner or an admin may invite, at most a few
// colleagues, and only someone online.

import { useRef } from "preact/hooks";
import { useSignal, useSignalEffect } from "@preact/signals";
import type { InviteRole, Invitee } from "../protocol.gen";
import type { AgentSession } from "../lib/agent-session";
import { Avatar, ColleagueNote } from "./components";
import { FormFooter, Modal, openModal } from "./modal";
import { sessionState } from "./state";

export const ROLE_BADGE: Record<InviteRole, string> = { observer: "Observing", participant: "Taking part" };

const ROLES: { role: InviteRole; title: string; detail: string }[] = [
  { role: "observer", title: "Read-only", detail: "Sees the conversation live; cannot write." },
  { role: "participant", title: "Taking part", detail: "Writes to the visitor and adds notes too." },
];

function InviteeRow({ session, conversation, invitee, onError, onSent }: { session: AgentSession; conversation: string; invitee: Invitee; onError: (why: string) => void; onSent: () => void }) {
  const { agent, role } = invitee;
  return (
    <div class="invitee-row" data-testid="invitee-row" data-agent={String(agent.id)}>
      <Avatar name={agent.display_name} colour={agent.colour} />
      <span class="transfer-name">{agent.display_name}</span>
      <span class={`tag invite-badge ${role}`} data-testid="invitee-role">
        {ROLE_BADGE[role]}
      </span>
      <button
        class="btn ghost small"
        type="button"
        data-testid="invitee-switch"
        onClick={() => {
          const r = session.invite(conversation, agent.id, role === "observer" ? "participant" : "observer", "");
          if (!r.ok) onError(r.reason);
          else onSent();
        }}
      >
        {role === "observer" ? "Let them take part" : "Make read-only"}
      </button>
      <button class="btn danger-ghost small" type="button" data-testid="invitee-remove" aria-label={`Remove ${agent.display_name}`} onClick={() => session.uninvite(conversation, agent.id) && onSent()}>
        Remove
      </button>
    </div>
  );
}

function InviteDialog({ session, conversation, visitor, close }: { session: AgentSession; conversation: string; visitor: string; close: () => void }) {
  const state = sessionState(session);
  const chosen = useSignal<string | null>(null);
  const role = useSignal<InviteRole>("observer");
  const note = useSignal("");
  const error = useSignal<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);

  // The conversation ended or left us: nothing to invite into.
  useSignalEffect(() => {
    void state.revision.value;
    const e = session.get(conversation);
    if (!e || e.summary.status !== "active") queueMicrotask(close);
  });
  // Refusals (someone went offline, too many invitees) come back as errors: shown
  // while an answer to this dialog's own request is awaited (an invite, a role
  // change, a removal), not errors of anything else the console does.
  const awaiting = useRef(false);
  const inviteesSeen = useRef("");
  useSignalEffect(() => {
    void state.revision.value;
    // Who is in it changed: the server did what was asked, nothing is awaited.
    const sig = JSON.stringify(session.get(conversation)?.summary.invitees ?? []);
    if (sig !== inviteesSeen.current) awaiting.current = false;
    inviteesSeen.current = sig;
  });
  useSignalEffect(() => session.onServerMessage((msg) => {
    if (msg.type === "error" && awaiting.current) {
      awaiting.current = false;
      error.value = msg.message;
    }
  }));

  void state.revision.value;
  const summary = session.get(conversation)?.summary;
  const invitees = summary?.invitees ?? [];
  const agents = state.agents.value;
  const me = state.me.value?.id;
  const others = (agents ?? []).filter((p) => p.agent.id !== me && p.agent.id !== summary?.agent?.id && !invitees.some((i) => i.agent.id === p.agent.id));
  others.sort((a, b) => Number(a.away) - Number(b.away) || a.agent.display_name.localeCompare(b.agent.display_name));
  const choice = chosen.value !== null && others.some((p) => String(p.agent.id) === chosen.value) ? chosen.value : others[0] ? String(others[0].agent.id) : null;

  const submit = (ev: Event) => {
    ev.preventDefault();
    if (choice === null) return;
    const r = session.invite(conversation, Number(choice), role.value, note.value);
    if (!r.ok) {
      error.value = r.reason;
      return;
    }
    awaiting.current = true;
    error.value = null;
    note.value = "";
    chosen.value = null;
  };

  return (
    <Modal labelledBy="invite-title" testid="invite-dialog" class="transfer-modal invite-modal" onSubmit={submit} onClose={close}>
      <h2 id="invite-title">{`Invite a colleague to ${visitor}`}</h2>
      <p class="muted">You keep the conversation: closing it, handing it over and anything the visitor lets you see stay with you.</p>
      <div class="invitee-list" data-testid="invitee-list">
        {invitees.length > 0 && <p class="field-label">In this conversation</p>}
        {invitees.map((i) => (
          <InviteeRow key={i.agent.id} session={session} conversation={conversation} invitee={i} onError={(why) => (error.value = why)} onSent={() => (awaiting.current = true)} />
        ))}
      </div>
      <p id="invite-who-label" class="field-label">
        Who
      </p>
      <div ref={listRef} class="transfer-list" role="radiogroup" aria-labelledby="invite-who-label" data-testid="invite-list">
        {others.map((p) => (
          <label key={p.agent.id} class="transfer-option" data-testid="invite-option" data-value={String(p.agent.id)}>
            <input type="radio" name="invite-who" value={String(p.agent.id)} checked={choice === String(p.agent.id)} onChange={() => (chosen.value = String(p.agent.id))} />
            <Avatar name={p.agent.display_name} colour={p.agent.colour} />
            <span class="transfer-name">{p.agent.display_name}</span>
            <span class={`transfer-status ${p.away ? "away" : "available"}`}>{p.away ? "Away" : "Available"}</span>
          </label>
        ))}
        {agents === null ? (
          <p class="muted" data-testid="invite-loading">
            Looking for colleagues who are online…
          </p>
        ) : others.length === 0 ? (
          <p class="muted" data-testid="invite-none">
            No other colleague has the console open right now.
          </p>
        ) : null}
      </div>
      <p id="invite-role-label" class="field-label">
        How
      </p>
      <div class="role-list" role="radiogroup" aria-labelledby="invite-role-label">
        {ROLES.map((r) => (
          <label key={r.role} class="transfer-option role-option" data-testid={`invite-role-${r.role}`}>
            <input type="radio" name="invite-role" value={r.role} checked={role.value === r.role} onChange={() => (role.value = r.role)} />
            <span class="role-text">
              <span class="transfer-name">{r.title}</span>
              <span class="muted role-detail">{r.detail}</span>
            </span>
          </label>
        ))}
      </div>
      <ColleagueNote id="invite-note" rows={2} placeholder="Why you are asking them in…" note={note} />
      <FormFooter error={error.value} onCancel={close} cancelLabel="Close" submitLabel="Invite" submitTestid="invite-submit" disabled={choice === null} />
    </Modal>
  );
}

export function openInviteDialog(session: AgentSession, conversation: string, visitor: string): void {
  openModal((close) => <InviteDialog session={session} conversation={conversation} visitor={visitor} close={close} />);
  session.listAgents();
}
