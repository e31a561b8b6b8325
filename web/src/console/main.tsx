// The agent console: the login (and on a first login a new password), then the
// console itself (shell.tsx: the top bar and the Inbox / History / Admin /
// Install pages). One screen at a time is rendered into #app.

import { render } from "preact";
import type { Me } from "../protocol.gen";
import { type HttpError, api, setCsrf } from "./api";
import { ChoosePasswordForm, LoginForm } from "./login";
import { ConsoleApp, Shell } from "./shell";
import { setTitleCount } from "./notify";

const root = document.getElementById("app") as HTMLElement;

/** The console of the agent logged in, while there is one. */
let current: ConsoleApp | null = null;
/** Each screen shown is a fresh one (its fields empty, its first field focused). */
let shown = 0;

function showLogin(message?: string): void {
  current?.stop();
  current = null;
  setTitleCount(0, "Log in");
  render(<LoginForm key={++shown} message={message} onEnter={enter} />, root);
}

/** Into the console, or first to the new-password form when the server requires it. */
function enter(me: Me, currentPassword?: string): void {
  if (me.user.must_change_password) showChoosePassword(me, currentPassword);
  else startApp(me);
}

function showChoosePassword(me: Me, currentPassword?: string): void {
  setTitleCount(0, "Choose your password");
  setCsrf(me.csrf_token);
  render(<ChoosePasswordForm key={++shown} me={me} currentPassword={currentPassword} onDone={startApp} onSessionEnded={() => showLogin("Your session has ended. Please log in again.")} onLogout={() => showLogin()} />, root);
}

function startApp(me: Me): void {
  current?.stop();
  const app = new ConsoleApp(me, showLogin);
  current = app;
  render(<Shell key={++shown} app={app} />, root);
  app.start();
}

async function boot(): Promise<void> {
  try {
    enter(await api.me());
  } catch (e) {
    const err = e as HttpError;
    showLogin(err.status === 401 || err.status === undefined ? undefined : err.message);
  }
}

void boot();
