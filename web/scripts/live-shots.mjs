// Screenshots against the real server (SIGHTLINE_BIN): a short chat, seen from
// both sides.  node scripts/live-shots.mjs [outdir]

import { mkdirSync } from "node:fs";
import { acceptByPreview, agentSend, launchBrowser, login, openWidget, startServer, visitorSend, waitForWidgetTexts } from "../e2e/harness.mjs";

const out = process.argv[2] || "/tmp/sightline-live";
mkdirSync(out, { recursive: true });
const server = await startServer();
const browser = await launchBrowser();
try {
  const agentCtx = await browser.newContext({ viewport: { width: 1360, height: 820 } });
  const agent = await agentCtx.newPage();
  await login(agent, server.url, "admin", server.adminPassword);
  const visitorCtx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const visitor = await visitorCtx.newPage();
  await visitor.goto(server.url + "/demo/account");
  await openWidget(visitor);
  await visitorSend(visitor, "Hi! There is a payment to Adventure Fuel I don't recognise.");
  await waitForWidgetTexts(visitor, ["Hi! There is a payment to Adventure Fuel I don't recognise."]);
  await visitor.screenshot({ path: `${out}/1-visitor-waiting.png` });
  await agent.locator("[data-testid=queue-item]").first().click();
  await agent.waitForTimeout(300);
  await agent.screenshot({ path: `${out}/2-agent-waiting.png` });
  await acceptByPreview(agent, "Adventure Fuel");
  await agentSend(agent, "Hello Jordan, I can help with that. The payment is still pending.");
  await agent.locator("[data-testid=link-toggle]").click();
  await agent.locator("[data-testid=link-url]").fill("https://northwind.example/help/disputes");
  await agent.locator("[data-testid=link-title]").fill("How to dispute a card payment");
  await agent.locator("[data-testid=link-send]").click();
  await visitor.locator("[data-testid=input]").pressSequentially("Thanks, I'll", { delay: 30 });
  await agent.waitForTimeout(600);
  await agent.screenshot({ path: `${out}/3-agent-chat.png` });
  await visitor.screenshot({ path: `${out}/4-visitor-chat.png` });
  console.log(out);
} finally {
  await browser.close();
  await server.stop();
}
