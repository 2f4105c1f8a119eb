/**
 * What the real-browser tests share: Debian's Chromium launched headless
 * through playwright-core with flags that keep it quiet and offline, and
 * redis-cli for the server side of a scenario.
 */
import { execFile } from "node:child_process";
import { chromium, type BrowserContext } from "playwright-core";
import { tmpDir } from "./servers.ts";

export const CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

/** A headless Chromium with a fresh profile (fails, never skips, without /usr/bin/chromium). */
export function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tmpDir(), { executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS });
}

/** Runs redis-cli against port with args (and stdin for a session of several commands); resolves with its output. */
export function redisCli(port: number, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("redis-cli", ["-p", String(port), ...args], (err, stdout) => (err ? reject(err) : resolve(stdout)));
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}
