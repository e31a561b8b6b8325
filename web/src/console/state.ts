// The console's state as Preact signals, fed by the DOM-free AgentSession
// (lib/agent-session.ts): the session stays plain TypeScript that tests drive
// without a DOM, and the views that read these signals re-render when they change.

import { batch, signal, type ReadonlySignal } from "@preact/signals";
import type { AgentPresence, AgentRef, Permissions } from "../protocol.gen";
import type { AgentLink, AgentSession } from "../lib/agent-session";

export interface SessionState {
  readonly me: ReadonlySignal<AgentRef | null>;
  readonly isAdmin: ReadonlySignal<boolean>;
  readonly permissions: ReadonlySignal<Permissions>;
  readonly away: ReadonlySignal<boolean>;
  /** False outside the office hours: visitors are told no one is available. */
  readonly officeOpen: ReadonlySignal<boolean>;
  readonly link: ReadonlySignal<AgentLink>;
  /** The colleagues with the console open; null until the server has listed them. */
  readonly agents: ReadonlySignal<AgentPresence[] | null>;
  /**
   * Counts the session's changes. The session changes its conversations in
   * place, so a computed that looks into them (`session.get(id)`) reads this
   * first to run again on every change.
   */
  readonly revision: ReadonlySignal<number>;
}

const states = new WeakMap<AgentSession, SessionState>();

/** The signals of `session`: one set per session, made on first use and fed for its lifetime. */
export function sessionState(session: AgentSession): SessionState {
  let state = states.get(session);
  if (state) return state;
  const me = signal(session.me);
  const isAdmin = signal(session.isAdmin);
  const permissions = signal(session.permissions);
  const away = signal(session.away);
  const officeOpen = signal(session.officeOpen);
  const link = signal(session.link);
  const agents = signal(session.agents);
  const revision = signal(0);
  session.subscribe(() =>
    batch(() => {
      me.value = session.me;
      isAdmin.value = session.isAdmin;
      permissions.value = session.permissions;
      away.value = session.away;
      officeOpen.value = session.officeOpen;
      link.value = session.link;
      agents.value = session.agents;
      revision.value++;
    }),
  );
  state = { me, isAdmin, permissions, away, officeOpen, link, agents, revision };
  states.set(session, state);
  return state;
}
