/**
 * What a client of a Sentinel can run: the SENTINEL command with every
 * subcommand of redis-sentinel 7.0, and Sentinel's own PUBLISH (hello
 * messages only), INFO (with the # Sentinel section) and ROLE. The engine
 * keeps only these and the connection commands (see installSentinel).
 */
import type { Client } from "../server/client.ts";
import type { CommandDef } from "../commands/table.ts";
import { str } from "../util/bytes.ts";
import { infoText } from "../server/info.ts";
import { replyHelp } from "../commands/help.ts";
import { HELLO_CHANNEL, type Sentinel, SentinelError } from "./sentinel.ts";
import type { Instance } from "./instance.ts";
import { applySentinelDirective } from "./config.ts";

/** Commands a Sentinel answers besides SENTINEL (redis-sentinel 7.0's COMMAND LIST). */
export const SENTINEL_KEEPS = [
  "acl",
  "auth",
  "client",
  "command",
  "hello",
  "info",
  "ping",
  "psubscribe",
  "publish",
  "punsubscribe",
  "role",
  "sentinel",
  "shutdown",
  "subscribe",
  "unsubscribe",
];

const NO_MASTER = "ERR No such master with that name";

function replyInstance(c: Client, _s: Sentinel, ri: Instance): void {
  const now = Date.now();
  const f: [string, string | number][] = [
    ["name", ri.name],
    ["ip", ri.ip],
    ["port", ri.port],
    ["runid", ri.runid],
    ["flags", ri.flagString()],
    ["link-pending-commands", ri.link.pendingCommands],
    ["link-refcount", 1],
  ];
  if (ri.flags.failoverInProgress) f.push(["failover-state", ri.failoverState]);
  f.push(
    ["last-ping-sent", ri.actPingTime ? now - ri.actPingTime : 0],
    ["last-ok-ping-reply", now - ri.lastAvailTime],
    ["last-ping-reply", now - ri.lastPongTime],
  );
  if (ri.flags.sdown) f.push(["s-down-time", now - ri.sDownSince]);
  if (ri.flags.odown) f.push(["o-down-time", now - ri.oDownSince]);
  f.push(["down-after-milliseconds", ri.downAfter]);
  if (ri.kind !== "sentinel") {
    f.push(
      ["info-refresh", ri.infoRefresh ? now - ri.infoRefresh : 0],
      ["role-reported", ri.roleReported],
      ["role-reported-time", now - ri.roleReportedTime],
    );
  }
  if (ri.kind === "master") {
    f.push(
      ["config-epoch", ri.configEpoch],
      ["num-slaves", ri.replicas.size],
      ["num-other-sentinels", ri.sentinels.size],
      ["quorum", ri.quorum],
      ["failover-timeout", ri.failoverTimeout],
      ["parallel-syncs", ri.parallelSyncs],
    );
    if (ri.notificationScript) f.push(["notification-script", ri.notificationScript]);
    if (ri.clientReconfigScript) f.push(["client-reconfig-script", ri.clientReconfigScript]);
  }
  if (ri.kind === "slave") {
    f.push(
      ["master-link-down-time", ri.masterLinkDownTime],
      ["master-link-status", ri.slaveMasterLinkUp ? "ok" : "err"],
      ["master-host", ri.slaveMasterHost || "?"],
      ["master-port", ri.slaveMasterPort],
      ["slave-priority", ri.slavePriority],
      ["slave-repl-offset", ri.slaveReplOffset],
      ["replica-announced", ri.replicaAnnounced ? 1 : 0],
    );
  }
  if (ri.kind === "sentinel") {
    f.push(
      ["last-hello-message", now - ri.lastHelloTime],
      ["voted-leader", ri.leader || "?"],
      ["voted-leader-epoch", ri.leaderEpoch],
    );
  }
  c.out.map(f.length);
  for (const [k, v] of f) {
    c.out.bulkStr(k);
    c.out.bulkStr(String(v));
  }
}

/** SENTINEL PENDING-SCRIPTS: each queued job with its argv, whether it runs, and its timing. */
function pendingScripts(c: Client): void {
  const { jobs } = sentinelOf(c).scripts;
  const now = Date.now();
  c.out.array(jobs.length);
  for (const job of jobs) {
    c.out.map(5);
    c.out.bulkStr("argv");
    c.out.array(job.argv.length);
    for (const a of job.argv) c.out.bulkStr(a);
    c.out.bulkStr("flags");
    c.out.bulkStr(job.running ? "running" : "scheduled");
    c.out.bulkStr("pid");
    c.out.bulkStr(String(job.child?.pid ?? 0));
    c.out.bulkStr(job.running ? "run-time" : "run-delay");
    c.out.bulkStr(String(job.running ? now - job.startTime : Math.max(0, job.startTime ? job.startTime - now : 0)));
    c.out.bulkStr("retry-num");
    c.out.bulkStr(String(job.retryNum));
  }
}

function sentinelOf(c: Client): Sentinel {
  return c.engine.sentinel as Sentinel;
}

function arg(argv: Uint8Array[], i: number): string {
  return str(argv[i]);
}

function withMaster(run: (c: Client, s: Sentinel, m: Instance, argv: Uint8Array[]) => void): CommandDef["run"] {
  return (c, argv) => {
    const s = sentinelOf(c);
    const m = s.masters.get(arg(argv, 2));
    if (!m) return c.error(NO_MASTER);
    run(c, s, m, argv);
  };
}

function parseInt10(v: string): number | null {
  return /^-?\d+$/.test(v) ? Number(v) : null;
}

function setOptions(c: Client, s: Sentinel, m: Instance, argv: Uint8Array[]): void {
  // Applied one by one as redis-sentinel does: options before a bad one stay set (and are saved).
  const applied: string[] = [];
  const finish = (error: string | null) => {
    if (applied.length) s.flushConfig();
    for (const a of applied) s.event("warning", "+set", m, `%@ ${a}`);
    if (error === null) c.out.ok();
    else c.error(error);
  };
  for (let j = 3; j < argv.length; j++) {
    const opt = arg(argv, j).toLowerCase();
    const more = argv.length - 1 - j;
    if (opt === "rename-command" && more > 1) {
      const [from, to] = [arg(argv, j + 1), arg(argv, j + 2)];
      j += 2;
      if (from === "" || to === "") return finish(`ERR Invalid argument '' for SENTINEL SET '${opt}'`);
      m.renamed.delete(from.toLowerCase());
      if (from.toLowerCase() !== to.toLowerCase()) m.renamed.set(from.toLowerCase(), to);
      applied.push(`${arg(argv, j - 2)} ${from} ${to}`);
      continue;
    }
    if (more < 1) return finish(`ERR Unknown option or number of arguments for SENTINEL SET '${opt}'`);
    const val = arg(argv, ++j);
    const badValue = () => finish(`ERR Invalid argument '${val}' for SENTINEL SET '${opt}'`);
    const n = parseInt10(val);
    switch (opt) {
      case "down-after-milliseconds":
        if (n === null || n <= 0) return badValue();
        m.downAfter = n;
        for (const r of m.replicas.values()) r.downAfter = n;
        for (const x of m.sentinels.values()) x.downAfter = n;
        break;
      case "failover-timeout":
        if (n === null || n <= 0) return badValue();
        m.failoverTimeout = n;
        break;
      case "parallel-syncs":
        if (n === null || n <= 0) return badValue();
        m.parallelSyncs = n;
        break;
      case "quorum":
        if (n === null || n <= 0) return badValue();
        m.quorum = n;
        break;
      case "auth-pass":
      case "auth-user":
        if (opt === "auth-pass") m.authPass = val;
        else m.authUser = val;
        // The links authenticate again with the new credentials.
        m.closeLinks();
        for (const r of m.replicas.values()) r.closeLinks();
        break;
      case "master-reboot-down-after-period":
        if (n === null || n < 0) return badValue();
        m.rebootDownAfter = n;
        break;
      case "notification-script":
      case "client-reconfig-script":
        if (s.denyScriptsReconfig) {
          return finish(
            "ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration",
          );
        }
        if (val !== "" && !s.host.canExecute(val)) {
          return finish(
            opt === "notification-script"
              ? "ERR Notification script seems non existing or non executable"
              : "ERR Client reconfiguration script seems non existing or non executable",
          );
        }
        if (opt === "notification-script") m.notificationScript = val;
        else m.clientReconfigScript = val;
        break;
      default:
        return finish(`ERR Unknown option or number of arguments for SENTINEL SET '${opt}'`);
    }
    // The event names the option as the client spelled it, and hides a password.
    applied.push(`${arg(argv, j - 1)} ${opt === "auth-pass" ? "******" : val}`);
  }
  finish(null);
}

const SENTINEL_CONFIG_PARAMS = [
  "resolve-hostnames",
  "announce-hostnames",
  "announce-ip",
  "announce-port",
  "sentinel-user",
  "sentinel-pass",
];

function configValue(s: Sentinel, name: string): string {
  switch (name) {
    case "resolve-hostnames":
      return s.resolveHostnames ? "yes" : "no";
    case "announce-hostnames":
      return s.announceHostnames ? "yes" : "no";
    case "announce-ip":
      return s.announceIp;
    case "announce-port":
      return String(s.announcePort);
    case "sentinel-user":
      return s.sentinelUser;
    default:
      return s.sentinelPass;
  }
}

function sentinelConfig(c: Client, argv: Uint8Array[]): void {
  const s = sentinelOf(c);
  const sub = arg(argv, 2).toLowerCase();
  if (sub === "get" && argv.length === 4) {
    const pattern = arg(argv, 3);
    const re = new RegExp(
      "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
      "i",
    );
    const hits = SENTINEL_CONFIG_PARAMS.filter((p) => re.test(p));
    c.out.map(hits.length);
    for (const p of hits) {
      c.out.bulkStr(p);
      c.out.bulkStr(configValue(s, p));
    }
    return;
  }
  if (sub === "set" && argv.length >= 5 && argv.length % 2 === 1) {
    for (let i = 3; i < argv.length; i += 2) {
      const name = arg(argv, i).toLowerCase();
      const val = arg(argv, i + 1);
      const bad = () => c.error(`ERR Invalid value '${val}' to SENTINEL CONFIG SET '${name}'`);
      try {
        if (name === "announce-port") {
          const n = parseInt10(val);
          if (n === null || n < 0 || n > 65535) return bad();
          s.announcePort = n;
        } else if (SENTINEL_CONFIG_PARAMS.includes(name)) applySentinelDirective(s, [name, val]);
        else return c.error(`ERR Invalid argument '${name}' to SENTINEL CONFIG SET`);
      } catch (e) {
        if (e instanceof SentinelError) return bad();
        throw e;
      }
    }
    s.flushConfig();
    return c.out.ok();
  }
  c.error("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.");
}

function sub(name: string, arity: number, summary: string, run: CommandDef["run"]): CommandDef {
  return { name, arity, flags: "admin only_sentinel", group: "sentinel", since: "2.8.4", summary, run };
}

const HELP = [
  "CKQUORUM <master-name>",
  "    Check if the current Sentinel configuration is able to reach the quorum",
  "    needed to failover a master and the majority needed to authorize the",
  "    failover.",
  "CONFIG SET <param> <value>",
  "    Set a global Sentinel configuration parameter.",
  "CONFIG GET <param>",
  "    Get global Sentinel configuration parameter.",
  "DEBUG [<param> <value> ...]",
  "    Show a list of configurable time parameters and their values (milliseconds).",
  "    Or update current configurable parameters values (one or more).",
  "GET-MASTER-ADDR-BY-NAME <master-name>",
  "    Return the ip and port number of the master with that name.",
  "FAILOVER <master-name>",
  "    Manually failover a master node without asking for agreement from other",
  "    Sentinels",
  "FLUSHCONFIG",
  "    Force Sentinel to rewrite its configuration on disk, including the current",
  "    Sentinel state.",
  "INFO-CACHE <master-name>",
  "    Return last cached INFO output from masters and all its replicas.",
  "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
  "    Check if the master specified by ip:port is down from current Sentinel's",
  "    point of view.",
  "MASTER <master-name>",
  "    Show the state and info of the specified master.",
  "MASTERS",
  "    Show a list of monitored masters and their state.",
  "MONITOR <name> <ip> <port> <quorum>",
  "    Start monitoring a new master with the specified name, ip, port and quorum.",
  "MYID",
  "    Return the ID of the Sentinel instance.",
  "PENDING-SCRIPTS",
  "    Get pending scripts information.",
  "REMOVE <master-name>",
  "    Remove master from Sentinel's monitor list.",
  "REPLICAS <master-name>",
  "    Show a list of replicas for this master and their state.",
  "RESET <pattern>",
  "    Reset masters for specific master name matching this pattern.",
  "SENTINELS <master-name>",
  "    Show a list of Sentinel instances for this master and their state.",
  "SET <master-name> <option> <value> [<option> <value> ...]",
  "    Set configuration parameters for certain masters.",
  "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
  "    Simulate a Sentinel crash.",
];

function globToRegExp(p: string): RegExp {
  return new RegExp("^" + p.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
}

export const sentinelCommandDefs: CommandDef[] = [
  {
    name: "sentinel",
    arity: -2,
    flags: "admin only_sentinel",
    group: "sentinel",
    since: "2.8.4",
    summary: "A container for Sentinel commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("help", 2, "Show helpful text about the different subcommands", (c) => replyHelp(c, "sentinel", HELP)),
      sub("myid", 2, "Get the Sentinel instance ID", (c) => c.out.bulkStr(sentinelOf(c).myid)),
      sub("masters", 2, "List the monitored masters", (c) => {
        const s = sentinelOf(c);
        c.out.array(s.masters.size);
        for (const m of s.masters.values()) replyInstance(c, s, m);
      }),
      sub("master", 3, "Shows the state of a master", withMaster((c, s, m) => replyInstance(c, s, m))),
      ...["replicas", "slaves"].map((name) =>
        sub(
          name,
          3,
          "List the monitored replicas",
          withMaster((c, s, m) => {
            const shown = [...m.replicas.values()].filter((r) => r.replicaAnnounced);
            c.out.array(shown.length);
            for (const r of shown) replyInstance(c, s, r);
          }),
        )
      ),
      sub(
        "sentinels",
        3,
        "List the Sentinel instances",
        withMaster((c, s, m) => {
          c.out.array(m.sentinels.size);
          for (const x of m.sentinels.values()) replyInstance(c, s, x);
        }),
      ),
      sub("get-master-addr-by-name", 3, "Get port and address of a master", (c, argv) => {
        const s = sentinelOf(c);
        const m = s.masters.get(arg(argv, 2));
        if (!m) return c.out.nullArray();
        const [ip, port] = s.currentAddr(m);
        c.out.array(2);
        c.out.bulkStr(ip);
        c.out.bulkStr(String(port));
      }),
      sub("monitor", 6, "Start monitoring", (c, argv) => {
        const s = sentinelOf(c);
        const port = parseInt10(arg(argv, 4));
        const quorum = parseInt10(arg(argv, 5));
        if (port === null) return c.error("ERR Invalid port");
        if (quorum === null) return c.error("ERR Invalid quorum");
        if (quorum <= 0) return c.error("ERR Quorum must be 1 or greater.");
        if (port < 0 || port > 65535) return c.error("ERR Invalid port number.");
        try {
          const m = s.monitor(arg(argv, 2), arg(argv, 3), port, quorum);
          s.flushConfig();
          s.event("warning", "+monitor", m, `%@ quorum ${m.quorum}`);
          c.out.ok();
        } catch (e) {
          if (e instanceof SentinelError) return c.error(e.message);
          throw e;
        }
      }),
      sub(
        "remove",
        3,
        "Stop monitoring",
        withMaster((c, s, m) => {
          s.remove(m.name);
          c.out.ok();
        }),
      ),
      sub(
        "set",
        -5,
        "Change the configuration of a monitored master",
        withMaster((c, s, m, argv) => setOptions(c, s, m, argv)),
      ),
      sub("reset", 3, "Reset masters by name pattern", (c, argv) => {
        const s = sentinelOf(c);
        const re = globToRegExp(arg(argv, 2));
        let n = 0;
        for (const m of s.masters.values()) {
          if (!re.test(m.name)) continue;
          s.resetMaster(m, false, true);
          n++;
        }
        if (n) s.flushConfig();
        c.out.int(n);
      }),
      sub(
        "failover",
        3,
        "Force a failover",
        withMaster((c, s, m) => {
          if (m.flags.failoverInProgress) return c.error("INPROG Failover already in progress");
          if (s.selectReplica(m) === null) return c.error("NOGOODSLAVE No suitable replica to promote");
          c.engine.log("warning", `Executing user requested FAILOVER of '${m.name}'`);
          s.startFailover(m);
          m.flags.forceFailover = true;
          c.out.ok();
        }),
      ),
      sub(
        "ckquorum",
        3,
        "Check for a Sentinel quorum",
        withMaster((c, s, m) => {
          const [usable, quorum, majority] = s.quorumReachable(m);
          if (quorum && majority) {
            return c.out.simple(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`);
          }
          let e = `NOQUORUM ${usable} usable Sentinels. `;
          if (!quorum) e += "Not enough available Sentinels to reach the specified quorum for this master";
          if (!majority) {
            e += `${quorum ? "" : ". "}Not enough available Sentinels to reach the majority and authorize a failover`;
          }
          c.error(e);
        }),
      ),
      sub("flushconfig", 2, "Rewrite configuration file", (c) => {
        const s = sentinelOf(c);
        if (!c.engine.config.configFile) return c.error("ERR Sentinel is running without a config file");
        s.flushConfig();
        c.out.ok();
      }),
      sub("is-master-down-by-addr", 6, "Check if a master is down", (c, argv) => {
        const s = sentinelOf(c);
        const port = parseInt10(arg(argv, 3));
        const epoch = parseInt10(arg(argv, 4));
        if (port === null || epoch === null) return c.error("ERR value is not an integer or out of range");
        const m = s.masterByAddr(arg(argv, 2), port);
        const down = !s.tilt && m !== undefined && m.flags.sdown;
        let leader = "*";
        let leaderEpoch = 0;
        const runid = arg(argv, 5);
        if (m && runid !== "*") [leader, leaderEpoch] = s.voteLeader(m, epoch, runid);
        c.out.array(3);
        c.out.int(down ? 1 : 0);
        c.out.bulkStr(leader || "*");
        c.out.int(leaderEpoch);
      }),
      sub("config", -4, "Configure Sentinel", sentinelConfig),
      sub("info-cache", -3, "Get cached INFO from the instances in a deployment", (c, argv) => {
        const s = sentinelOf(c);
        const names = argv.slice(2).map(str);
        const ms = [...s.masters.values()].filter((m) => names.length === 0 || names.includes(m.name));
        const now = Date.now();
        c.out.array(ms.length * 2);
        for (const m of ms) {
          c.out.bulkStr(m.name);
          const all = [m, ...m.replicas.values()];
          c.out.array(all.length);
          for (const ri of all) {
            c.out.array(2);
            c.out.int(ri.infoRefresh ? now - ri.infoRefresh : 0);
            if (ri.info === null) c.out.nullBulk();
            else c.out.bulkStr(ri.info);
          }
        }
      }),
      sub("pending-scripts", 2, "Get information about pending scripts", pendingScripts),
      sub("simulate-failure", -3, "Simulate failover scenarios", (c, argv) => {
        for (const a of argv.slice(2).map((x) => str(x).toLowerCase())) {
          if (a === "help") {
            c.out.array(2);
            c.out.bulkStr("crash-after-election");
            c.out.bulkStr("crash-after-promotion");
            return;
          }
          if (a !== "crash-after-election" && a !== "crash-after-promotion") {
            return c.error("ERR Unknown failure simulation specified");
          }
        }
        c.error("ERR Failure simulation is not supported by Respite");
      }),
      sub("debug", -2, "Show the Sentinel's timing parameters", (c, argv) => {
        if (argv.length > 2) return c.error("ERR Changing Sentinel's timing parameters is not supported by Respite");
        const params: [string, number][] = [
          ["INFO-PERIOD", 10000],
          ["PING-PERIOD", 1000],
          ["ASK-PERIOD", 1000],
          ["PUBLISH-PERIOD", 2000],
          ["DEFAULT-DOWN-AFTER", 30000],
          ["DEFAULT-FAILOVER-TIMEOUT", 180000],
          ["TILT-TRIGGER", 2000],
          ["TILT-PERIOD", 30000],
          ["SLAVE-RECONF-TIMEOUT", 10000],
          ["MIN-LINK-RECONNECT-PERIOD", 15000],
          ["ELECTION-TIMEOUT", 10000],
          ["SCRIPT-MAX-RUNTIME", 60000],
          ["SCRIPT-RETRY-DELAY", 30000],
        ];
        c.out.map(params.length);
        for (const [k, v] of params) {
          c.out.bulkStr(k);
          c.out.bulkStr(String(v));
        }
      }),
    ],
  },
];

/** Sentinel's PUBLISH: only hello messages, which it processes itself. */
export function sentinelPublish(c: Client, argv: Uint8Array[]): void {
  if (str(argv[1]) !== HELLO_CHANNEL) return c.error("ERR Only HELLO messages are accepted by Sentinel instances.");
  sentinelOf(c).processHello(str(argv[2]));
  c.out.int(1);
}

/** INFO of a Sentinel: server, clients, stats and cpu as Redis shows them, then # Sentinel. */
export function sentinelInfo(c: Client, argv: Uint8Array[]): void {
  const s = sentinelOf(c);
  const wanted = argv.slice(1).map((a) => str(a).toLowerCase());
  const all = wanted.length === 0 || wanted.some((w) => w === "default" || w === "all" || w === "everything");
  const base = all ? ["server", "clients", "stats", "cpu"] : wanted.filter((w) => w !== "sentinel");
  let out = base.length ? infoText(c.engine, base).replace("redis_mode:standalone", "redis_mode:sentinel") : "";
  if (all || wanted.includes("sentinel")) {
    const lines = [
      "# Sentinel",
      `sentinel_masters:${s.masters.size}`,
      `sentinel_tilt:${s.tilt ? 1 : 0}`,
      `sentinel_tilt_since_seconds:${s.tilt ? Math.floor((Date.now() - s.tiltStart) / 1000) : -1}`,
      `sentinel_running_scripts:${s.scripts.running}`,
      `sentinel_scripts_queue_length:${s.scripts.jobs.length}`,
      "sentinel_simulate_failure_flags:0",
    ];
    let i = 0;
    for (const m of s.masters.values()) {
      const status = m.flags.odown ? "odown" : m.flags.sdown ? "sdown" : "ok";
      const [ip, port] = s.currentAddr(m);
      lines.push(
        `master${i++}:name=${m.name},status=${status},address=${ip}:${port},slaves=${m.replicas.size},sentinels=${
          m.sentinels.size + 1
        }`,
      );
    }
    out = (out ? out + "\r\n" : "") + lines.join("\r\n") + "\r\n";
  }
  c.out.verbatim(out);
}

/** ROLE of a Sentinel: "sentinel" and the names of the masters it monitors. */
export function sentinelRole(c: Client): void {
  const s = sentinelOf(c);
  c.out.array(2);
  c.out.bulkStr("sentinel");
  c.out.array(s.masters.size);
  for (const m of s.masters.values()) c.out.bulkStr(m.name);
}
