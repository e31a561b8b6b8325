// What the visitor's widget knows of a grant (co-browse, remote control), kept
// from the conversation's events and summaries: the agent's name and request
// text come only with events, the stream only with summaries and tokens, so
// each keeps what the other does not carry while the grant is the same one.

import type { AgentRef, Event, GrantState, GrantSummary } from "../protocol.gen";

export interface GrantView {
  id: string;
  state: GrantState;
  agent: AgentRef | null;
  message: string | null;
  stream: string | null;
}

/** The grant after one of its events. */
export function grantFromEvent(prev: GrantView | null, e: Event & { kind: "grant" }): GrantView {
  const same = prev?.id === e.grant;
  return {
    id: e.grant,
    state: e.state,
    agent: e.agent ?? (same ? (prev?.agent ?? null) : null),
    message: e.state === "asked" ? e.message : same ? (prev?.message ?? null) : null,
    stream: same ? (prev?.stream ?? null) : null,
  };
}

/** The grant as a summary (a welcome, a change) shows it. */
export function grantFromSummary(prev: GrantView | null, g: GrantSummary): GrantView {
  const same = prev?.id === g.id;
  return { id: g.id, state: g.state, agent: same ? (prev?.agent ?? null) : null, message: same ? (prev?.message ?? null) : null, stream: g.stream };
}
