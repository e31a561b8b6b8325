// The session-key dialog: a big code with a countdown, for voice support.

import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { AgentSession } from "../lib/agent-session";
import type { AgentShares, SessionKey } from "../lib/share-agent";
import { Modal, openModal } from "./modal";

type Purpose = "screen_share" | "cobrowse";

/** "Expires in 4:59", or that it has expired. */
export function keyCountdown(expiresAt: number, now: number): { text: string; expired: boolean } {
  const left = Math.max(0, Math.round((expiresAt - now) / 1000));
  return { text: left > 0 ? `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : "This code has expired. Create a new one.", expired: left === 0 };
}

function KeyDialog({ shares, session, toast, close }: { shares: AgentShares; session: AgentSession; toast: (t: string) => void; close: () => void }) {
  // What the caller is asked for: sharing their screen (on /join), or co-browsing
  // (they type the code into the chat on the site).
  const purpose = useSignal<Purpose>("screen_share");
  const key = useSignal<SessionKey | null>(null);
  const now = useSignal(Date.now());
  const closeRef = useRef<HTMLButtonElement>(null);

  // A layout effect: its cleanup runs as the dialog closes (a passive one's runs
  // after the next paint, when the session may have called it again).
  useLayoutEffect(() => {
    const known = new Set(session.mine().map((e) => e.summary.id));
    const timer = setInterval(() => (now.value = Date.now()), 1000);
    const offKey = shares.onKey((k) => {
      key.value = k;
      now.value = Date.now();
    });
    const offSession = session.subscribe(() => {
      // The caller joined: open their conversation. Unsubscribed first: selecting
      // it notifies the session's subscribers again, this one included.
      const joined = session.mine().find((e) => !known.has(e.summary.id) && e.summary.status === "active" && session.isMine(e.summary));
      if (joined) {
        offSession();
        close();
        session.select(joined.summary.id);
        toast("The caller joined with the code.");
      }
    });
    if (!shares.createKey()) queueMicrotask(close);
    return () => {
      clearInterval(timer);
      offKey();
      offSession();
    };
  }, []);

  const choose = (value: Purpose) => {
    if (purpose.value === value) return;
    purpose.value = value;
    key.value = null;
    if (!shares.createKey(value)) close();
  };
  const k = key.value;
  const countdown = k ? keyCountdown(k.expiresAt, now.value) : null;
  return (
    <Modal labelledBy="key-title" testid="share-key-dialog" class="key-modal" onClose={close} initialFocus={closeRef}>
      <h2 id="key-title">Session key</h2>
      <div class="key-choice" role="group" aria-label="The caller is asked to">
        <button class="btn small" type="button" data-testid="share-key-for-screen" aria-pressed={purpose.value === "screen_share" ? "true" : "false"} onClick={() => choose("screen_share")}>
          Share their screen
        </button>
        <button class="btn small" type="button" data-testid="share-key-for-cobrowse" aria-pressed={purpose.value === "cobrowse" ? "true" : "false"} onClick={() => choose("cobrowse")}>
          Co-browse
        </button>
      </div>
      <p>
        {purpose.value === "cobrowse"
          ? "Read this code to the caller. On the website they open the chat, choose “I have a code” and type it; they are then asked to let you co-browse."
          : `Read this code to the caller. They open ${location.origin}/join (or “I have a code” in the chat) and type it.`}
      </p>
      <div class={countdown?.expired ? "key-code expired" : "key-code"} data-testid="share-key" data-key={k?.key}>
        {k ? k.key.replace(/(\d{3})(?=\d)/g, "$1 ") : "··· ··· ···"}
      </div>
      <p class="muted" data-testid="share-key-countdown">
        {countdown ? countdown.text : "Creating a code…"}
      </p>
      <div class="modal-actions">
        <button ref={closeRef} class="btn" type="button" data-testid="share-key-close" onClick={close}>
          Close
        </button>
      </div>
    </Modal>
  );
}

/** Opens the session-key dialog and asks the server for a code. */
export function openKeyDialog(shares: AgentShares, session: AgentSession, toast: (t: string) => void): void {
  openModal((close) => <KeyDialog shares={shares} session={session} toast={toast} close={close} />);
}
