// The transfer dialog: hand a conversation to a colleague with the console open
// (those who are away are shown as away, and can still be chosen) or back to the
// queue, with a note only agents see. The server decides: it refuses a colleague
// who went offline meanwhile, and ends whatever the visitor granted us.

import type { ComponentChildren } from "preact";
import { useRef } from "preact/hooks";
import { useSignal, useSignalEffect } from "@preact/signals";
import type { AgentSession } from "../lib/agent-session";
import { QUEUE, colleagues, transferChoice } from "../lib/transfer";
import { Avatar, ColleagueNote } from "./components";
import { FormFooter, Modal, openModal } from "./modal";
import { sessionState } from "./state";

function Option(props: { value: string; name: string; lead: ComponentChildren; status: string; statusClass: string; checked: boolean; onPick: (value: string) => void }) {
  return (
    <label class="transfer-option" data-testid="transfer-option" data-value={props.value}>
      <input type="radio" name="transfer-to" value={props.value} checked={props.checked} data-testid="transfer-option-input" onChange={() => props.onPick(props.value)} />
      {props.lead}
      <span class="transfer-name">{props.name}</span>
      <span class={`transfer-status ${props.statusClass}`} data-testid="transfer-status">
        {props.status}
      </span>
    </label>
  );
}

function TransferDialog({ session, conversation, visitor, close }: { session: AgentSession; conversation: string; visitor: string; close: () => void }) {
  const state = sessionState(session);
  const chosen = useSignal(QUEUE);
  const picked = useSignal(false);
  const note = useSignal("");
  const error = useSignal<string | null>(null);
  const noteRef = useRef<HTMLTextAreaElement>(null);

  // The conversation left us (handed over, closed by the visitor): nothing to transfer.
  useSignalEffect(() => {
    void state.revision.value;
    const e = session.get(conversation);
    if (!e || e.summary.status !== "active" || !session.isMine(e.summary)) queueMicrotask(close);
  });

  const agents = state.agents.value;
  const others = colleagues(agents, state.me.value?.id);
  const choice = transferChoice(others, chosen.value, picked.value);
  const pick = (value: string) => {
    chosen.value = value;
    picked.value = true;
  };
  const submit = (ev: Event) => {
    ev.preventDefault();
    const target = choice === QUEUE ? null : others.find((p) => String(p.agent.id) === choice);
    const r = session.transfer(conversation, target ? target.agent.id : null, target ? target.agent.display_name : null, note.value);
    if (!r.ok) error.value = r.reason;
    else close();
  };

  return (
    <Modal labelledBy="transfer-title" testid="transfer-dialog" class="transfer-modal" onSubmit={submit} onClose={close} initialFocus={noteRef}>
      <h2 id="transfer-title">{`Transfer ${visitor}`}</h2>
      <p class="muted">The visitor sees who they are talking to now. Anything they let you see or control ends.</p>
      <p id="transfer-to-label" class="field-label">
        To
      </p>
      <div class="transfer-list" role="radiogroup" aria-labelledby="transfer-to-label" data-testid="transfer-list">
        {others.map((p) => (
          <Option
            key={p.agent.id}
            value={String(p.agent.id)}
            name={p.agent.display_name}
            lead={<Avatar name={p.agent.display_name} colour={p.agent.colour} />}
            status={p.away ? "Away" : "Available"}
            statusClass={p.away ? "away" : "available"}
            checked={choice === String(p.agent.id)}
            onPick={pick}
          />
        ))}
        {agents === null ? (
          <p class="muted" data-testid="transfer-loading">
            Looking for colleagues who are online…
          </p>
        ) : others.length === 0 ? (
          <p class="muted" data-testid="transfer-none">
            No colleague has the console open right now.
          </p>
        ) : null}
        <Option
          key={QUEUE}
          value={QUEUE}
          name="Back to the queue"
          lead={
            <span class="me-avatar queue-mark" aria-hidden="true">
              ⇆
            </span>
          }
          status="Anyone can accept it"
          statusClass="queue"
          checked={choice === QUEUE}
          onPick={pick}
        />
      </div>
      <ColleagueNote id="transfer-note" rows={3} placeholder="What your colleague should know: what was tried, what is left…" note={note} inputRef={noteRef} />
      <FormFooter error={error.value} onCancel={close} submitLabel="Transfer" submitTestid="transfer-submit" />
    </Modal>
  );
}

export function openTransferDialog(session: AgentSession, conversation: string, visitor: string): void {
  openModal((close) => <TransferDialog session={session} conversation={conversation} visitor={visitor} close={close} />);
  session.listAgents();
}
