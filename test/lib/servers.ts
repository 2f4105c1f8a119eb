/**
 * Starts real servers for tests: Respite under Bun, Deno or Node (the built
 * dist/respite.mjs, which is what Node users run), and a real redis-server
 * as the oracle for differential tests. Each gets a free port.
 */
import { after, before } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_V8_FLAGS } from "../../adapters/node-flags.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "node_modules/.bin");

export type Runtime = "bun" | "deno" | "node";

/** RESPITE_RUNTIMES=bun,node limits the runtimes a run covers; all three by default. */
export const RUNTIMES: Runtime[] = (process.env.RESPITE_RUNTIMES ?? "bun,deno,node").split(",") as Runtime[];

export interface ServerHandle {
  port: number;
  host: string;
  unixsocket?: string;
  process: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Every server a test started, killed when the test process exits even if a test failed before stop(). */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Ports that test processes running side by side have claimed: a file per port holding its claimer's pid. */
const CLAIMS = path.join(os.tmpdir(), "respite-test-ports");
/** Default ports of the servers users run, which a test may start. */
const DEFAULT_PORTS = new Set([6379, 8080, 16379, 26379]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Claims port for this process; false while a live process holds it (a dead one's claim is taken over). */
function claim(port: number): boolean {
  const file = path.join(CLAIMS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return true;
    } catch {
      let holder: number;
      try {
        holder = Number(fs.readFileSync(file, "utf8"));
      } catch {
        continue; // removed meanwhile by a process taking it over
      }
      // Empty while its claimer is still writing it.
      if (!(holder > 0) || alive(holder)) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/**
 * A port in [lo, hi) that no other test process has claimed and nothing
 * listens on. Ports the kernel hands out (bind to 0) were free only when
 * asked: two test files running side by side could get the same one before
 * either server bound it, and the loser's readiness probe then reached the
 * winner's server. Claims fix that; below the kernel's ephemeral range
 * (32768-), no outbound socket takes the port before the server binds it.
 */
export async function reservePort(lo: number, hi: number, free = portFree): Promise<number> {
  fs.mkdirSync(CLAIMS, { recursive: true });
  for (let i = 0; i < 500; i++) {
    const p = lo + Math.floor(Math.random() * (hi - lo));
    if (!DEFAULT_PORTS.has(p) && claim(p) && (await free(p))) return p;
  }
  throw new Error(`no free port in ${lo}-${hi}`);
}

/** A server's port (cluster nodes take theirs from 16384-22768, their bus ports 10000 above). */
export function freePort(): Promise<number> {
  return reservePort(2000, 12000);
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "respite-test-"));
}

export function respiteCommand(runtime: Runtime): [string, string[]] {
  switch (runtime) {
    case "bun":
      return [path.join(BIN, "bun"), [path.join(ROOT, "adapters/cli.ts")]];
    case "deno":
      return [path.join(BIN, "deno"), ["run", "-A", "--quiet", path.join(ROOT, "adapters/cli.ts")]];
    case "node":
      return [process.execPath, [...NODE_V8_FLAGS, path.join(ROOT, "dist/respite.mjs")]];
  }
}

async function waitForPort(port: number, child: ChildProcess, out: () => string, unixsocket?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${out()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = unixsocket ? net.connect(unixsocket) : net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start listening on ${port}:\n${out()}`);
}

/** Runs a server command line exactly as given and waits until port (or unixsocket) accepts connections. */
export async function launch(cmd: string, args: string[], port: number, unixsocket?: string, cwd = ROOT): Promise<ServerHandle> {
  const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  await waitForPort(port, child, () => output, unixsocket);
  return {
    port,
    host: "127.0.0.1",
    unixsocket,
    process: child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

/**
 * Starts Respite under a runtime; extra args are redis-server style (--dir x --unixsocket y),
 * optionally led by a config file path, which goes first as redis-server wants it.
 */
export function startRespite(runtime: Runtime, extra: string[] = []): Promise<ServerHandle> {
  const [cmd, base] = respiteCommand(runtime);
  return startRespiteCommand(cmd, base, extra);
}

/** Starts the single executable `npm run compile` builds (at `binary`), with startRespite's flags. */
export function startCompiled(binary: string, extra: string[] = []): Promise<ServerHandle> {
  return startRespiteCommand(binary, [], extra);
}

async function startRespiteCommand(cmd: string, base: string[], extra: string[]): Promise<ServerHandle> {
  const port = await freePort();
  const file = extra.length && !extra[0].startsWith("-") ? extra.slice(0, 1) : [];
  // The gateway stays off unless a test asks for it, so parallel servers never race for port 8080.
  const gateway = extra.includes("--gateway-port") ? [] : ["--gateway", "no"];
  // Each server saves into a directory of its own, as startRedis does, unless the test or its config file names one.
  const dir = extra.includes("--dir") || file.length > 0 ? [] : ["--dir", tmpDir()];
  const args = [...base, ...file, "--port", String(port), "--bind", "127.0.0.1", "--enable-debug-command", "yes", ...gateway,
    ...dir, ...extra.slice(file.length)];
  const i = extra.indexOf("--unixsocket");
  return launch(cmd, args, port, i >= 0 ? extra[i + 1] : undefined);
}

/** Starts a real redis-server 7 with persistence off. */
export async function startRedis(extra: string[] = []): Promise<ServerHandle> {
  const port = await freePort();
  const dir = tmpDir();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
    "--enable-debug-command", "yes", ...extra];
  return launch("redis-server", args, port, undefined, dir);
}

/**
 * One real redis-server for a whole test file: started before its first test,
 * stopped after the last. Call the returned function inside tests.
 */
export function sharedRedis(extra: string[] = []): () => ServerHandle {
  let redis: ServerHandle | undefined;
  before(async () => {
    redis = await startRedis(extra);
  });
  after(async () => {
    await redis?.stop();
  });
  return () => redis!;
}
