// Install (admins): the widget's snippet, the site origins it may be used on,
// the sites it was refused on lately, and the site policy (`policy-section.ts`).
// Origins are shown as text only.

import type { SiteSettings } from "../protocol.gen";
import { formatTime } from "../lib/format";
import { h, replaceChildren } from "../ui/dom";
import { api } from "./api";
import { PolicySection } from "./policy-section";

/** Longest origin the server stores (`MAX_SITE_ORIGIN_BYTES`). */
const MAX_ORIGIN = 255;

export class InstallView {
  readonly el: HTMLElement;
  private readonly snippet = h("pre", { class: "snippet", "data-testid": "install-snippet" });
  private readonly origins = h("ul", { class: "origin-list", "data-testid": "site-origins" });
  private readonly refused = h("ul", { class: "origin-list", "data-testid": "refused-origins" });
  private readonly error = h("p", { class: "form-error", role: "alert", "data-testid": "install-error", hidden: true });
  private readonly policy: PolicySection;

  constructor(private readonly toast: (text: string) => void) {
    this.policy = new PolicySection(toast);
    const copy = h("button", { class: "btn small", type: "button", "data-testid": "install-copy", text: "Copy" });
    copy.addEventListener("click", () => void this.copy());
    const input = h("input", { id: "site-origin", name: "origin", required: true, maxlength: String(MAX_ORIGIN), placeholder: "https://www.example.com", autocomplete: "off", "data-testid": "site-origin-input" });
    const form = h(
      "form",
      { class: "inline-form", "data-testid": "site-origin-form" },
      h("label", { class: "field", for: "site-origin" }, h("span", { text: "Add a site origin" }), input),
      h("button", { class: "btn primary", type: "submit", "data-testid": "site-origin-add", text: "Allow" }),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (await this.change("POST", input.value)) form.reset();
    });
    this.el = h(
      "div",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", { text: "Install" }), h("p", { class: "muted", text: "Put the chat widget on your website." })),
      this.error,
      h("section", { class: "card-section" }, h("h2", { text: "1. Add this to every page, before </body>" }), this.snippet, copy),
      h(
        "section",
        { class: "card-section" },
        h("h2", { text: "2. Allow the site's origin" }),
        h("p", { class: "muted", text: "The widget works only on these origins (and on this server's own pages). Changes apply at once." }),
        this.origins,
        form,
      ),
      h(
        "section",
        { class: "card-section" },
        h("h2", { text: "3. Optional: control the chat from your page" }),
        h("p", {
          class: "muted",
          text: "Identify logged-in users (their signature is HMAC-SHA256 over the id with the server's identity_secret, computed by your server), open or hide the chat, and listen to its events. See “The JavaScript API” in the README.",
        }),
        h("pre", {
          class: "snippet",
          "data-testid": "install-api",
          text: [
            `Sightline("identify", { id: "user-42", name: "Ada Lovelace",`,
            `  email: "ada@example.com", signature: "<computed by your server>" });`,
            `Sightline("open");  // also "close", "hide" (the launcher), "show"`,
            `Sightline("on", "message", (m) => console.log(m.agent, m.text));`,
            `// events: open, close, message, unread, identified, error`,
          ].join("\n"),
        }),
      ),
      h(
        "section",
        { class: "card-section" },
        h("h2", { text: "Refused lately" }),
        h("p", { class: "muted", text: "Sites the widget was refused on since the server started." }),
        this.refused,
      ),
      this.policy.el,
    );
  }

  async load(): Promise<void> {
    this.error.hidden = true;
    void this.policy.load();
    try {
      this.render(await api.siteSettings());
    } catch (e) {
      this.showError(e);
    }
  }

  private render(s: SiteSettings): void {
    // The first line queues calls to window.Sightline until widget.js has loaded.
    this.snippet.textContent =
      `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};</script>\n` +
      `<script src="${s.widget_url}" async data-title="Support" data-lang="en"></script>`;
    const rows = [
      ...s.configured_origins.map((o) => h("li", { "data-testid": "site-origin", "data-origin": o }, h("code", { text: o }), h("span", { class: "tag", text: "configuration" }))),
      ...s.stored_origins.map((o) =>
        h(
          "li",
          { "data-testid": "site-origin", "data-origin": o },
          h("code", { text: o }),
          h("button", { class: "btn small", type: "button", "data-testid": "site-origin-remove", text: "Remove", onclick: () => void this.change("DELETE", o) }),
        ),
      ),
    ];
    replaceChildren(this.origins, ...(rows.length ? rows : [h("li", { class: "muted", text: "None yet." })]));
    const refused = s.refused_origins.map((r) =>
      h(
        "li",
        { "data-testid": "refused-origin", "data-origin": r.origin },
        h("code", { text: r.origin }),
        h("span", { class: "muted", text: `${r.count}× · last ${formatTime(r.last_at)}` }),
        r.origin === "null"
          ? h("span", { class: "muted", text: "(a sandboxed frame or a file: page: cannot be allowed)" })
          : h("button", { class: "btn small", type: "button", "data-testid": "refused-origin-allow", text: "Allow", onclick: () => void this.change("POST", r.origin) }),
      ),
    );
    replaceChildren(this.refused, ...(refused.length ? refused : [h("li", { class: "muted", text: "None." })]));
  }

  private async change(method: "POST" | "DELETE", origin: string): Promise<boolean> {
    this.error.hidden = true;
    try {
      await api.siteOrigin(method, { origin: origin.trim() });
      this.toast(method === "POST" ? "Origin allowed." : "Origin removed.");
      await this.load();
      return true;
    } catch (e) {
      this.showError(e);
      return false;
    }
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.snippet.textContent || "");
      this.toast("Snippet copied.");
    } catch {
      // No clipboard (an insecure origin): select it for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(this.snippet);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      this.toast("Press Ctrl+C to copy the selected snippet.");
    }
  }

  private showError(e: unknown): void {
    this.error.textContent = (e as Error).message;
    this.error.hidden = false;
  }
}
