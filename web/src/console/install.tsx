// Install (admins): the widget's snippet, the site origins it may be used on,
// the sites it was refused on lately, and the site policy (`policy-section.tsx`).
// Origins are shown as text only.

import { render } from "preact";
import { signal, useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import type { SiteSettings } from "../protocol.gen";
import { formatTime } from "../lib/format";
import { api } from "./api";
import { PolicySection, PolicyState } from "./policy-section";

/** Longest origin the server stores (`MAX_SITE_ORIGIN_BYTES`). */
const MAX_ORIGIN = 255;

const API_EXAMPLE = [
  `Sightline("identify", { id: "user-42", name: "Ada Lovelace",`,
  `  email: "ada@example.com", signature: "<computed by your server>" });`,
  `Sightline("open");  // also "close", "hide" (the launcher), "show"`,
  `Sightline("on", "message", (m) => console.log(m.agent, m.text));`,
  `// events: open, close, message, unread, identified, error`,
].join("\n");

/** The snippet for a page, given where widget.js is served. */
export function installSnippet(widgetUrl: string): string {
  // The first line queues calls to window.Sightline until widget.js has loaded.
  return `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};</script>\n` + `<script src="${widgetUrl}" async data-title="Support" data-lang="en"></script>`;
}

class InstallState {
  readonly settings = signal<SiteSettings | null>(null);
  readonly error = signal<string | null>(null);
  readonly policy: PolicyState;

  constructor(readonly toast: (text: string) => void) {
    this.policy = new PolicyState(toast);
  }

  async load(): Promise<void> {
    this.error.value = null;
    void this.policy.load();
    try {
      this.settings.value = await api.siteSettings();
    } catch (e) {
      this.error.value = (e as Error).message;
    }
  }

  /** Allows or removes an origin; true when the server took it. */
  async change(method: "POST" | "DELETE", origin: string): Promise<boolean> {
    this.error.value = null;
    try {
      await api.siteOrigin(method, { origin: origin.trim() });
      this.toast(method === "POST" ? "Origin allowed." : "Origin removed.");
      await this.load();
      return true;
    } catch (e) {
      this.error.value = (e as Error).message;
      return false;
    }
  }
}

function Origins({ state }: { state: InstallState }) {
  const s = state.settings.value;
  const configured = s?.configured_origins ?? [];
  const stored = s?.stored_origins ?? [];
  return (
    <ul class="origin-list" data-testid="site-origins">
      {configured.map((o) => (
        <li key={`c:${o}`} data-testid="site-origin" data-origin={o}>
          <code>{o}</code>
          <span class="tag">configuration</span>
        </li>
      ))}
      {stored.map((o) => (
        <li key={`s:${o}`} data-testid="site-origin" data-origin={o}>
          <code>{o}</code>
          <button class="btn small" type="button" data-testid="site-origin-remove" onClick={() => void state.change("DELETE", o)}>
            Remove
          </button>
        </li>
      ))}
      {s && configured.length + stored.length === 0 ? <li class="muted">None yet.</li> : null}
    </ul>
  );
}

function Refused({ state }: { state: InstallState }) {
  const s = state.settings.value;
  const refused = s?.refused_origins ?? [];
  return (
    <ul class="origin-list" data-testid="refused-origins">
      {refused.map((r) => (
        <li key={r.origin} data-testid="refused-origin" data-origin={r.origin}>
          <code>{r.origin}</code>
          <span class="muted">{`${r.count}× · last ${formatTime(r.last_at)}`}</span>
          {r.origin === "null" ? (
            <span class="muted">(a sandboxed frame or a file: page: cannot be allowed)</span>
          ) : (
            <button class="btn small" type="button" data-testid="refused-origin-allow" onClick={() => void state.change("POST", r.origin)}>
              Allow
            </button>
          )}
        </li>
      ))}
      {s && refused.length === 0 ? <li class="muted">None.</li> : null}
    </ul>
  );
}

function AddOrigin({ state }: { state: InstallState }) {
  const origin = useSignal("");
  return (
    <form
      class="inline-form"
      data-testid="site-origin-form"
      onSubmit={async (ev) => {
        ev.preventDefault();
        if (await state.change("POST", origin.value)) origin.value = "";
      }}
    >
      <label class="field" for="site-origin">
        <span>Add a site origin</span>
        <input id="site-origin" name="origin" required maxLength={MAX_ORIGIN} placeholder="https://www.example.com" autocomplete="off" data-testid="site-origin-input" value={origin.value} onInput={(ev) => (origin.value = ev.currentTarget.value)} />
      </label>
      <button class="btn primary" type="submit" data-testid="site-origin-add">
        Allow
      </button>
    </form>
  );
}

function InstallPage({ state }: { state: InstallState }) {
  const snippet = useRef<HTMLPreElement>(null);
  const s = state.settings.value;
  const copy = async () => {
    const el = snippet.current;
    if (!el) return;
    try {
      await navigator.clipboard.writeText(el.textContent || "");
      state.toast("Snippet copied.");
    } catch {
      // No clipboard (an insecure origin): select it for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(el);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      state.toast("Press Ctrl+C to copy the selected snippet.");
    }
  };
  return (
    <>
      <div class="page-head">
        <h1>Install</h1>
        <p class="muted">Put the chat widget on your website.</p>
      </div>
      <p class="form-error" role="alert" data-testid="install-error" hidden={state.error.value === null}>
        {state.error.value}
      </p>
      <section class="card-section">
        <h2>{"1. Add this to every page, before </body>"}</h2>
        <pre class="snippet" data-testid="install-snippet" ref={snippet}>
          {s ? installSnippet(s.widget_url) : ""}
        </pre>
        <button class="btn small" type="button" data-testid="install-copy" onClick={() => void copy()}>
          Copy
        </button>
      </section>
      <section class="card-section">
        <h2>2. Allow the site's origin</h2>
        <p class="muted">The widget works only on these origins (and on this server's own pages). Changes apply at once.</p>
        <Origins state={state} />
        <AddOrigin state={state} />
      </section>
      <section class="card-section">
        <h2>3. Optional: control the chat from your page</h2>
        <p class="muted">
          Identify logged-in users (their signature is HMAC-SHA256 with the server's identity_secret over id, name and e-mail joined by line feeds, computed by your server), open or hide the chat, and listen to its events. See “The JavaScript API” in the README.
        </p>
        <pre class="snippet" data-testid="install-api">
          {API_EXAMPLE}
        </pre>
      </section>
      <section class="card-section">
        <h2>Refused lately</h2>
        <p class="muted">Sites the widget was refused on since the server started.</p>
        <Refused state={state} />
      </section>
      <PolicySection state={state.policy} />
    </>
  );
}

/** The Install page, for the console's router: `el` to show, `load` on each visit. */
export class InstallView {
  readonly el: HTMLElement = document.createElement("div");
  private readonly state: InstallState;

  constructor(toast: (text: string) => void) {
    this.state = new InstallState(toast);
    this.el.className = "page";
    render(<InstallPage state={this.state} />, this.el);
  }

  load(): Promise<void> {
    return this.state.load();
  }
}
