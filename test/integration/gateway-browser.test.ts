/**
 * End to end in a real browser on every runtime: Debian's Chromium, driven
 * by playwright-core, opens the gateway's demo page, subscribes, receives
 * a message published over RESP by redis-cli, is dropped by the server
 * (CLIENT KILL) while more messages are published, reconnects by itself
 * and shows the missed ones exactly once, in order. Without Chromium this
 * test fails: it does not skip.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { RUNTIMES, tmpDir } from "../lib/servers.ts";
import { type GatewayServer, startGateway } from "../lib/gateway.ts";

const CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

function redisCli(port: number, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("redis-cli", ["-p", String(port), ...args], (err, stdout) => (err ? reject(err) : resolve(stdout)));
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** The message lines the demo page has logged (not its own "(...)" notes). */
async function logged(page: Page): Promise<string[]> {
  const text = await page.locator("#log").textContent();
  return text!.split("\n").filter((l) => l && !l.startsWith("("));
}

async function waitLogged(page: Page, line: string): Promise<void> {
  await page.waitForFunction((l) => document.getElementById("log")!.textContent!.split("\n").includes(l), line, { timeout: 15_000 });
}

for (const rt of RUNTIMES) {
  describe(`gateway in a browser (${rt})`, () => {
    let g: GatewayServer;
    let browser: BrowserContext;
    before(async () => {
      g = await startGateway(rt, ["--gateway-history", "public:* 100 600"]);
      browser = await chromium.launchPersistentContext(tmpDir(), {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: CHROMIUM_FLAGS,
      });
    });
    after(async () => {
      await browser?.close();
      await g?.stop();
    });

    it("demo page: subscribe, live message from redis-cli, server-side drop, missed messages recovered once", async () => {
      const page = await browser.newPage();
      await page.goto(g.base + "/");
      await page.waitForFunction(() => document.getElementById("status")!.textContent === "open");
      await page.fill("#channel", "public:demo");
      await page.click("#subscribe button");
      await page.waitForFunction(() => document.getElementById("log")!.textContent!.includes("(subscribed to public:demo)"));
      assert.equal((await redisCli(g.server.port, ["PUBLISH", "public:demo", "hello"])).trim(), "1");
      await waitLogged(page, "public:demo: hello");

      const clients = await redisCli(g.server.port, ["CLIENT", "LIST"]);
      const id = /id=(\d+) .* sub=1 /.exec(clients)![1];
      // One redis-cli session: the browser is dropped and both messages are out before it can come back.
      await redisCli(g.server.port, [], `CLIENT KILL ID ${id}\nPUBLISH public:demo missed-1\nPUBLISH public:demo missed-2\n`);
      await waitLogged(page, "public:demo: missed-2");
      await page.waitForFunction(() => document.getElementById("status")!.textContent === "open");
      await redisCli(g.server.port, ["PUBLISH", "public:demo", "after"]);
      await waitLogged(page, "public:demo: after");
      assert.deepEqual(await logged(page), ["public:demo: hello", "public:demo: missed-1", "public:demo: missed-2", "public:demo: after"]);

      // The page's command box runs commands; this browser has the default (subscribe-only) access.
      await page.fill("#cmd", "GET somekey");
      await page.click("#command button");
      await page.waitForFunction(() => document.getElementById("result")!.textContent!.startsWith("error: NOPERM"));
      await page.close();
    });
  });
}
