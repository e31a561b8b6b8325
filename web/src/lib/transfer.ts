// Whom a transfer goes to: the colleagues a conversation can be handed to, in
// the order the dialog lists them, and which one is chosen. DOM-free.

import type { AgentPresence } from "../protocol.gen";

/** The choice that hands the conversation back to the queue. */
export const QUEUE = "queue";

/** The others with the console open: available ones first, then those away; by name within each. */
export function colleagues(agents: AgentPresence[] | null, me: number | null | undefined): AgentPresence[] {
  const others = (agents ?? []).filter((p) => p.agent.id !== me);
  return others.sort((a, b) => Number(a.away) - Number(b.away) || a.agent.display_name.localeCompare(b.agent.display_name));
}

/**
 * The choice to show: until the agent picks, the first available colleague (else
 * the queue); a pick that went offline falls back the same way.
 */
export function transferChoice(others: AgentPresence[], chosen: string, picked: boolean): string {
  if (picked && (chosen === QUEUE || others.some((p) => String(p.agent.id) === chosen))) return chosen;
  const available = others.find((p) => !p.away);
  return available ? String(available.agent.id) : QUEUE;
}
