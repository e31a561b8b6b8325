// The browser side of lib/private-selectors: lib stays DOM-free (and tested in
// Node), this is what asks the document.

/** Whether the document can parse a selector (throws if not), for `usableSelectors`. */
export function domParses(selector: string): void {
  document.createDocumentFragment().querySelector(selector);
}
