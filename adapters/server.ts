/**
 * Starts a Respite server: an engine, its listeners on every `bind`
 * address and the Unix socket, the cron and signal handling, with
 * redis-server's log lines.
 */
import { Engine, RESPITE_VERSION, VERSION } from "../core/server/engine.ts";
import { Config } from "../core/config/config.ts";
import type { Listener } from "./backend.ts";
import { selectBackend } from "./select.ts";
import { startGateway } from "./gateway.ts";
import { chmod, fileSystem, hostInfo, onSignals, removeStaleSocket } from "./host.ts";
import * as nodeFs from "node:fs";

export interface RunningServer {
  engine: Engine;
  /** Stops listening and closes every client. */
  close(): void;
}

export interface StartOptions {
  config?: Config;
  /** Install SIGINT/SIGTERM handlers and exit the process on SHUTDOWN (the CLI does). */
  ownProcess?: boolean;
}

function logSinkFor(config: Config): (line: string) => void {
  const file = config.get("logfile");
  if (!file) return (line) => console.log(line);
  return (line) => nodeFs.appendFileSync(file, line + "\n");
}

/** Maps Redis bind syntax to listen addresses: `*` all IPv4, `::*` all IPv6, a leading `-` = optional. */
function bindTargets(bind: string): { host: string; optional: boolean }[] {
  return bind.split(" ").filter(Boolean).map((b) => {
    const optional = b.startsWith("-");
    const addr = optional ? b.slice(1) : b;
    return { host: addr === "*" ? "0.0.0.0" : addr === "::*" ? "::" : addr, optional };
  });
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const config = opts.config ?? new Config();
  const backend = await selectBackend(config.get("io"));
  const engine = new Engine({
    config,
    fs: fileSystem,
    host: hostInfo(backend.name, config.configFile),
    logSink: logSinkFor(config),
  });
  const pid = engine.host.pid;
  engine.log("warning", "oO0OoO0OoO0Oo Respite is starting oO0OoO0OoO0Oo");
  engine.log(
    "warning",
    `Respite version=${RESPITE_VERSION} (Redis ${VERSION} compatible), runtime=${engine.host.runtime}, io=${backend.name}, pid=${pid}, just started`,
  );
  engine.log("warning", config.configFile ? "Configuration loaded" : "Warning: no config file specified, using the default config.");
  const listeners: Listener[] = [];
  const unixPath = config.get("unixsocket");
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const l of listeners) l.close();
    engine.stop();
    for (const c of [...engine.clients.values()]) engine.kill(c);
    if (unixPath) {
      engine.log("notice", "Removing the unix socket file.");
      removeStaleSocket(unixPath);
    }
  };
  engine.onShutdown = (code) => {
    close();
    if (opts.ownProcess) setTimeout(() => engine.host.exit(code), 10);
  };
  // Handlers go in before listening: a client may connect (and a supervisor
  // may signal) as soon as the socket exists.
  if (opts.ownProcess) {
    onSignals((sig) => {
      engine.log("warning", `Received ${sig} scheduling shutdown...`);
      engine.shutdown(0);
    });
  }
  const accept = engine.attach.bind(engine);
  const port = config.num("port");
  if (port !== 0) {
    for (const { host, optional } of bindTargets(config.get("bind"))) {
      try {
        listeners.push(await backend.listenTcp(host, port, accept));
      } catch (e) {
        engine.log("warning", `Warning: Could not create server TCP listening socket ${host}:${port}: ${(e as Error).message}`);
        // "-" marks an address to skip when it cannot be bound: no IPv6, or Bun/Deno's dual-stack "::"
        // colliding with the IPv4 wildcard bound just before (they cannot ask for IPV6_V6ONLY).
        if (optional) continue;
        throw e;
      }
    }
  }
  if (unixPath) {
    removeStaleSocket(unixPath);
    listeners.push(await backend.listenUnix(unixPath, accept));
    const perm = parseInt(config.get("unixsocketperm"), 8);
    if (perm) chmod(unixPath, perm);
  }
  if (config.bool("gateway")) {
    const gateway = await startGateway(engine);
    if (gateway) listeners.push(gateway);
  }
  engine.log("notice", `Running mode=standalone, port=${port}.`);
  engine.start();
  engine.log("warning", "Server initialized");
  if (port !== 0) engine.log("notice", "Ready to accept connections tcp");
  if (unixPath) engine.log("notice", "Ready to accept connections unix");
  return { engine, close };
}
