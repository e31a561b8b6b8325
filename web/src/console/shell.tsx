// The console past its login: one AgentSession and the views bound to it
// (`ConsoleApp`), and the shell around them (`Shell`): the top bar with its
// pages, the connection's state, Available/Away and the less important actions,
// the page shown, notices and the screen reader's queue announcements.
//
// The pages are elements their views build and keep (the inbox, History, Admin,
// Install); the shell hosts the current one in <main> and routes by the URL's hash.

import { computed, signal, type ReadonlySignal, type Signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import type { Me, UserInfo } from "../protocol.gen";
import { AgentSession } from "../lib/agent-session";
import { visitorName } from "../lib/format";
import { reflectPermissions } from "./permissions";
import { CONSOLE_ICONS, type ConsoleIcon } from "./icons";
import { type HttpError, api, setCsrf, setUnauthorizedHandler } from "./api";
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
import { sessionState, type SessionState } from "./state";
import { Avatar, Icon, Slot } from "./components";
import { Logo } from "./login";
import { beep, desktopNotificationsOn, notifyNewVisitor, primeAudio, setTitleCount, toggleDesktopNotifications } from "./notify";

export type Page = "inbox" | "history" | "admin" | "install";

const AWAY_KEY = "sightline.away";
const SESSION_ENDED = "Your session has ended. Please log in again.";

/** Whether the agent chose Away, kept in this browser so that a reload keeps it. */
const awayStore = {
  get: () => {
    try {
      return localStorage.getItem(AWAY_KEY) === "1";
    } catch {
      return false;
    }
  },
  set: (away: boolean) => {
    try {
      localStorage.setItem(AWAY_KEY, away ? "1" : "0");
    } catch {
      // Storage blocked: the choice lasts as long as the page.
    }
  },
};

/**
 * The notices line. A plain element rather than a Preact one: on the inbox it
 * sits in the chat pane just above the composer (`InboxView.placeNotice`), a
 * part of the page the inbox owns; elsewhere at the shell's top right.
 */
class Notices {
  readonly el = document.createElement("div");
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.el.className = "toast";
    this.el.setAttribute("role", "status");
    this.el.setAttribute("aria-live", "polite");
    this.el.setAttribute("aria-label", "Notices");
    this.el.dataset.testid = "toast";
    this.el.hidden = true;
  }

  show(text: string): void {
    this.el.textContent = text;
    this.el.hidden = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.el.hidden = true), 5000);
  }
}

/** Everything that lives as long as one login: the session, the views, the listeners. */
export class ConsoleApp {
  readonly session: AgentSession;
  readonly state: SessionState;
  readonly user: Signal<UserInfo>;
  readonly page = signal<Page | null>(null);
  /** The "More" menu (on a phone) is open. */
  readonly menuOpen = signal(false);
  readonly notifyOn = signal(desktopNotificationsOn());
  /** Why notifications are off when the browser blocks them (the button's tooltip). */
  readonly notifyNote = signal<string | null>(null);
  /** Right after a switch: the server takes one a second. */
  readonly awayCooling = signal(false);
  /** What a screen reader says when a visitor joins the queue, on every page. */
  readonly announcement = signal("");
  /** Visitors waiting, for the Inbox tab's badge. */
  readonly waiting: ReadonlySignal<number>;
  readonly inbox: InboxView;
  readonly shareUi: ShareUi;
  readonly notices = new Notices();
  private readonly history: HistoryView;
  private readonly admin: AdminView;
  private readonly install: InstallView;
  private shellEl: HTMLElement | null = null;
  private viewEl: HTMLElement | null = null;
  private actionsEl: HTMLElement | null = null;
  private moreEl: HTMLElement | null = null;
  private readonly cleanups: (() => void)[] = [];
  private stopped = false;

  /** `ended` is told when the agent logs out or the server no longer knows the session (with why). */
  constructor(
    me: Me,
    private readonly ended: (message?: string) => void,
  ) {
    setCsrf(me.csrf_token);
    this.user = signal(me.user);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const session = (this.session = new AgentSession({ wsUrl: `${proto}//${location.host}/ws/agent`, awayStore }));
    this.state = sessionState(session);
    this.waiting = computed(() => {
      void this.state.revision.value; // the session changes its lists in place
      return session.waiting().length;
    });
    const toast = this.toast;

    const inbox = (this.inbox = new InboxView(session));
    const shareUi = (this.shareUi = new ShareUi(session, inbox));
    const cobrowseUi = new CobrowseUi(session, inbox);
    this.cleanups.push(() => cobrowseUi.dispose());
    const images = new ImagesUi({
      conversation: () => {
        const id = session.selected;
        const e = id ? session.get(id) : undefined;
        return e && session.mayWrite(e.summary) ? e.summary.id : null;
      },
      toast,
    });
    inbox.attachImages(images);
    this.cleanups.push(() => images.dispose(), () => inbox.dispose());
    const composer = inbox.composerParts();
    new SavedRepliesUi(composer.form, composer.input, inbox.tools, () => this.user.value, toast);
    shareUi.onSnapshot = (frame) => images.fromCanvas(frame);
    cobrowseUi.onSnapshot = (picture) => images.fromCanvas(picture, "Co-browse snapshot");
    cobrowseUi.onNotice = toast;
    this.history = new HistoryView(() => session.me);
    this.admin = new AdminView(() => this.user.value.id, toast);
    this.install = new InstallView(toast);

    // The chrome (title, link state, notices) and the inbox follow the session
    // once per task however many changes it made.
    let scheduled = false;
    const render = () => {
      scheduled = false;
      this.renderChrome();
      if (this.page.value === "inbox") inbox.render();
    };
    this.cleanups.push(
      session.subscribe(() => {
        if (scheduled) return;
        scheduled = true;
        queueMicrotask(render);
      }),
    );
    session.onNewWaiting((entry) => {
      beep();
      const id = entry.summary.id;
      const waiting = session.waiting().length;
      this.announcement.value = `New visitor waiting: ${visitorName(entry.summary)}. ${waiting === 1 ? "1 visitor" : `${waiting} visitors`} waiting.`;
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
      this.announcement.value = text;
      notifyNewVisitor(`${ev.by.display_name} handed you ${who}`, ev.note ?? "", `handover-${entry.summary.id}`, () => {
        location.hash = "#/inbox";
        session.select(entry.summary.id);
      });
    });
    session.onAuthLost(() => this.end(SESSION_ENDED));
    session.onLinkFailure((n) => {
      // The socket keeps failing: maybe the session expired.
      if (n >= 2)
        api.me().catch((e: HttpError) => {
          if (e.status === 401) this.end(SESSION_ENDED);
        });
    });
    setUnauthorizedHandler(() => this.end(SESSION_ENDED));
    // Keep user info fresh for admin rights, and the buttons for what the agent may use.
    this.cleanups.push(
      session.subscribe(() => {
        reflectPermissions(session.permissions);
        if (session.me && session.isAdmin !== this.user.value.is_admin) this.user.value = { ...this.user.value, is_admin: session.isAdmin };
      }),
    );

    this.listen(window, "hashchange", () => this.route());
    this.listen(window, "online", () => session.reconnectNow());
    const onGesture = () => primeAudio();
    this.listen(document, "pointerdown", onGesture, true);
    this.listen(document, "keydown", onGesture, true);
    // The "More" menu closes with Escape or a click outside it.
    this.listen(document, "keydown", (ev) => {
      if ((ev as KeyboardEvent).key === "Escape" && this.menuOpen.value) {
        this.menuOpen.value = false;
        this.moreEl?.focus();
      }
    });
    this.listen(document, "pointerdown", (ev) => {
      const t = ev.target as Node | null;
      if (t && !this.actionsEl?.contains(t) && !this.moreEl?.contains(t)) this.menuOpen.value = false;
    });
  }

  private listen(target: EventTarget, type: string, fn: (ev: Event) => void, capture = false): void {
    target.addEventListener(type, fn, capture);
    this.cleanups.push(() => target.removeEventListener(type, fn, capture));
  }

  readonly toast = (text: string): void => this.notices.show(text);

  /** Shows the page the URL names and connects; call once the shell is rendered. */
  start(): void {
    this.route();
    this.session.start();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const f of this.cleanups.splice(0)) f();
    this.shareUi.dispose();
    this.session.stop();
    setUnauthorizedHandler(() => undefined);
  }

  /** Stops, then hands back to the login (`message`: why). */
  private end(message?: string): void {
    // A late "session lost" (a socket's, an API answer's) after a logout is not this login's.
    if (this.stopped) return;
    this.stop();
    this.ended(message);
  }

  async logout(): Promise<void> {
    this.stop();
    try {
      await api.logout();
    } catch {
      /* the session is gone either way */
    }
    this.ended();
  }

  // Refs from the shell: where the pages and the notices go.
  readonly shellRef = (el: HTMLElement | null) => {
    this.shellEl = el;
    this.placePage();
  };
  readonly viewRef = (el: HTMLElement | null) => {
    this.viewEl = el;
    this.placePage();
  };
  readonly actionsRef = (el: HTMLElement | null) => {
    this.actionsEl = el;
  };
  readonly moreRef = (el: HTMLElement | null) => {
    this.moreEl = el;
  };

  route(): void {
    const hash = location.hash.replace(/^#\/?/, "");
    const [name, ...rest] = hash.split("/");
    const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
    const admin = this.user.value.is_admin;
    const next: Page = name === "history" || ((name === "admin" || name === "install") && admin) ? name : "inbox";
    this.page.value = next;
    this.placePage();
    // The inbox renders only while shown: what changed meanwhile (a new visitor
    // waiting while History was open) shows on coming back.
    if (next === "inbox") this.inbox.render();
    if (next === "history") this.history.show(arg);
    if (next === "admin") void this.admin.load();
    if (next === "install") void this.install.load();
    this.renderChrome();
  }

  /** Puts the current page's element in <main>, and the notices where that page has them. */
  private placePage(): void {
    const page = this.page.value;
    const view = this.viewEl;
    if (!page || !view || !this.shellEl) return;
    const el = page === "inbox" ? this.inbox.el : page === "history" ? this.history.el : page === "install" ? this.install.el : this.admin.el;
    if (view.firstChild !== el || view.childNodes.length !== 1) view.replaceChildren(el);
    // On the inbox, notices sit above the composer; elsewhere at the top right.
    if (page === "inbox") this.inbox.placeNotice(this.notices.el);
    else if (this.notices.el.parentElement !== this.shellEl) this.shellEl.appendChild(this.notices.el);
  }

  private renderChrome(): void {
    const session = this.session;
    const page = this.page.value;
    setTitleCount(session.waiting().length + session.unreadTotal(), page === "inbox" ? "" : page === "history" ? "History" : "Admin");
    if (session.notice) {
      this.toast(session.notice.text);
      session.notice = null;
    }
  }

  async toggleNotifications(): Promise<void> {
    const result = await toggleDesktopNotifications();
    this.notifyOn.value = desktopNotificationsOn();
    if (result === "blocked") {
      this.notifyNote.value = "This browser blocks notifications from this site: allow them in the site settings (the icon left of the address).";
      this.toast("The browser blocks notifications for this site. Allow them in the site settings, then try again.");
    } else {
      this.notifyNote.value = null;
      this.toast(result ? "You will get a desktop notification for each new visitor while this tab is hidden." : "Desktop notifications are off.");
    }
  }

  toggleAway(): void {
    // The server takes one switch a second (each may reach every visitor).
    this.awayCooling.value = true;
    setTimeout(() => (this.awayCooling.value = false), 1100);
    this.session.setAway(!this.session.away);
    this.toast(this.session.away ? "You are away. Visitors are told nobody is available unless a colleague is." : "You are available.");
  }

  changePassword(): void {
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
        await api.setPassword(this.user.value.id, { current: v.current, password: v.password });
        this.toast("Your password was changed.");
      },
    });
  }

  editProfile(): void {
    openProfileDialog(this.user.value, (saved) => {
      this.user.value = saved.user;
      this.toast("Your profile was saved.");
    });
  }
}

/**
 * A page's tab: an icon and a name; on a narrow screen only the icon shows (the
 * name stays for screen readers and as the tooltip).
 */
function Tab({ page, name, pic, current, hidden = false, children }: { page: Page; name: string; pic: ConsoleIcon; current: Page | null; hidden?: boolean; children?: ComponentChildren }) {
  return (
    <a href={`#/${page}`} data-testid={`nav-${page}`} title={name} hidden={hidden} aria-current={current === page ? "page" : undefined}>
      <Icon paths={CONSOLE_ICONS[pic]} size={18} class="tab-icon" />
      <span class="tab-label">{name}</span>
      {children}
    </a>
  );
}

/**
 * One of the top bar's less important actions: an icon with its name beside it
 * on a wide screen, the icon alone (name as tooltip) below 1440 px, and an item
 * of the menu behind "More" on a phone.
 */
function Action({ testid, pic, name, title = name, onClick, pressed }: { testid: string; pic: ConsoleIcon; name: string; title?: string; onClick: () => void; pressed?: boolean }) {
  return (
    <button class="btn ghost small top-action" type="button" data-testid={testid} title={title} aria-pressed={pressed} onClick={onClick}>
      <Icon paths={CONSOLE_ICONS[pic]} size={16} />
      <span class="btn-label">{name}</span>
    </button>
  );
}

const LINK_WORDS = { online: "Online", stopped: "Offline", connecting: "Connecting…" } as Record<string, string>;

export function Shell({ app }: { app: ConsoleApp }) {
  const { state } = app;
  const user = app.user.value;
  const page = app.page.value;
  const admin = user.is_admin;
  const waiting = app.waiting.value;
  const link = state.link.value;
  const away = state.away.value;
  const notifyOn = app.notifyOn.value;
  const menuOpen = app.menuOpen.value;
  const closeMenu = () => (app.menuOpen.value = false);
  return (
    <div class="shell" data-page={page ?? undefined} ref={app.shellRef}>
      <header class="topbar">
        <Slot el={app.inbox.drawerButton} />
        <Logo />
        <nav class="tabs" aria-label="Pages">
          <Tab page="inbox" name="Inbox" pic="inbox" current={page}>
            <span class="nav-badge" data-testid="nav-waiting" hidden={waiting === 0}>
              {String(waiting)}
            </span>
          </Tab>
          <Tab page="history" name="History" pic="history" current={page} />
          <Tab page="admin" name="Admin" pic="users" current={page} hidden={!admin} />
          <Tab page="install" name="Install" pic="code" current={page} hidden={!admin} />
        </nav>
        <span class="grow" />
        <span class="link-state" data-testid="link-state" role="status" aria-label="Connection" data-state={link}>
          {LINK_WORDS[link] ?? "Reconnecting…"}
        </span>
        {state.officeOpen.value ? null : (
          <span class="office-closed" data-testid="office-closed" role="status" title="Outside the office hours set in the configuration, visitors are told no one is available, whoever is online. Chats already open go on.">
            <Icon paths={CONSOLE_ICONS.clock} size={14} />
            <span class="office-label">Outside office hours</span>
          </span>
        )}
        {/* Available / Away keeps its word beside the dot at every width but a phone's, where it is the menu's first item. */}
        <div class={menuOpen ? "top-actions open" : "top-actions"} id="top-actions" data-testid="top-actions" ref={app.actionsRef}>
          <button
            class="btn ghost small away-toggle"
            type="button"
            data-testid="away-toggle"
            aria-pressed={away}
            data-away={String(away)}
            disabled={app.awayCooling.value}
            title={away ? "Away: visitors are told nobody is available (unless a colleague is). Click to be available." : "Available: visitors are told someone will answer. Click to be away."}
            onClick={() => app.toggleAway()}
          >
            {away ? "Away" : "Available"}
          </button>
          <Action
            testid="share-key-create"
            pic="key"
            name="Session key"
            title="Session key: a code for a caller to join you, to share their screen or to co-browse"
            onClick={() => {
              closeMenu();
              openKeyDialog(app.shareUi.shares, app.session, app.toast);
            }}
          />
          <Action
            testid="notify-toggle"
            pic={notifyOn ? "bell" : "bellOff"}
            name="Notifications"
            pressed={notifyOn}
            title={
              app.notifyNote.value ??
              (notifyOn ? "Desktop notifications are on: one for each new visitor while this tab is hidden. Click to turn off." : "Desktop notifications are off. Click for one for each new visitor while this tab is hidden.")
            }
            onClick={() => void app.toggleNotifications()}
          />
          <Action
            testid="change-password"
            pic="lock"
            name="Change password"
            onClick={() => {
              closeMenu();
              app.changePassword();
            }}
          />
          <Action
            testid="logout"
            pic="logOut"
            name="Log out"
            onClick={() => {
              closeMenu();
              void app.logout();
            }}
          />
        </div>
        <button
          class="btn ghost small icon-btn top-more"
          type="button"
          data-testid="top-more"
          aria-expanded={menuOpen}
          aria-controls="top-actions"
          aria-haspopup="true"
          title="More"
          aria-label="More"
          ref={app.moreRef}
          onClick={() => (app.menuOpen.value = !menuOpen)}
        >
          <Icon paths={CONSOLE_ICONS.more} size={18} />
        </button>
        <button class="me" type="button" data-testid="profile-open" title="Your name and colour, as visitors and colleagues see them" onClick={() => app.editProfile()}>
          <Avatar name={user.display_name} colour={user.colour} data-testid="me-avatar" data-colour={user.colour ?? ""} />
          <span class="me-name" data-testid="me-name">
            {user.display_name}
          </span>
        </button>
      </header>
      <main class="view" id="main" ref={app.viewRef} />
      <div class="sr-only" role="status" aria-live="polite" aria-label="Queue announcements" data-testid="queue-announcer">
        {app.announcement.value}
      </div>
    </div>
  );
}
