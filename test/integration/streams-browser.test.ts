/**
 * The README's "Following a stream from a browser" example, run as written
 * in a real browser (Debian's Chromium via playwright-core) on every
 * runtime: the page follows a stream with XREAD BLOCK over the gateway's
 * WebSocket through /client.js, entries added by redis-cli appear; the
 * server drops the page's connection while more entries are added; the
 * client reconnects by itself and the page shows the missed entries, then
 * new ones, each exactly once and in order. Without Chromium this test
 * fails: it does not skip.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BrowserContext } from "playwright-core";
import { ROOT, RUNTIMES } from "../lib/servers.ts";
import { type GatewayServer, startGateway } from "../lib/gateway.ts";
import { launchChromium, redisCli } from "../lib/browser.ts";

/** The README example's module script, with its import made dynamic so it can run in page.evaluate. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("**Following a stream from a browser.**"));
  const code = /<script type="module">\n([\s\S]*?)<\/script>/.exec(section)![1];
  assert.match(code, /import \{ RespiteClient \} from "\/client\.js";/);
  return code.replace('import { RespiteClient } from "/client.js";', 'const { RespiteClient } = await import("/client.js");');
}

for (const rt of RUNTIMES) {
  describe(`following a stream from a browser (${rt})`, () => {
    let g: GatewayServer;
    let browser: BrowserContext;
    before(async () => {
      [g, browser] = await Promise.all([startGateway(rt, ["--gateway-default-access", "readonly"]), launchChromium()]);
    });
    after(() => Promise.all([browser?.close(), g?.stop()]));

    it("the README example shows every entry once, in order, across a server-side disconnect", async () => {
      const page = await browser.newPage();
      await page.goto(g.base + "/");
      const code = readmeExample();
      await page.evaluate(`(async () => {
        window.shown = [];
        const show = (id, fields) => window.shown.push(id + " " + fields.join(" "));
        localStorage.removeItem("events:last");
        ${code}
      })()`);
      const shown = () => page.evaluate(() => (window as unknown as { shown: string[] }).shown);
      const waitShown = (n: number) => page.waitForFunction((k) => (window as unknown as { shown: string[] }).shown.length >= k, n, { timeout: 15_000 });
      // Wait until the page's XREAD is blocked, then add.
      const blocked = async () => {
        for (let i = 0; i < 300; i++) {
          if (/flags=b/.test(await redisCli(g.server.port, ["CLIENT", "LIST"]))) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error("the page never blocked");
      };
      await blocked();
      await redisCli(g.server.port, ["XADD", "events", "1-1", "type", "click"]);
      await waitShown(1);
      await blocked();
      const id = /id=(\d+) [^\n]*flags=b/.exec(await redisCli(g.server.port, ["CLIENT", "LIST"]))![1];
      // One redis-cli session: the page is dropped and two entries are added before it can come back.
      await redisCli(g.server.port, [], `CLIENT KILL ID ${id}\nXADD events 2-1 type missed-1\nXADD events 3-1 type missed-2\n`);
      await waitShown(3);
      await blocked();
      await redisCli(g.server.port, ["XADD", "events", "4-1", "type", "after"]);
      await waitShown(4);
      assert.deepEqual(await shown(), ["1-1 type click", "2-1 type missed-1", "3-1 type missed-2", "4-1 type after"]);
      assert.equal(await page.evaluate(() => localStorage.getItem("events:last")), "4-1");
      await page.close();
    });
  });
}
