// A single-page app moves the visitor without loading a page: its router changes
// the address with history.pushState/replaceState, the browser's back and forward
// buttons fire popstate, a fragment fires hashchange. The widget watches for this
// on every page (the agent's details follow the visitor), and the co-browse
// bundle hears of the same changes from the widget rather than watching again.

/** What the watcher uses of the window (a stand-in in the unit tests). */
export interface RouteWindow {
  history: Pick<History, "pushState" | "replaceState">;
  location: { readonly href: string };
  addEventListener(type: "popstate" | "hashchange", fn: () => void): void;
  removeEventListener(type: "popstate" | "hashchange", fn: () => void): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: never): void;
}

/**
 * How long after a change the address is read: a router sets the title just
 * after the address, and a redirect replaces a route it has just pushed. Changes
 * meanwhile wait with it, so an app that rewrites its address all the time
 * (a search box, a scroll position) is reported at most twice a second, well
 * within the visitor's message allowance.
 */
export const ROUTE_SETTLE_MS = 500;

/**
 * Calls `onRoute` {@link ROUTE_SETTLE_MS} after the page's address changed, for
 * where it came to by then: at most once per wait, never for an address that
 * ends where it was. Returns the undo: our wrappers come out of `history`
 * unless the page wrapped them again since (its wrapper stays, and calls ours,
 * which then only passes the call on).
 */
export function watchRoutes(onRoute: () => void, w: RouteWindow = window): () => void {
  let timer: unknown;
  let last = w.location.href;
  let on = true;
  const changed = () => {
    if (!on || timer) return;
    timer = w.setTimeout(() => {
      timer = 0;
      if (w.location.href === last) return;
      last = w.location.href;
      onRoute();
    }, ROUTE_SETTLE_MS);
  };
  const events = ["popstate", "hashchange"] as const;
  for (const e of events) w.addEventListener(e, changed);
  const undo = (["pushState", "replaceState"] as const).map((name) => {
    const original = w.history[name];
    const wrapper = function (this: History, ...args: Parameters<History["pushState"]>) {
      const result = original.apply(this, args);
      changed();
      return result;
    };
    w.history[name] = wrapper;
    return () => {
      if (w.history[name] === wrapper) w.history[name] = original;
    };
  });
  return () => {
    on = false;
    w.clearTimeout(timer as never);
    for (const e of events) w.removeEventListener(e, changed);
    undo.forEach((u) => u());
  };
}
