// Before the console: the login form, and on a first login the form that
// replaces the password the server made up (and sets the name visitors see).

import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { Me } from "../protocol.gen";
import { ICONS } from "../ui/dom";
import { type HttpError, api } from "./api";
import { Icon } from "./components";

export function Logo() {
  return (
    <span class="logo">
      <span class="logo-mark" aria-hidden="true">
        <Icon paths={ICONS.chat} size={18} />
      </span>
      <span>Sightline</span>
    </span>
  );
}

/** A form's error line: hidden while there is none. */
function FormError({ text, testid }: { text: string | null; testid: string }) {
  return (
    <p class="form-error" role="alert" data-testid={testid} hidden={text === null}>
      {text ?? ""}
    </p>
  );
}

export function LoginForm({ message, onEnter }: { message?: string; onEnter: (me: Me, password: string) => void }) {
  const name = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);
  const error = useSignal<string | null>(message || null);
  const busy = useSignal(false);
  useLayoutEffect(() => name.current?.focus(), []);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const pw = password.current as HTMLInputElement;
    busy.value = true;
    error.value = null;
    try {
      const me = await api.login((name.current as HTMLInputElement).value.trim(), pw.value);
      onEnter(me, pw.value);
    } catch (e) {
      const err = e as HttpError;
      error.value = err.status === 401 ? err.message || "Wrong name or password." : err.message;
      busy.value = false;
      pw.select();
    }
  };
  return (
    <div class="login-wrap">
      <form class="login-card" data-testid="login-form" onSubmit={submit}>
        <Logo />
        <h1>Sign in to the console</h1>
        <p class="muted">Answer your visitors in real time.</p>
        <label class="field" for="login-name">
          <span>Name</span>
          <input ref={name} id="login-name" name="username" autocomplete="username" required data-testid="login-name" />
        </label>
        <label class="field" for="login-password">
          <span>Password</span>
          <input ref={password} id="login-password" name="password" type="password" autocomplete="current-password" required data-testid="login-password" />
        </label>
        <FormError text={error.value} testid="login-error" />
        <button class="btn primary wide" type="submit" data-testid="login-submit" disabled={busy.value}>
          Log in
        </button>
      </form>
    </div>
  );
}

export interface ChoosePasswordProps {
  me: Me;
  /** The password just typed at the login, when there was one: then it is not asked again. */
  currentPassword?: string;
  /** The password is changed: into the console as `me`. */
  onDone: (me: Me) => void;
  /** The server no longer knows this session. */
  onSessionEnded: () => void;
  onLogout: () => void;
}

/**
 * The password the server made up (the first admin's, printed once) must be
 * replaced before anything else; the server refuses everything but this until then.
 */
export function ChoosePasswordForm({ me, currentPassword, onDone, onSessionEnded, onLogout }: ChoosePasswordProps) {
  const current = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);
  const confirm = useRef<HTMLInputElement>(null);
  const displayName = useRef<HTMLInputElement>(null);
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const asksCurrent = currentPassword === undefined;
  useLayoutEffect(() => (asksCurrent ? current : password).current?.focus(), []);
  const fail = (text: string) => {
    error.value = text;
    busy.value = false;
  };
  const submit = async (ev: Event) => {
    ev.preventDefault();
    error.value = null;
    const pw = (password.current as HTMLInputElement).value;
    if (pw !== (confirm.current as HTMLInputElement).value) return fail("The new passwords do not match.");
    busy.value = true;
    try {
      await api.setPassword(me.user.id, { current: (current.current as HTMLInputElement).value, password: pw });
      const name = (displayName.current as HTMLInputElement).value.trim();
      const next = name && name !== me.user.display_name ? await api.updateMe({ display_name: name, colour: me.user.colour }) : me;
      onDone({ ...next, user: { ...next.user, must_change_password: false } });
    } catch (e) {
      const err = e as HttpError;
      if (err.status === 401) return onSessionEnded();
      fail(err.message);
    }
  };
  const logout = async () => {
    try {
      await api.logout();
    } catch {
      /* the session is gone either way */
    }
    onLogout();
  };
  const field = (ref: typeof current, id: string, autocomplete: string, value?: string) => (
    <input ref={ref} id={id} name={id} type="password" autocomplete={autocomplete} required data-testid={id} defaultValue={value} />
  );
  return (
    <div class="login-wrap">
      <form class="login-card" data-testid="first-password-form" onSubmit={submit}>
        <Logo />
        <h1>Choose your own password</h1>
        <p class="muted">{`Welcome, ${me.user.display_name}. The password you used was shown only once; replace it with one only you know.`}</p>
        <label class="field" for="first-current" hidden={!asksCurrent}>
          <span>Current password</span>
          {field(current, "first-current", "current-password", currentPassword)}
        </label>
        <label class="field" for="first-display">
          <span>Your name, as visitors see it</span>
          <input ref={displayName} id="first-display" name="display_name" autocomplete="name" required maxLength={80} defaultValue={me.user.display_name} data-testid="first-display" />
        </label>
        <label class="field" for="first-password">
          <span>New password</span>
          {field(password, "first-password", "new-password")}
        </label>
        <label class="field" for="first-confirm">
          <span>Repeat new password</span>
          {field(confirm, "first-confirm", "new-password")}
        </label>
        <FormError text={error.value} testid="first-error" />
        <button class="btn primary wide" type="submit" data-testid="first-submit" disabled={busy.value}>
          Save and continue
        </button>
        <button class="btn ghost wide" type="button" data-testid="first-logout" onClick={logout}>
          Log out
        </button>
      </form>
    </div>
  );
}
