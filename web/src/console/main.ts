// The agent console: login, then the inbox / history / admin pages.

import { reflectPermissions } from "./permissions";
import type { Me } from "../protocol.gen";
import { AgentSession } from "../lib/agent-session";
import { ICONS, h, icon, replaceChildren } from "../ui/dom";
import { CONSOLE_ICONS, type ConsoleIcon } from "./icons";
import { visitorName } from "../lib/format";
import { AVATAR_COLOURS, initials } from "../lib/avatar";
import { HttpError, api, setCsrf, setUnauthorizedHandler } from "./api";
import { AdminView } from "./admin";
import { InstallView } from "./install";
import { openForm } from "./dialog";
import { openProfileDialog } from "./profile";
import { HistoryView } from "./history";
import { SavedRepliesUi } from "./saved-replies";
import { InboxView } from "./inbox";
import { ImagesUi } from "./images";
import { CobrowseUi } from "./cobrowse";
import { ShareUi, openKeyDialog } from "./share";
import { beep, desktopNotificationsOn, notifyNewVisitor, primeAudio, setTitleCount, toggleDesktopNotifications } from "./notify";

const root = document.getElementById("app") as HTMLElement;

function logo(): HTMLElement {
  return h("span", { class: "logo" }, h("span", { class: "logo-mark", "aria-hidden": "true" }, icon(ICONS.chat, 18)), h("span", { text: "Sightline" }));
}

// ---------------------------------------------------------------- login

function showLogin(message?: string): void {
  setTitleCount(0, "Log in");
  const name = h("input", { id: "login-name", name: "username", autocomplete: "username", required: true, "data-testid": "login-name" });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "login-error", hidden: !message, text: message || "" });
  const submit = h("button", { class: "btn primary wide", type: "submit", "data-testid": "login-submit", text: "Log in" });
  const form = h(
    "form",
    { class: "login-card", "data-testid": "login-form" },
    logo(),
    h("h1", { text: "Sign in to the console" }),
    h("p", { class: "muted", text: "Answer your visitors in real time." }),
    h("label", { class: "field", for: "login-name" }, h("span", { text: "Name" }), name),
    h("label", { class: "field", for: "login-password" }, h("span", { text: "Password" }), password),
    error,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      const me = await api.login(name.value.trim(), password.value);
      enter(me, password.value);
    } catch (e) {
      const err = e as HttpError;
      error.textContent = err.status === 401 ? err.message || "Wrong name or password." : err.message;
      error.hidden = false;
      submit.disabled = false;
      password.select();
    }
  });
  replaceChildren(root, h("div", { class: "login-wrap" }, form));
  name.focus();
}

// ---------------------------------------------------------------- first login

/** Into the console, or first to the new-password form when the server requires it. */
function enter(me: Me, currentPassword?: string): void {
  if (me.user.must_change_password) showChoosePassword(me, currentPassword);
  else startApp(me);
}

/**
 * The password the server made up (the first admin's, printed once) must be
 * replaced before anything else; the server refuses everything but this until then.
 */
function showChoosePassword(me: Me, currentPassword?: string): void {
  setTitleCount(0, "Choose your password");
  setCsrf(me.csrf_token);
  const field = (id: string, autocomplete: string) =>
    h("input", { id, name: id, type: "password", autocomplete, required: true, "data-testid": id });
  const current = field("first-current", "current-password");
  const password = field("first-password", "new-password");
  const confirm = field("first-confirm", "new-password");
  const displayName = h("input", { id: "first-display", name: "display_name", autocomplete: "name", required: true, maxlength: 80, value: me.user.display_name, "data-testid": "first-display" });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "first-error", hidden: true });
  const submit = h("button", { class: "btn primary wide", type: "submit", "data-testid": "first-submit", text: "Save and continue" });
  const logout = h("button", { class: "btn ghost wide", type: "button", "data-testid": "first-logout", text: "Log out" });
  const form = h(
    "form",
    { class: "login-card", "data-testid": "first-password-form" },
    logo(),
    h("h1", { text: "Choose your own password" }),
    h("p", { class: "muted", text: `Welcome, ${me.user.display_name}. The password you used was shown only once; replace it with one only you know.` }),
    h("label", { class: "field", for: "first-current", hidden: currentPassword !== undefined }, h("span", { text: "Current password" }), current),
    h("label", { class: "field", for: "first-display" }, h("span", { text: "Your name, as visitors see it" }), displayName),
    h("label", { class: "field", for: "first-password" }, h("span", { text: "New password" }), password),
    h("label", { class: "field", for: "first-confirm" }, h("span", { text: "Repeat new password" }), confirm),
    error,
    submit,
    logout,
  );
  if (currentPassword !== undefined) current.value = currentPassword;
  const fail = (text: string) => {
    error.textContent = text;
    error.hidden = false;
    submit.disabled = false;
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (password.value !== confirm.value) return fail("The new passwords do not match.");
    submit.disabled = true;
    try {
      await api.setPassword(me.user.id, { current: current.value, password: password.value });
      const name = displayName.value.trim();
      const next = name && name !== me.user.display_name ? await api.updateMe({ display_name: name, colour: me.user.colour }) : me;
      startApp({ ...next, user: { ...next.user, must_change_password: false } });
    } catch (e) {
      const err = e as HttpError;
      if (err.status === 401) return showLogin("Your session has ended. Please log in again.");
      fail(err.message);
    }
  });
  logout.addEventListener("click", async () => {
    try {
      await api.logout();
    } catch {
      /* the session is gone either way */
    }
    showLogin();
  });
  replaceChildren(root, h("div", { class: "login-wrap" }, form));
  (currentPassword === undefined ? current : password).focus();
}

// ---------------------------------------------------------------- app

let current: { stop: () => void } | null = null;

function startApp(me: Me): void {
  current?.stop();
  setCsrf(me.csrf_token);
  let user = me.user;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const AWAY_KEY = "sightline.away";
  const session = new AgentSession({
    wsUrl: `${proto}//${location.host}/ws/agent`,
    awayStore: {
      get: () => {
        try {
          return localStorage.getItem(AWAY_KEY) === "1";
        } catch {
          return false;
        }
      },
      set: (away) => {
        try {
          localStorage.setItem(AWAY_KEY, away ? "1" : "0");
        } catch {
          // Storage blocked: the choice lasts as long as the page.
        }
      },
    },
  });

  // Toasts
  const toastEl = h("div", { class: "toast", role: "status", "aria-live": "polite", "aria-label": "Notices", "data-testid": "toast", hidden: true });
  // What a screen reader says when a visitor joins the queue, on every page of the console.
  const queueAnnouncer = h("div", { class: "sr-only", role: "status", "aria-live": "polite", "aria-label": "Queue announcements", "data-testid": "queue-announcer" });
  let toastTimer: ReturnType<typeof setTimeout> | null = null;
  const toast = (text: string) => {
    toastEl.textContent = text;
    toastEl.hidden = false;
    if (toastTimer) clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toastEl.hidden = true), 5000);
  };

  // Views
  const inbox = new InboxView(session);
  const shareUi = new ShareUi(session, inbox);
  const cobrowseUi = new CobrowseUi(session, inbox);
  const images = new ImagesUi({
    conversation: () => {
      const id = session.selected;
      const e = id ? session.get(id) : undefined;
      return e && session.mayWrite(e.summary) ? e.summary.id : null;
    },
    toast,
  });
  inbox.attachImages(images);
  const composer = inbox.composerParts();
  new SavedRepliesUi(composer.form, composer.input, inbox.tools, () => user, toast);
  shareUi.onSnapshot = (frame) => images.fromCanvas(frame);
  cobrowseUi.onSnapshot = (picture) => images.fromCanvas(picture, "Co-browse snapshot");
  cobrowseUi.onNotice = toast;
  const history = new HistoryView(() => session.me);
  const admin = new AdminView(() => user.id, toast);
  const install = new InstallView(toast);

  // Top bar
  const waitingBadge = h("span", { class: "nav-badge", "data-testid": "nav-waiting", hidden: true });
  // Each page's tab: an icon and a name; on a narrow screen only the icon shows
  // (the name stays for screen readers and as the tooltip).
  const tab = (page: string, name: string, pic: ConsoleIcon, hidden = false, ...extra: HTMLElement[]) =>
    h("a", { href: `#/${page}`, "data-testid": `nav-${page}`, title: name, hidden }, icon(CONSOLE_ICONS[pic], 18, "tab-icon"), h("span", { class: "tab-label", text: name }), ...extra);
  const navInbox = tab("inbox", "Inbox", "inbox", false, waitingBadge);
  const navHistory = tab("history", "History", "history");
  const navAdmin = tab("admin", "Admin", "users", !user.is_admin);
  const navInstall = tab("install", "Install", "code", !user.is_admin);
  const linkState = h("span", { class: "link-state", "data-testid": "link-state", role: "status", "aria-label": "Connection" });
  const meName = h("span", { class: "me-name", "data-testid": "me-name", text: user.display_name });
  const meAvatar = h("span", { class: "me-avatar", "aria-hidden": "true", "data-testid": "me-avatar" });
  const showMe = () => {
    meName.textContent = user.display_name;
    meAvatar.textContent = initials(user.display_name);
    const colour = user.colour ? AVATAR_COLOURS[user.colour] : null;
    meAvatar.style.background = colour?.hex ?? "";
    meAvatar.style.color = colour ? "#fff" : "";
    meAvatar.dataset.colour = user.colour ?? "";
  };
  showMe();
  const profileBtn = h("button", { class: "me", type: "button", "data-testid": "profile-open", title: "Your name and colour, as visitors and colleagues see them" }, meAvatar, meName);
  profileBtn.addEventListener("click", () =>
    openProfileDialog(user, (saved) => {
      user = saved.user;
      showMe();
      toast("Your profile was saved.");
    }),
  );
  // The top bar's less important actions: an icon with its name beside it on a
  // wide screen, the icon alone (name as tooltip) below 1440 px, and a menu
  // behind "More" on a phone.
  const action = (testid: string, pic: ConsoleIcon, name: string, title = name) =>
    h("button", { class: "btn ghost small top-action", type: "button", "data-testid": testid, title }, icon(CONSOLE_ICONS[pic], 16), h("span", { class: "btn-label", text: name }));
  const notifyBtn = action("notify-toggle", "bellOff", "Notifications");
  const showNotify = (note?: string) => {
    const on = desktopNotificationsOn();
    notifyBtn.setAttribute("aria-pressed", String(on));
    notifyBtn.replaceChild(icon(CONSOLE_ICONS[on ? "bell" : "bellOff"], 16), notifyBtn.firstChild as Node);
    notifyBtn.title = note ?? (on ? "Desktop notifications are on: one for each new visitor while this tab is hidden. Click to turn off." : "Desktop notifications are off. Click for one for each new visitor while this tab is hidden.");
  };
  showNotify();
  notifyBtn.addEventListener("click", async () => {
    const result = await toggleDesktopNotifications();
    if (result === "blocked") {
      showNotify("This browser blocks notifications from this site: allow them in the site settings (the icon left of the address).");
      toast("The browser blocks notifications for this site. Allow them in the site settings, then try again.");
    } else {
      showNotify();
      toast(result ? "You will get a desktop notification for each new visitor while this tab is hidden." : "Desktop notifications are off.");
    }
  });
  // Available or Away: visitors are told whether anyone is available.
  const awayBtn = h("button", { class: "btn ghost small away-toggle", type: "button", "data-testid": "away-toggle" });
  const showAway = () => {
    awayBtn.setAttribute("aria-pressed", String(session.away));
    awayBtn.dataset.away = String(session.away);
    awayBtn.textContent = session.away ? "Away" : "Available";
    awayBtn.title = session.away
      ? "Away: visitors are told nobody is available (unless a colleague is). Click to be available."
      : "Available: visitors are told someone will answer. Click to be away.";
  };
  showAway();
  session.subscribe(showAway);
  awayBtn.addEventListener("click", () => {
    // The server takes one switch a second (each may reach every visitor).
    awayBtn.disabled = true;
    setTimeout(() => (awayBtn.disabled = false), 1100);
    session.setAway(!session.away);
    toast(session.away ? "You are away. Visitors are told nobody is available unless a colleague is." : "You are available.");
  });
  const changePw = action("change-password", "lock", "Change password");
  const logout = action("logout", "logOut", "Log out");
  const keyBtn = action("share-key-create", "key", "Session key", "Session key: a code for a caller to join you, to share their screen or to co-browse");
  keyBtn.addEventListener("click", () => {
    closeMenu();
    openKeyDialog(shareUi.shares, session, toast);
  });
  // Available / Away keeps its word beside the dot at every width but a phone's, where it is the menu's first item.
  const actions = h("div", { class: "top-actions", id: "top-actions", "data-testid": "top-actions" }, awayBtn, keyBtn, notifyBtn, changePw, logout);
  const moreBtn = h(
    "button",
    { class: "btn ghost small icon-btn top-more", type: "button", "data-testid": "top-more", "aria-expanded": "false", "aria-controls": "top-actions", "aria-haspopup": "true", title: "More", "aria-label": "More" },
    icon(CONSOLE_ICONS.more, 18),
  );
  const openMenu = (open: boolean) => {
    actions.classList.toggle("open", open);
    moreBtn.setAttribute("aria-expanded", String(open));
  };
  const closeMenu = () => openMenu(false);
  moreBtn.addEventListener("click", () => openMenu(!actions.classList.contains("open")));
  for (const b of [changePw, logout]) b.addEventListener("click", closeMenu);
  const view = h("main", { class: "view", id: "main" });
  const shell = h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "topbar" },
      inbox.drawerButton,
      logo(),
      h("nav", { class: "tabs", "aria-label": "Pages" }, navInbox, navHistory, navAdmin, navInstall),
      h("span", { class: "grow" }),
      linkState,
      actions,
      moreBtn,
      profileBtn,
    ),
    view,
    toastEl,
    queueAnnouncer,
  );
  replaceChildren(root, shell);

  let page = "";
  function route(): void {
    const hash = location.hash.replace(/^#\/?/, "");
    const [name, ...rest] = hash.split("/");
    const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
    const next = name === "history" || ((name === "admin" || name === "install") && user.is_admin) ? name : "inbox";
    for (const [a, n] of [
      [navInbox, "inbox"],
      [navHistory, "history"],
      [navAdmin, "admin"],
      [navInstall, "install"],
    ] as const) {
      if (n === next) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (next !== page) {
      page = next;
      shell.dataset.page = page;
      replaceChildren(view, next === "inbox" ? inbox.el : next === "history" ? history.el : next === "install" ? install.el : admin.el);
      // On the inbox, notices sit above the composer; elsewhere at the top right.
      if (page === "inbox") inbox.placeNotice(toastEl);
      else if (toastEl.parentElement !== shell) shell.appendChild(toastEl);
    }
    // The inbox renders only while shown: what changed meanwhile (a new visitor
    // waiting while History was open) shows on coming back.
    if (next === "inbox") inbox.render();
    if (next === "history") history.show(arg);
    if (next === "admin") void admin.load();
    if (next === "install") void install.load();
    renderChrome();
  }

  function renderChrome(): void {
    const waiting = session.waiting().length;
    const unread = session.unreadTotal();
    waitingBadge.hidden = waiting === 0;
    waitingBadge.textContent = String(waiting);
    setTitleCount(waiting + unread, page === "inbox" ? "" : page === "history" ? "History" : "Admin");
    const state = session.link;
    linkState.dataset.state = state;
    linkState.textContent = state === "online" ? "Online" : state === "stopped" ? "Offline" : state === "connecting" ? "Connecting…" : "Reconnecting…";
    if (session.notice) {
      toast(session.notice.text);
      session.notice = null;
    }
  }

  let scheduled = false;
  const render = () => {
    scheduled = false;
    renderChrome();
    if (page === "inbox") inbox.render();
  };
  const offChange = session.subscribe(() => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  });
  session.onNewWaiting((entry) => {
    beep();
    const id = entry.summary.id;
    const waiting = session.waiting().length;
    queueAnnouncer.textContent = `New visitor waiting: ${visitorName(entry.summary)}. ${waiting === 1 ? "1 visitor" : `${waiting} visitors`} waiting.`;
    notifyNewVisitor(`New visitor: ${visitorName(entry.summary)}`, entry.summary.preview ?? entry.summary.page?.title ?? "", `waiting-${id}`, () => {
      location.hash = "#/inbox";
      session.select(id);
    });
  });
  session.onHandedToMe((entry, ev) => {
    beep();
    const who = visitorName(entry.summary);
    const text = `${ev.by.display_name} handed you ${who}${ev.note ? `: ${ev.note}` : "."}`;
    toast(text);
    queueAnnouncer.textContent = text;
    notifyNewVisitor(`${ev.by.display_name} handed you ${who}`, ev.note ?? "", `handover-${entry.summary.id}`, () => {
      location.hash = "#/inbox";
      session.select(entry.summary.id);
    });
  });
  session.onAuthLost(() => {
    stop();
    showLogin("Your session has ended. Please log in again.");
  });
  session.onLinkFailure((n) => {
    // The socket keeps failing: maybe the session expired.
    if (n >= 2)
      api.me().catch((e: HttpError) => {
        if (e.status === 401) {
          stop();
          showLogin("Your session has ended. Please log in again.");
        }
      });
  });
  setUnauthorizedHandler(() => {
    stop();
    showLogin("Your session has ended. Please log in again.");
  });

  changePw.addEventListener("click", () =>
    openForm({
      title: "Change your password",
      fields: [
        { name: "current", label: "Current password", type: "password", autocomplete: "current-password" },
        { name: "password", label: "New password", type: "password", autocomplete: "new-password" },
        { name: "confirm", label: "Repeat new password", type: "password", autocomplete: "new-password" },
      ],
      submitLabel: "Change password",
      onSubmit: async (v) => {
        if (v.password !== v.confirm) throw new Error("The new passwords do not match.");
        await api.setPassword(user.id, { current: v.current, password: v.password });
        toast("Your password was changed.");
      },
    }),
  );
  logout.addEventListener("click", async () => {
    stop();
    try {
      await api.logout();
    } catch {
      /* the session is gone either way */
    }
    showLogin();
  });

  const onHash = () => route();
  // The "More" menu closes with Escape or a click outside it.
  const onMenuKey = (ev: KeyboardEvent) => {
    if (ev.key === "Escape" && actions.classList.contains("open")) {
      closeMenu();
      moreBtn.focus();
    }
  };
  const onMenuPointer = (ev: PointerEvent) => {
    const t = ev.target as Node | null;
    if (t && !actions.contains(t) && !moreBtn.contains(t)) closeMenu();
  };
  document.addEventListener("keydown", onMenuKey);
  document.addEventListener("pointerdown", onMenuPointer);
  const onOnline = () => session.reconnectNow();
  const onGesture = () => primeAudio();
  window.addEventListener("hashchange", onHash);
  window.addEventListener("online", onOnline);
  document.addEventListener("pointerdown", onGesture, true);
  document.addEventListener("keydown", onGesture, true);

  function stop(): void {
    offChange();
    shareUi.shares.stop();
    session.stop();
    window.removeEventListener("hashchange", onHash);
    window.removeEventListener("online", onOnline);
    document.removeEventListener("pointerdown", onGesture, true);
    document.removeEventListener("keydown", onGesture, true);
    document.removeEventListener("keydown", onMenuKey);
    document.removeEventListener("pointerdown", onMenuPointer);
    setUnauthorizedHandler(() => undefined);
    if (current === handle) current = null;
  }
  const handle = { stop };
  current = handle;

  // Keep user info fresh for admin rights, and the buttons for what the agent may use.
  session.subscribe(() => {
    reflectPermissions(session.permissions);
    if (session.me && session.isAdmin !== user.is_admin) {
      user = { ...user, is_admin: session.isAdmin };
      navAdmin.hidden = navInstall.hidden = !user.is_admin;
    }
  });

  route();
  session.start();
}

// ---------------------------------------------------------------- boot

async function boot(): Promise<void> {
  try {
    enter(await api.me());
  } catch (e) {
    const err = e as HttpError;
    showLogin(err.status === 401 || err.status === undefined ? undefined : err.message);
  }
}

void boot();
