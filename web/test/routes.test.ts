import { test } from "node:test";
import assert from "node:assert/strict";
import { ROUTE_SETTLE_MS, watchRoutes, type RouteWindow } from "../src/widget/routes";
import { FakeClock } from "./helpers";

/** A window whose history moves its location like a browser's, on a fake clock. */
class FakeWindow implements RouteWindow {
  readonly clock = new FakeClock();
  private entries = ["https://shop.example/app"];
  private index = 0;
  private listeners = new Map<string, Set<() => void>>();
  readonly location = { href: this.entries[0] };
  readonly history = {
    pushState: (_state: unknown, _unused: string, url?: string | URL | null) => {
      this.entries = [...this.entries.slice(0, this.index + 1), this.resolve(url)];
      this.index++;
      this.location.href = this.entries[this.index];
    },
    replaceState: (_state: unknown, _unused: string, url?: string | URL | null) => {
      this.entries[this.index] = this.resolve(url);
      this.location.href = this.entries[this.index];
    },
  };
  setTimeout = (fn: () => void, ms: number) => this.clock.setTimeout(fn, ms);
  clearTimeout = (handle: unknown) => this.clock.clearTimeout(handle);
  addEventListener(type: string, fn: () => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(fn);
  }
  removeEventListener(type: string, fn: () => void): void {
    this.listeners.get(type)?.delete(fn);
  }
  listening(type: string): number {
    return this.listeners.get(type)?.size ?? 0;
  }
  private resolve(url?: string | URL | null): string {
    return url == null ? this.location.href : new URL(String(url), this.location.href).href;
  }
  /** The browser's back button: the address changes, then popstate. */
  back(): void {
    this.index--;
    this.location.href = this.entries[this.index];
    for (const fn of this.listeners.get("popstate") ?? []) fn();
  }
  /** A link to a fragment: the address changes, then hashchange. */
  fragment(hash: string): void {
    this.history.pushState(null, "", hash);
    for (const fn of this.listeners.get("hashchange") ?? []) fn();
  }
}

function watch() {
  const w = new FakeWindow();
  const seen: string[] = [];
  const stop = watchRoutes(() => seen.push(w.location.href), w);
  return { w, seen, stop };
}

test("a route is read once the wait after its change is over, once for a burst of changes", () => {
  const { w, seen } = watch();
  w.history.pushState({}, "", "/app/cards");
  w.clock.advance(ROUTE_SETTLE_MS - 1);
  assert.deepEqual(seen, [], "not before the wait is over");
  // A router that redirects at once: the one report says where it came to.
  w.history.replaceState({}, "", "/app/cards/all");
  w.clock.advance(1);
  assert.deepEqual(seen, ["https://shop.example/app/cards/all"], "the address it came to");
  for (let i = 0; i < 50; i++) w.history.pushState({}, "", `/app/search?q=${i}`);
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.deepEqual(seen.slice(1), ["https://shop.example/app/search?q=49"], "fifty pushes in a row are one change");
});

test("an app that rewrites its address all the time is reported at most once per wait, ending where it is", () => {
  const { w, seen } = watch();
  // A change every 100 ms for 10 s (a scroll position kept in the address).
  for (let i = 0; i < 100; i++) {
    w.history.replaceState({}, "", `/app/article#y=${i}`);
    w.clock.advance(100);
  }
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.ok(seen.length <= 10_000 / ROUTE_SETTLE_MS + 1, `${seen.length} reports in 10 s`);
  assert.ok(seen.length >= 10_000 / ROUTE_SETTLE_MS - 1, `it kept up: ${seen.length} reports`);
  assert.equal(seen[seen.length - 1], "https://shop.example/app/article#y=99", "the last report is where it stopped");
});

test("an address that ends where it was is no change; replaceState with the same address neither", () => {
  const { w, seen } = watch();
  w.history.pushState({}, "", "/app/cards");
  w.back();
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.deepEqual(seen, [], "there and back within the wait");
  w.history.replaceState({ scroll: 120 }, "");
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.deepEqual(seen, [], "only the state changed");
});

test("back, forward and fragments are followed, as the history API is", () => {
  const { w, seen } = watch();
  w.history.pushState({}, "", "/app/cards");
  w.clock.advance(ROUTE_SETTLE_MS);
  w.back();
  w.clock.advance(ROUTE_SETTLE_MS);
  w.fragment("#help");
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.deepEqual(seen, ["https://shop.example/app/cards", "https://shop.example/app", "https://shop.example/app#help"]);
});

test("the page's own calls keep their receiver and result", () => {
  const w = new FakeWindow();
  let receiver: unknown = null;
  w.history.pushState = function (this: unknown) {
    receiver = this;
    return "done" as never;
  };
  watchRoutes(() => undefined, w);
  const result = w.history.pushState({}, "", "/x");
  assert.equal(result, "done");
  assert.equal(receiver, w.history);
});

test("the undo takes out our wrappers and listeners, and a wait under way", () => {
  const { w, seen, stop } = watch();
  const ours = w.history.pushState;
  w.history.pushState({}, "", "/app/cards");
  stop();
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.deepEqual(seen, [], "the pending change is dropped");
  assert.notEqual(w.history.pushState, ours, "the original is back");
  assert.equal(w.listening("popstate") + w.listening("hashchange"), 0);
  w.history.pushState({}, "", "/app/other");
  w.back();
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.deepEqual(seen, []);
});

test("the undo leaves a wrapper the page added later, and ours in it stays quiet", () => {
  const { w, seen, stop } = watch();
  const ours = w.history.pushState;
  let pageHeard = 0;
  // A router (or analytics) that wraps pushState after the widget did.
  const pages = function (this: unknown, ...args: Parameters<History["pushState"]>) {
    pageHeard++;
    return ours.apply(this, args);
  };
  w.history.pushState = pages;
  stop();
  assert.equal(w.history.pushState, pages, "the page's wrapper stays");
  w.history.pushState({}, "", "/app/cards");
  w.clock.advance(ROUTE_SETTLE_MS);
  assert.equal(pageHeard, 1);
  assert.equal(w.location.href, "https://shop.example/app/cards", "the call still reaches the browser");
  assert.deepEqual(seen, [], "but no longer reports");
});
