// The site policy (admins, on the Install page): capabilities turned off for
// everyone, and CSS selectors of elements the widget keeps private on every page
// on top of `data-sightline-private`. Saved as a whole; the server checks the
// selectors and applies the change at once.

import { signal } from "@preact/signals";
import { MAX_PRIVATE_SELECTORS, MAX_PRIVATE_SELECTOR_BYTES, type Permissions, type SitePolicy } from "../protocol.gen";
import { PERMISSIONS } from "./admin";
import { api } from "./api";

/** The policy as the form shows it: what is ticked, the selectors' text, the last error. */
export class PolicyState {
  readonly allowed = signal<Permissions>({ screen_share: true, cobrowse: true, remote_control: true, session_keys: true });
  readonly selectors = signal("");
  readonly error = signal<string | null>(null);
  /**
   * Whether the stored policy has been read: until then the form is disabled, so
   * that what someone types is not replaced by the policy arriving after it.
   */
  readonly loaded = signal(false);

  constructor(private readonly toast: (text: string) => void) {}

  async load(): Promise<void> {
    this.error.value = null;
    this.loaded.value = false;
    try {
      this.show(await api.sitePolicy());
    } catch (e) {
      this.error.value = (e as Error).message;
    } finally {
      this.loaded.value = true;
    }
  }

  private show(policy: SitePolicy): void {
    this.allowed.value = { ...policy.allowed };
    this.selectors.value = policy.private_selectors.join("\n");
  }

  async save(): Promise<void> {
    this.error.value = null;
    const private_selectors = this.selectors.value
      .split("\n")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const tooLong = private_selectors.find((s) => new TextEncoder().encode(s).length > MAX_PRIVATE_SELECTOR_BYTES);
    if (tooLong) {
      this.error.value = `A selector is at most ${MAX_PRIVATE_SELECTOR_BYTES} bytes: ${tooLong.slice(0, 40)}…`;
      return;
    }
    try {
      this.show(await api.setSitePolicy({ allowed: this.allowed.value, private_selectors }));
      this.toast("Policy saved.");
    } catch (e) {
      this.error.value = (e as Error).message;
    }
  }
}

export function PolicySection({ state }: { state: PolicyState }) {
  const allowed = state.allowed.value;
  const waiting = !state.loaded.value;
  return (
    <section class="card-section" data-testid="policy-section">
      <h2>Policy</h2>
      <p class="muted">
        What matches a private selector never leaves the visitor's browser: blocked in co-browsing, blacked out of screen shares of the page, like elements marked data-sightline-private. Changes apply at once; a capability turned off ends where it is in use.
      </p>
      <form
        data-testid="policy-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void state.save();
        }}
      >
        <fieldset class="checks">
          <legend>Allowed for agents (an agent's own permissions, under Admin, can refuse more)</legend>
          {PERMISSIONS.map(([key, label]) => (
            <label class="check" for={`policy-${key}`} key={key}>
              <input type="checkbox" id={`policy-${key}`} name={key} data-testid={`policy-${key}`} disabled={waiting} checked={allowed[key]} onChange={(ev) => (state.allowed.value = { ...state.allowed.value, [key]: ev.currentTarget.checked })} />
              <span>{label}</span>
            </label>
          ))}
        </fieldset>
        <label class="field" for="policy-selectors">
          <span>{`Private selectors: one CSS selector a line, at most ${MAX_PRIVATE_SELECTORS}`}</span>
          <textarea
            id="policy-selectors"
            name="private_selectors"
            rows={4}
            spellcheck={false}
            placeholder={".account-balance\n#iban"}
            data-testid="policy-selectors"
            disabled={waiting}
            value={state.selectors.value}
            onInput={(ev) => (state.selectors.value = ev.currentTarget.value)}
          />
        </label>
        <p class="form-error" role="alert" data-testid="policy-error" hidden={state.error.value === null}>
          {state.error.value}
        </p>
        <button class="btn primary" type="submit" data-testid="policy-save" disabled={waiting}>
          Save policy
        </button>
      </form>
    </section>
  );
}
