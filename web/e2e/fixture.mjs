// Per-file setup: one server, one browser; page errors and dialogs fail the test.

import { after, before } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, newPage, startServer } from "./harness.mjs";

/**
 * Registers before/after hooks and returns a live object:
 * { server, browser, base, page(label), problems }. Options: `allowedOrigins(stack)`,
 * `serverEnv`, `serverConfig` (TOML keys for the server's configuration file, see
 * harness.startServer), and hooks `beforeServer`, `afterServer`, `cleanup`.
 * Called inside a `describe`, the server lives as long as that suite.
 */
export function useStack(options = {}) {
  const stack = { problems: [] };
  before(async () => {
    if (options.beforeServer) await options.beforeServer(stack);
    stack.server = await startServer({
      allowedOrigins: options.allowedOrigins ? options.allowedOrigins(stack) : [],
      env: options.serverEnv || {},
      config: options.serverConfig || "",
    });
    stack.base = stack.server.url;
    stack.browser = await launchBrowser();
    stack.page = (label) => newPage(stack.browser, label, stack.problems);
    if (options.afterServer) await options.afterServer(stack);
  });
  after(async () => {
    await stack.browser?.close().catch(() => {});
    if (options.cleanup) await options.cleanup(stack);
    if (process.env.E2E_DEBUG && stack.server) console.log(stack.server.logs.join(""));
    await stack.server?.stop();
  });
  return stack;
}

/** Fails if any page logged an error or opened a dialog. */
export function assertNoProblems(stack) {
  assert.deepEqual(stack.problems, [], "no page errors or dialogs");
}
