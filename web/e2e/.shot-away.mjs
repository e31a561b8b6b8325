import { startServer, launchBrowser, login, openWidget, visitorSend, waitFor } from "./harness.mjs";
const server = await startServer();
const browser = await launchBrowser();
try {
  for (const [w, hgt, tag] of [[1280, 800, "desk"], [390, 844, "phone"]]) {
    const ctx = await browser.newContext({ viewport: { width: w, height: hgt } });
    const visitor = await ctx.newPage();
    await visitor.goto(server.url + "/demo");
    await openWidget(visitor);
    await visitorSend(visitor, "Is anyone there?");
    await visitor.locator("[data-testid=away]").waitFor({ state: "visible" });
    await visitor.screenshot({ path: `/tmp/shots/widget-away-${tag}.png` });
    await visitor.locator("[data-testid=email]").fill("vera@example.com");
    await visitor.locator("[data-testid=email-save]").click();
    await waitFor(async () => (await visitor.locator("[data-testid=away]").count()) === 0, "saved");
    await visitor.screenshot({ path: `/tmp/shots/widget-email-saved-${tag}.png` });
    const agent = await ctx.newPage();
    await login(agent, server.url, "admin", server.adminPassword);
    await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]").first().click();
    await agent.locator("[data-testid=chat-email]").waitFor();
    await agent.locator("[data-testid=away-toggle]").click();
    await agent.screenshot({ path: `/tmp/shots/console-away-${tag}.png` });
    await ctx.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
