// The inbox: the queue (Waiting, Mine) on the left, the selected conversation on
// the right. Bound to an AgentSession; re-rendered on every change.

import { MAX_TEXT_CHARS, type ConversationSummary } from "../protocol.gen";
import type { AgentSession, ConversationEntry } from "../lib/agent-session";
import { charCount, formatAgo, visitorName } from "../lib/format";
import { ICONS, h, icon, replaceChildren } from "../ui/dom";
import { KeyedList, type Row } from "../ui/keyed";
import { transcriptRows } from "./transcript-view";
import { imageElement, type ImagesUi } from "./images";
import { CONSOLE_ICONS, iconButton, transcriptLink } from "./icons";
import { detailsPanel } from "./details";
import { openTransferDialog } from "./transfer";
import { ROLE_BADGE, openInviteDialog } from "./invite";

function initials(label: string): string {
  const digits = label.replace(/\D/g, "");
  return digits ? digits.slice(-2) : label.slice(0, 2).toUpperCase();
}

function hue(id: string): number {
  let x = 0;
  for (let i = 0; i < id.length; i++) x = (x * 33 + id.charCodeAt(i)) % 360;
  return x;
}

export function avatarFor(id: string, label: string): HTMLElement {
  const el = h("span", { class: "avatar", "aria-hidden": "true", text: initials(label) });
  el.style.setProperty("--h", String(hue(id)));
  return el;
}

export class InboxView {
  readonly el: HTMLElement;
  private readonly waitingList = h("ul", { class: "conv-list", "data-testid": "waiting-list" });
  private readonly mineList = h("ul", { class: "conv-list", "data-testid": "mine-list" });
  private readonly waitingCount = h("span", { class: "chip", "data-testid": "waiting-count", text: "0" });
  private readonly mineCount = h("span", { class: "chip", "data-testid": "mine-count", text: "0" });
  private readonly waitingEmpty = h("p", { class: "empty-note", text: "No one is waiting. Nice!" });
  private readonly mineEmpty = h("p", { class: "empty-note", text: "Accept a conversation to start chatting." });
  private readonly pane = h("section", { class: "chat", "data-testid": "chat-pane", "aria-label": "Conversation" });
  private readonly header = h("header", { class: "chat-head" });
  private readonly banner = h("div", { class: "chat-banner", hidden: true });
  /** The visitor's details, shown on demand under the header. */
  private readonly details = h("div", { class: "details-slot", "data-testid": "details-slot", hidden: true });
  private detailsOpen = false;
  private detailsSig = "";
  private readonly log = h("div", { class: "transcript", role: "log", "aria-live": "polite", "aria-label": "Messages", "data-testid": "transcript", tabindex: "0" });
  private readonly typing = h("div", { class: "typing-line", "data-testid": "typing", hidden: true });
  private readonly composer: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendBtn: HTMLButtonElement;
  private readonly counter = h("span", { class: "counter", "data-testid": "counter", hidden: true });
  private readonly linkForm: HTMLElement;
  private readonly linkUrl: HTMLInputElement;
  private readonly linkTitle: HTMLInputElement;
  private readonly linkToggle: HTMLButtonElement;
  /** "Reply" (to the visitor) or "Note" (agents only): the composer's two modes. */
  private noteMode = false;
  private readonly replyTab: HTMLButtonElement;
  private readonly noteTab: HTMLButtonElement;
  private readonly composerError = h("p", { class: "composer-error", role: "alert", "data-testid": "composer-error", hidden: true });
  private readonly emptyPane: HTMLElement;
  private readonly list = new KeyedList();
  private readonly waitingRows = new KeyedList();
  private readonly mineRows = new KeyedList();
  private shownId: string | null = null;
  private headerSig = "";
  private drafts = new Map<string, string>();
  private stick = true;
  /** The chat header's second line: a pending invitation ("Invitation sent · Withdraw"). */
  readonly headSlot = h("div", { class: "chat-head-status", "data-testid": "chat-head-status" });
  /** Opens the queue as a drawer (below 1024 px wide); main puts it in the top bar. */
  readonly drawerButton: HTMLButtonElement;
  private readonly queue: HTMLElement;
  private readonly railToggle: HTMLButtonElement;
  /** Extra composer tools (screen sharing puts its button here). */
  readonly tools = h("span", { class: "composer-tools" });
  private images: ImagesUi | null = null;
  /** Visitor pictures the agent chose to see (kept when rows are rebuilt). */
  private readonly revealed = new Set<string>();

  constructor(private readonly session: AgentSession) {
    this.input = h("textarea", { class: "composer-input", rows: "2", placeholder: "Write a reply… (Enter to send, Shift+Enter for a new line)", "aria-label": "Reply", "data-testid": "composer-input" });
    this.sendBtn = h("button", { class: "btn primary", type: "submit", "data-testid": "send", "aria-label": "Send reply" }, icon(ICONS.send, 16), h("span", { text: "Send" }));
    this.linkToggle = h("button", { class: "btn ghost icon-btn", type: "button", "aria-expanded": "false", "data-testid": "link-toggle", "aria-label": "Send link", title: "Send link" }, icon(ICONS.link, 16));
    this.linkUrl = h("input", { type: "url", placeholder: "https://…", "aria-label": "Link URL", "data-testid": "link-url" });
    this.linkTitle = h("input", { type: "text", placeholder: "Title (optional)", "aria-label": "Link title", maxlength: "200", "data-testid": "link-title" });
    const linkSend = h("button", { class: "btn", type: "button", "data-testid": "link-send", text: "Send link" });
    this.linkForm = h("div", { class: "link-form", hidden: true }, this.linkUrl, this.linkTitle, linkSend);
    this.replyTab = h("button", { class: "mode-tab", type: "button", role: "tab", "aria-selected": "true", "data-testid": "mode-reply", text: "Reply", onclick: () => this.setNoteMode(false) });
    this.noteTab = h("button", { class: "mode-tab mode-note", type: "button", role: "tab", "aria-selected": "false", "data-testid": "mode-note", title: "An internal note: only agents see it, never the visitor", text: "Note", onclick: () => this.setNoteMode(true) });
    this.composer = h(
      "form",
      { class: "composer", "data-testid": "composer" },
      h("div", { class: "mode-tabs", role: "tablist", "aria-label": "Write a reply or an internal note" }, this.replyTab, this.noteTab),
      this.linkForm,
      this.input,
      h("div", { class: "composer-bar" }, this.linkToggle, this.tools, this.counter, h("span", { class: "grow" }), this.sendBtn),
      this.composerError,
    );
    this.emptyPane = h(
      "div",
      { class: "chat-empty", "data-testid": "chat-empty" },
      icon(ICONS.chat, 40),
      h("h2", { text: "No conversation selected" }),
      h("p", { text: "Pick a waiting visitor from the queue to accept it, or one of yours to continue." }),
    );
    this.pane.append(this.header, this.banner, this.details, this.log, this.typing, this.composer, this.emptyPane);
    this.railToggle = h(
      "button",
      { class: "btn ghost icon-btn queue-toggle", type: "button", "data-testid": "queue-rail-toggle", "aria-expanded": "false", "aria-controls": "queue", title: "Show the queue", "aria-label": "Show the queue", onclick: () => this.openQueue(!this.queueOpen()) },
      icon(CONSOLE_ICONS.chevronsRight, 16),
    );
    this.drawerButton = h(
      "button",
      { class: "btn ghost icon-btn drawer-btn", type: "button", "data-testid": "queue-drawer-toggle", "aria-expanded": "false", title: "Queue", "aria-label": "Queue", onclick: () => this.openQueue(!this.queueOpen()) },
      icon(CONSOLE_ICONS.menu, 18),
    );
    this.queue = h(
      "aside",
      { class: "queue", id: "queue", "aria-label": "Queue", "data-testid": "queue" },
      this.railToggle,
      h("section", { "data-testid": "queue-waiting" }, h("h2", { class: "queue-title" }, h("span", { text: "Waiting" }), this.waitingCount), this.waitingList, this.waitingEmpty),
      h("section", { "data-testid": "queue-mine" }, h("h2", { class: "queue-title" }, h("span", { text: "Mine" }), this.mineCount), this.mineList, this.mineEmpty),
    );
    this.el = h("div", { class: "inbox" }, this.queue, this.pane);
    // The open drawer (or expanded rail) closes with Escape, a click outside it, or a choice in it.
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.queueOpen() && this.el.isConnected) {
        this.openQueue(false);
        this.drawerButton.focus();
      }
    });
    document.addEventListener("pointerdown", (ev) => {
      const t = ev.target as Node | null;
      if (!this.queueOpen() || !t || this.queue.contains(t) || this.drawerButton.contains(t)) return;
      this.openQueue(false);
    });
    this.queue.addEventListener("click", (ev) => {
      if ((ev.target as Element | null)?.closest?.("[data-testid=queue-item]")) this.openQueue(false);
    });

    this.composer.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.sendText();
    });
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.sendText();
      }
    });
    this.input.addEventListener("input", () => {
      if (this.shownId) {
        this.drafts.set(this.shownId, this.input.value);
        // A note being written is no business of the visitor's.
        if (!this.noteMode) this.session.typing(this.shownId, this.input.value.trim() === "");
      }
      this.updateCounter();
    });
    this.linkToggle.addEventListener("click", () => {
      const show = this.linkForm.hidden;
      this.linkForm.hidden = !show;
      this.linkToggle.setAttribute("aria-expanded", String(show));
      if (show) this.linkUrl.focus();
    });
    const sendLink = () => {
      if (!this.shownId) return;
      const r = this.session.sendLink(this.shownId, this.linkUrl.value, this.linkTitle.value);
      if (!r.ok) return this.showError(r.reason);
      this.linkUrl.value = "";
      this.linkTitle.value = "";
      this.linkForm.hidden = true;
      this.linkToggle.setAttribute("aria-expanded", "false");
      this.showError(null);
      this.stick = true;
      this.input.focus();
    };
    linkSend.addEventListener("click", sendLink);
    for (const el of [this.linkUrl, this.linkTitle]) {
      el.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          sendLink();
        }
      });
    }
    this.log.addEventListener("scroll", () => {
      this.stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 60;
    });
  }

  private queueOpen(): boolean {
    return this.el.classList.contains("queue-open");
  }

  /** Opens or closes the queue where it is folded away: the drawer below 1024 px, the rail beside a viewer. */
  openQueue(open: boolean): void {
    this.el.classList.toggle("queue-open", open);
    for (const b of [this.drawerButton, this.railToggle]) b.setAttribute("aria-expanded", String(open));
    const label = open ? "Hide the queue" : "Show the queue";
    this.railToggle.title = label;
    this.railToggle.setAttribute("aria-label", label);
    replaceChildren(this.railToggle, icon(open ? CONSOLE_ICONS.chevronsLeft : CONSOLE_ICONS.chevronsRight, 16));
  }

  /** Notices go just above the composer, in the flow: they never cover it. */
  placeNotice(el: HTMLElement): void {
    if (el.parentElement !== this.pane || el.nextSibling !== this.composer) this.pane.insertBefore(el, this.composer);
  }

  /** The composer's form and text, for tools that work on its text (saved replies). */
  composerParts(): { form: HTMLFormElement; input: HTMLTextAreaElement } {
    return { form: this.composer, input: this.input };
  }

  /** Pictures: the "Picture" button, paste and drop into the composer, thumbnails and "Edit". */
  attachImages(images: ImagesUi): void {
    this.images = images;
    const btn = iconButton("camera", "Picture: annotate a picture and send it (you can also paste or drop one here)", { class: "btn ghost icon-btn", "data-testid": "image-attach", onclick: () => images.pick() });
    this.tools.prepend(btn);
    this.input.addEventListener("paste", (ev) => {
      if (images.fromTransfer(ev.clipboardData)) ev.preventDefault();
    });
    this.pane.addEventListener("dragover", (ev) => {
      if (!this.composer.hidden && ev.dataTransfer && Array.from(ev.dataTransfer.types).includes("Files")) {
        ev.preventDefault();
        this.pane.classList.add("dropping");
      }
    });
    this.pane.addEventListener("dragleave", () => this.pane.classList.remove("dropping"));
    this.pane.addEventListener("drop", (ev) => {
      this.pane.classList.remove("dropping");
      if (this.composer.hidden) return;
      if (images.fromTransfer(ev.dataTransfer)) ev.preventDefault();
    });
    this.list.clear();
    this.render();
  }

  private showError(text: string | null): void {
    this.composerError.hidden = !text;
    this.composerError.textContent = text || "";
  }

  private updateCounter(): void {
    const n = charCount(this.input.value);
    this.counter.hidden = n < MAX_TEXT_CHARS - 400;
    this.counter.textContent = `${n} / ${MAX_TEXT_CHARS}`;
    this.counter.classList.toggle("over", n > MAX_TEXT_CHARS);
  }

  /** Switches the composer between replying to the visitor and writing a note for agents. */
  private setNoteMode(on: boolean): void {
    this.noteMode = on;
    this.composer.classList.toggle("note-mode", on);
    this.replyTab.setAttribute("aria-selected", String(!on));
    this.noteTab.setAttribute("aria-selected", String(on));
    this.input.placeholder = on ? "Write an internal note… only agents see it (Enter to save)" : "Write a reply… (Enter to send, Shift+Enter for a new line)";
    this.input.setAttribute("aria-label", on ? "Internal note" : "Reply");
    this.sendBtn.lastElementChild!.textContent = on ? "Add note" : "Send";
    this.sendBtn.setAttribute("aria-label", on ? "Add internal note" : "Send reply");
    this.tools.hidden = this.linkToggle.hidden = on;
    if (on) this.linkForm.hidden = true;
    this.input.focus();
  }

  private sendText(): void {
    if (!this.shownId) return;
    const r = this.noteMode ? this.session.sendNote(this.shownId, this.input.value) : this.session.sendText(this.shownId, this.input.value);
    if (!r.ok) {
      if (this.input.value.trim() !== "") this.showError(r.reason);
      return;
    }
    this.showError(null);
    this.input.value = "";
    this.drafts.delete(this.shownId);
    this.updateCounter();
    this.stick = true;
  }

  /** The conversation id of the focused queue button, if one has focus. */
  private focusedItemId(): string | null {
    const a = document.activeElement;
    return a instanceof HTMLElement && a.dataset.testid === "queue-item" && this.el.contains(a) ? (a.dataset.id ?? null) : null;
  }

  private queueButton(id: string): HTMLElement | null {
    for (const b of this.el.querySelectorAll<HTMLElement>("[data-testid=queue-item]")) if (b.dataset.id === id) return b;
    return null;
  }

  private itemRow(e: ConversationEntry): Row {
    const s = e.summary;
    const where = s.page ? s.page.title || s.page.url : "";
    const sig = [
      s.status,
      this.session.selected === s.id,
      e.unread,
      s.visitor_online,
      formatAgo(s.last_activity_at || s.created_at),
      s.preview ?? "",
      where,
      visitorName(s),
      e.invitedAs ?? "",
    ].join("\u0000");
    return { key: s.id, sig, build: () => this.item(e) };
  }

  private item(e: ConversationEntry): HTMLElement {
    const s = e.summary;
    const label = visitorName(s);
    const selected = this.session.selected === s.id;
    const where = s.page ? s.page.title || s.page.url : "";
    const btn = h(
      "button",
      {
        type: "button",
        class: `conv${selected ? " selected" : ""}${e.unread ? " has-unread" : ""}`,
        "data-testid": "queue-item",
        "data-id": s.id,
        "data-status": s.status,
        "aria-current": selected ? "true" : undefined,
        // The tooltip is what the folded rail (initials only) leaves out.
        title: [label, s.preview || (s.status === "waiting" ? "Waiting…" : ""), where].filter(Boolean).join(" · "),
        onclick: () => this.session.select(s.id),
      },
      h("span", { class: "avatar-wrap" }, avatarFor(s.id, label), h("span", { class: `presence ${s.visitor_online ? "on" : "off"}`, title: s.visitor_online ? "Online" : "Offline" })),
      h(
        "span",
        { class: "conv-main" },
        h("span", { class: "conv-top" }, h("span", { class: "conv-name", "data-testid": "queue-name", text: label }), h("time", { class: "conv-time", text: formatAgo(s.last_activity_at || s.created_at) })),
        h("span", { class: "conv-preview", "data-testid": "queue-preview", text: s.preview || (s.status === "waiting" ? "Waiting…" : "") }),
        where ? h("span", { class: "conv-page", text: where }) : null,
        // In a colleague's conversation: how.
        e.invitedAs && s.status === "active" ? h("span", { class: `tag invite-badge ${e.invitedAs}`, "data-testid": "invite-badge", text: ROLE_BADGE[e.invitedAs] }) : null,
      ),
      e.unread ? h("span", { class: "unread", "data-testid": "unread", "aria-label": `${e.unread} unread`, text: String(e.unread) }) : null,
      s.status === "closed" ? h("span", { class: "tag closed", text: "Closed" }) : null,
    );
    return h("li", null, btn);
  }

  render(): void {
    const s = this.session;
    const waiting = s.waiting();
    const mine = s.mine();
    this.waitingCount.textContent = String(waiting.length);
    this.mineCount.textContent = String(mine.length);
    this.waitingCount.classList.toggle("hot", waiting.length > 0);
    // Keyed: rows that did not change stay the same elements, so keyboard focus
    // (and hover) on the queue survives updates of other conversations.
    const focusedId = this.focusedItemId();
    this.waitingRows.update(this.waitingList, waiting.map((e) => this.itemRow(e)));
    this.mineRows.update(this.mineList, mine.map((e) => this.itemRow(e)));
    // A focused row that was rebuilt (its own conversation changed) gets focus back.
    if (focusedId !== null && this.focusedItemId() === null && (document.activeElement === null || document.activeElement === document.body)) {
      this.queueButton(focusedId)?.focus();
    }
    this.waitingEmpty.hidden = waiting.length > 0;
    this.mineEmpty.hidden = mine.length > 0;
    this.renderPane();
  }

  /** Shows (or hides) the visitor's details, rebuilt only when what they show changed. */
  private showDetails(sum: ConversationSummary): void {
    const sig = this.detailsOpen ? JSON.stringify([sum.id, sum.visitor, sum.visitor_email, sum.visitor_identity, sum.page]) : "";
    if (sig === this.detailsSig && this.details.hidden === !this.detailsOpen) return;
    this.detailsSig = sig;
    this.details.hidden = !this.detailsOpen;
    if (this.detailsOpen) replaceChildren(this.details, detailsPanel(sum, Date.now()));
    else this.details.replaceChildren();
  }

  private renderPane(): void {
    const s = this.session;
    const id = s.selected;
    const e = id ? s.get(id) : undefined;
    if (id !== this.shownId) {
      this.list.clear();
      this.headerSig = "";
      this.shownId = e ? id : null;
      this.input.value = (id && this.drafts.get(id)) || "";
      this.linkForm.hidden = true;
      if (this.noteMode) this.setNoteMode(false);
      this.showError(null);
      this.updateCounter();
      this.stick = true;
    }
    this.pane.classList.toggle("none", !e);
    this.emptyPane.hidden = !!e;
    this.header.hidden = this.log.hidden = this.composer.hidden = !e;
    if (!e) {
      this.typing.hidden = true;
      this.banner.hidden = true;
      return;
    }
    const sum = e.summary;
    const label = visitorName(sum);
    const mine = s.isMine(sum);
    const active = sum.status === "active" && mine;
    // Invited in by a colleague: how (observers only read; participants write too).
    const invited = sum.status === "active" ? s.invitedRole(sum) : null;
    const writes = s.mayWrite(sum);
    const owner = sum.agent?.display_name ?? "the agent handling it";
    const invitees = sum.invitees ?? [];
    // The page the visitor is on now (as they move), else where they started.
    const page = sum.visitor?.page ?? sum.page;
    const sig = [sum.id, sum.status, sum.visitor_online, page?.url, page?.title, sum.visitor_email, label, e.accepting, mine, invited, s.isAdmin, owner, JSON.stringify(invitees)].join("|");
    if (sig !== this.headerSig) {
      this.headerSig = sig;
      const pageInfo = page ? h("span", { class: "page-info", title: page.url, "data-testid": "chat-page", text: page.title ? `${page.title} — ${page.url}` : page.url }) : null;
      const actions: HTMLElement[] = [];
      if (sum.status === "waiting")
        actions.push(h("button", { class: "btn primary", type: "button", "data-testid": "accept", disabled: e.accepting, text: e.accepting ? "Accepting…" : "Accept", onclick: () => s.accept(sum.id) }));
      if (active)
        actions.push(
          h(
            "button",
            { class: "btn ghost", type: "button", "data-testid": "transfer", "aria-label": "Transfer", title: "Hand this conversation to a colleague or back to the queue", onclick: () => openTransferDialog(s, sum.id, label) },
            icon(CONSOLE_ICONS.transfer, 14),
            h("span", { class: "act-label", text: "Transfer" }),
          ),
        );
      if (sum.status === "active" && (mine || s.isAdmin) && !invited)
        actions.push(
          h(
            "button",
            { class: "btn ghost", type: "button", "data-testid": "invite", "aria-label": "Invite a colleague", title: "Invite a colleague into this conversation, read-only or taking part", onclick: () => openInviteDialog(s, sum.id, label) },
            icon(CONSOLE_ICONS.userPlus, 14),
            h("span", { class: "act-label", text: "Invite" }),
          ),
        );
      if (invited)
        actions.push(h("button", { class: "btn ghost", type: "button", "data-testid": "leave-conversation", title: "Leave this conversation (it stays with its owner)", text: "Leave", onclick: () => s.leave(sum.id) }));
      if (active) actions.push(
          h("button", { class: "btn danger-ghost close-conv", type: "button", "data-testid": "close-conversation", title: "Close conversation", onclick: () => s.close(sum.id) }, h("span", { text: "Close" }), h("span", { class: "wide-only", text: " conversation" })),
        );
      if (sum.status === "closed") actions.push(h("button", { class: "btn", type: "button", "data-testid": "dismiss", text: "Dismiss", onclick: () => s.dismiss(sum.id) }));
      actions.unshift(
        h(
          "button",
          {
            class: "btn ghost icon-btn",
            type: "button",
            "data-testid": "details-toggle",
            "aria-expanded": String(this.detailsOpen),
            "aria-controls": "visitor-details",
            title: "Visitor details",
            "aria-label": "Visitor details",
            onclick: (ev: MouseEvent) => {
              this.detailsOpen = !this.detailsOpen;
              (ev.currentTarget as HTMLElement).setAttribute("aria-expanded", String(this.detailsOpen));
              this.detailsSig = "";
              this.showDetails(sum);
            },
          },
          icon(CONSOLE_ICONS.info, 16),
        ),
        transcriptLink(sum.id),
      );
      replaceChildren(
        this.header,
        avatarFor(sum.id, label),
        h(
          "div",
          { class: "chat-head-text" },
          h("h2", { "data-testid": "chat-title", text: label }),
          h(
            "p",
            { class: "muted" },
            h("span", { class: `status-pill ${sum.status}`, "data-testid": "chat-status", text: sum.status }),
            h("span", { class: `presence-text ${sum.visitor_online ? "on" : ""}`, "data-testid": "presence", text: sum.visitor_online ? "Online" : "Offline" }),
            // Plain text (never a mailto: link built from what a visitor typed).
            sum.visitor_email ? h("span", { class: "page-info", "data-testid": "chat-email", title: "Left by the visitor to be answered at", text: `✉ ${sum.visitor_email}` }) : null,
            pageInfo,
          ),
          // Who else is in it: the owner (for invitees) and the invitees, with their roles.
          invited || invitees.length
            ? h(
                "p",
                { class: "muted chat-people", "data-testid": "chat-people" },
                invited ? h("span", { text: `${owner}'s conversation` }) : null,
                ...invitees.map((i) => h("span", { class: `tag invite-badge ${i.role}`, "data-testid": "chat-invitee", title: ROLE_BADGE[i.role], text: `${i.agent.display_name} · ${ROLE_BADGE[i.role]}` })),
              )
            : null,
        ),
        h("div", { class: "chat-actions" }, ...actions),
        this.headSlot,
      );
    }
    // The visitor's details: rebuilt when what they show changes (they move, an address).
    this.showDetails(sum);
    // Banner: what the agent can do here.
    let banner = "";
    if (sum.status === "waiting") banner = "This visitor is waiting for an answer. Accept the conversation to reply.";
    else if (sum.status === "closed") banner = "This conversation is closed.";
    else if (invited === "observer") banner = `You are observing. Ask ${owner} to let you take part.`;
    this.banner.hidden = !banner;
    this.banner.textContent = banner;
    this.banner.classList.toggle("observing", invited === "observer");
    if (invited === "observer") this.banner.dataset.testid = "observer-notice";
    else delete this.banner.dataset.testid;
    if (sum.status === "waiting" && sum.preview && e.transcript.size === 0) {
      this.banner.appendChild(h("blockquote", { class: "preview-quote", "data-testid": "waiting-preview", text: sum.preview }));
    }

    this.list.update(
      this.log,
      transcriptRows(e.transcript.items(), {
        me: s.me,
        visitor: label,
        retry: (cid) => s.retry(sum.id, cid),
        discard: (cid) => s.discard(sum.id, cid),
        // A careful default: what visitors send stays hidden until the agent asks to see
        // it (it may be unwanted or private); the agent's own snapshots show at once.
        image: (ref, from) => {
          const images = this.images;
          return imageElement(ref, { hidden: from === "visitor", revealed: this.revealed, edit: active && images ? (r) => void images.fromImage(r) : undefined });
        },
        imageSig: String(active),
      }),
    );
    if (this.stick) this.log.scrollTop = this.log.scrollHeight;

    this.typing.hidden = !(e.visitorTyping.active && (active || !!invited));
    if (!this.typing.hidden) replaceChildren(this.typing, h("span", { class: "dots" }, h("i"), h("i"), h("i")), h("span", { text: `${label} is typing…` }));

    // Participants write (messages, pictures, notes); what asks the visitor for
    // something (a share, co-browsing, a screenshot, a page) stays with the owner.
    this.composer.hidden = !writes;
    this.composer.classList.toggle("as-invitee", writes && !mine);
  }
}
