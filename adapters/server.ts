/**
 * Starts a Respite server: an engine, its listeners on every `bind`
 * address and the Unix socket, the cron and signal handling, with
 * redis-server's log lines.
 */
import { Engine, RESPITE_VERSION, VERSION } from "../core/server/engine.ts";
import { Config } from "../core/config/config.ts";
import type { Accept, Backend, Listener } from "./backend.ts";
import { selectBackend } from "./select.ts";
import { chmod, detectRuntime, fileSystem, hostInfo, onSignals, removeStaleSocket } from "./host.ts";
import { NODE_V8_FLAGS, youngGenerationSized } from "./node-flags.ts";
import * as nodeFs from "node:fs";
import process from "node:process";
import { loadDataAtStartup } from "../core/persist/startup.ts";
import { startClusterMode, verifyClusterConfigWithData } from "../core/server/cluster-mode.ts";
import { ClusterBus } from "../core/cluster/bus.ts";
import { installSentinel } from "../core/sentinel/mode.ts";
import { applySentinelDirective } from "../core/sentinel/config.ts";

export interface RunningServer {
  engine: Engine;
  /** Stops listening and closes every client. */
  close(): void;
}

export interface StartOptions {
  config?: Config;
  /**
   * Install SIGINT/SIGTERM handlers, exit the process on SHUTDOWN, and run
   * collections that give back heap grown under load (the CLI does).
   */
  ownProcess?: boolean;
  /** Run as a Sentinel (`--sentinel`): the `sentinel ...` config lines, as words after "sentinel". */
  sentinel?: string[][];
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

/** TCP listeners by "host:port". */
type TcpListeners = Map<string, Listener>;
/** Listeners being opened; failedNow is set when a backend that binds synchronously (Bun, Deno) has already failed. */
type Binding = Promise<TcpListeners> & { failedNow?: boolean };

/**
 * Listens on port at every bind address (none for port 0), reusing the
 * listeners in `open` that are already there; a failing required address
 * fails the whole, and what it opened is closed again.
 */
function listenTcp(
  engine: Engine,
  backend: Backend,
  port: number,
  bind: string,
  accept: Accept,
  open: TcpListeners,
): Binding {
  const opening: Promise<[string, Listener, boolean] | null>[] = [];
  let failedNow = false;
  for (const { host, optional } of port === 0 ? [] : bindTargets(bind)) {
    const addr = `${host}:${port}`;
    const existing = open.get(addr);
    if (existing !== undefined) {
      opening.push(Promise.resolve([addr, existing, false]));
      continue;
    }
    const refused = (e: unknown) => {
      engine.log("warning", `Warning: Could not create server TCP listening socket ${addr}: ${(e as Error).message}`);
      // "-" marks an address to skip when it cannot be bound: no IPv6, or Bun/Deno's dual-stack "::"
      // colliding with the IPv4 wildcard bound just before (they cannot ask for IPV6_V6ONLY).
      if (optional) return null;
      throw e;
    };
    try {
      opening.push(
        backend.listenTcp(host, port, accept).then((l) => [addr, l, true] as [string, Listener, boolean], refused),
      );
    } catch (e) {
      if (!optional) failedNow = true;
      opening.push(Promise.resolve().then(() => refused(e)));
    }
  }
  const all = Promise.allSettled(opening).then((results) => {
    const opened = results.flatMap((r) => (r.status === "fulfilled" && r.value !== null ? [r.value] : []));
    const failure = results.find((r) => r.status === "rejected");
    if (failure === undefined) return new Map(opened.map(([addr, l]) => [addr, l]));
    for (const [, l, isNew] of opened) if (isNew) l.close();
    throw (failure as PromiseRejectedResult).reason;
  }) as Binding;
  all.failedNow = failedNow;
  return all;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const config = opts.config ?? new Config();
  const backend = await selectBackend(config.get("io"));
  const engine = new Engine({
    config,
    fs: fileSystem,
    host: hostInfo(backend.name, config.configFile, opts.ownProcess === true),
    logSink: logSinkFor(config),
    dialer: backend.dialer,
  });
  const pid = engine.host.pid;
  const sentinel = opts.sentinel ? installSentinel(engine, backend.dialer) : null;
  if (sentinel) { for (const words of opts.sentinel!) applySentinelDirective(sentinel, words); }
  // dir is where the dataset lives, as the working directory (the CLI has moved there already; an embedder may not have).
  const dir = config.get("dir");
  if (dir !== "" && fileSystem.resolve("", dir) !== fileSystem.cwd()) {
    fileSystem.chdir(dir);
    config.setMany([["dir", fileSystem.cwd()]], false);
  }
  engine.log("warning", "oO0OoO0OoO0Oo Respite is starting oO0OoO0OoO0Oo");
  engine.log(
    "warning",
    `Respite version=${RESPITE_VERSION} (Redis ${VERSION} compatible), runtime=${engine.host.runtime}, io=${backend.name}, pid=${pid}, just started`,
  );
  engine.log(
    "warning",
    config.configFile ? "Configuration loaded" : "Warning: no config file specified, using the default config.",
  );
  if (config.bool("always-show-logo") || process.stdout.isTTY) engine.logRaw(banner(engine, config.num("port")));
  /** The Unix socket and the gateway; the TCP listeners move with CONFIG SET port/bind. */
  const listeners: Listener[] = [];
  let tcp: TcpListeners = new Map();
  const unixPath = config.get("unixsocket");
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const l of [...tcp.values(), ...listeners]) l.close();
    engine.stop();
    engine.clusterBus?.stop();
    sentinel?.stop();
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
    onSignals((sig) => engine.shutdownOnSignal(sig));
    // A load that fails stops the process, as redis-server exits on a damaged file.
    engine.onFatal = (msg) => {
      for (const line of msg.split("\n")) engine.log("warning", line);
      close();
      engine.host.exit(1);
    };
  }
  // Cluster mode: nodes.conf read (or the new node's written) before any client can connect, as Redis's clusterInit.
  if (engine.cluster !== null && !startClusterMode(engine)) return { engine, close };
  const accept = engine.attach.bind(engine);
  const port = config.num("port");
  let bound = { port, bind: config.get("bind") };
  // The bus first: a client that gets an answer on the port finds the bus open too (as once redis-server serves).
  if (engine.cluster !== null) listeners.push(...(await startClusterBus(engine, backend, bound.bind)).values());
  tcp = await listenTcp(engine, backend, port, bound.bind, accept, tcp);
  // CONFIG SET port/bind moves the listeners: the new addresses are opened (keeping those that stay)
  // before the old ones close, so a failure leaves everything as it was; connected clients stay.
  const rebind = (get: (name: string) => string): string | null => {
    const previous = bound;
    const next = { port: Number(get("port")), bind: get("bind") };
    if (next.port === previous.port && next.bind === previous.bind) return null;
    const binding = listenTcp(engine, backend, next.port, next.bind, accept, tcp);
    if (binding.failedNow) {
      binding.catch(() => {});
      return next.port === previous.port
        ? "Failed to bind to specified addresses."
        : "Unable to listen on this port. Check server logs.";
    }
    bound = next;
    binding.then((opened) => {
      for (const [addr, l] of tcp) if (!opened.has(addr)) l.close();
      tcp = opened;
    }, () => {
      // Node binds after the reply has gone: a failure puts the old values back.
      bound = previous;
      config.setMany([["port", String(previous.port)], ["bind", previous.bind]], false);
    });
    return null;
  };
  config.onApply("port", rebind);
  config.onApply("bind", rebind);
  if (unixPath) {
    removeStaleSocket(unixPath);
    listeners.push(await backend.listenUnix(unixPath, accept));
    const perm = parseInt(config.get("unixsocketperm"), 8);
    if (perm) chmod(unixPath, perm);
  }
  if (config.bool("gateway") && !sentinel) {
    // Loaded only when on: Hono and the gateway are several MB of an idle server's memory.
    const { startGateway } = await import("./gateway.ts");
    const gateway = await startGateway(engine);
    if (gateway) listeners.push(gateway);
  }
  engine.log(
    "notice",
    `Running mode=${sentinel ? "sentinel" : engine.cluster !== null ? "cluster" : "standalone"}, port=${port}.`,
  );
  engine.start();
  if (sentinel) sentinel.start();
  else {
    // As Redis warns of system settings that cost it (overcommit_memory, THP) before "Server initialized".
    if (opts.ownProcess && detectRuntime() === "node" && !youngGenerationSized()) {
      engine.log(
        "warning",
        `WARNING Node was started without ${NODE_V8_FLAGS.join(" ")}: a large dataset under load will spend much of the time in garbage collection. Start it as \`node ${NODE_V8_FLAGS.join(" ")} dist/respite.mjs\`.`,
      );
    }
    engine.log("warning", "Server initialized");
    await loadDataAtStartup(engine);
    if (engine.cluster !== null) verifyClusterConfigWithData(engine);
  }
  // `replicaof` in the config: follow the primary, continuing from the loaded RDB's replication id and offset.
  engine.replica.startFromConfig(engine.persistence.loadedAux);
  if (port !== 0) engine.log("notice", "Ready to accept connections tcp");
  if (unixPath) engine.log("notice", "Ready to accept connections unix");
  return { engine, close };
}

/** Cluster mode: the bus listening on cluster-port (else port + 10000) at every bind address, and its cron running. */
async function startClusterBus(engine: Engine, backend: Backend, bind: string): Promise<TcpListeners> {
  const bus = new ClusterBus(engine);
  engine.clusterBus = bus;
  const cport = engine.config.num("cluster-port") || engine.config.num("port") + 10000;
  const listening = await listenTcp(engine, backend, cport, bind, (conn) => bus.accept(conn), new Map());
  bus.start();
  return listening;
}

/** What redis-server prints as its logo, with the same facts: version, mode, port and PID. */
function banner(engine: { host: { pid: number }; cluster: unknown }, port: number): string {
  return [
    "",
    `    Respite ${RESPITE_VERSION} (Redis ${VERSION} compatible) 64 bit`,
    `    Running in ${engine.cluster !== null ? "cluster" : "standalone"} mode`,
    `    Port: ${port}`,
    `    PID: ${engine.host.pid}`,
    "",
  ].join("\n");
}
