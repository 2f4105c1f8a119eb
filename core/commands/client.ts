/**
 * CLIENT ID / SETNAME / GETNAME / LIST / INFO / KILL / SETINFO / REPLY /
 * PAUSE / UNPAUSE / NO-EVICT / NO-TOUCH / HELP, and the tracking subcommands
 * (client-tracking.ts). SETINFO and NO-TOUCH are Redis 7.2 additions.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR } from "./args.ts";
import { replyHelp } from "./help.ts";
import type { PauseMode } from "../server/pause.ts";
import { clientCaching, clientGetRedir, clientTracking, clientTrackingInfo } from "./client-tracking.ts";

const CLIENT_HELP = [
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "SETINFO <option> <value>",
  "    Set client meta attr. Options are:",
  "    * LIB-NAME: the client lib name.",
  "    * LIB-VER: the client lib version.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "NO-TOUCH (ON|OFF)",
  "    Will not touch LRU/LFU stats when this mode is on.",
];

/** Redis's client types; "slave" and "replica" are the same. Respite has no replicas or masters yet. */
const TYPES = ["normal", "slave", "replica", "pubsub", "master"];

function clientType(c: Client): string {
  if (c.isMaster) return "master";
  if (c.isReplica) return "slave";
  return c.pubsub !== null ? "pubsub" : "normal";
}

function typeArg(c: Client, arg: Uint8Array): string | null {
  const t = lower(str(arg));
  if (TYPES.includes(t)) return t === "replica" ? "slave" : t;
  c.error(`ERR Unknown client type '${str(arg)}'`);
  return null;
}

/**
 * One CLIENT LIST line, with Redis's fields in Redis's order (7.2's
 * lib-name/lib-ver at the end); running is the argv of the command c is
 * running (CLIENT LIST or INFO itself), which Redis counts in qbuf and argv-mem.
 */
export function clientInfoLine(c: Client, running: Uint8Array[] | null = null): string {
  const now = c.engine.now;
  const m = c.engine.clientMemory.figures(c, running);
  const fields: [string, string | number][] = [
    ["id", c.id],
    ["addr", c.conn.remoteAddress],
    ["laddr", c.conn.localAddress],
    ["fd", c.fd],
    ["name", c.name],
    ["age", Math.floor((now - c.createdAt) / 1000)],
    ["idle", Math.floor((now - c.lastInteraction) / 1000)],
    ["flags", c.flagString()],
    ["db", c.db.id],
    ["sub", c.pubsub?.channels.size ?? 0],
    ["psub", c.pubsub?.patterns.size ?? 0],
    ["ssub", c.pubsub?.shard.size ?? 0],
    ["multi", c.multi === null ? -1 : c.multi.length],
    ["qbuf", m.qbuf],
    ["qbuf-free", m.qbufFree],
    ["argv-mem", m.argvMem],
    ["multi-mem", m.multiMem],
    ["rbs", m.rbs],
    ["rbp", m.rbp],
    ["obl", m.obl],
    ["oll", m.oll],
    ["omem", m.omem],
    ["tot-mem", m.totMem],
    ["events", m.omem > 0 ? "rw" : "r"],
    ["cmd", c.current?.fullName ?? c.lastCommand],
    ["user", c.user],
    ["redir", c.tracking?.redirect ?? -1],
    ["resp", c.resp],
    ["lib-name", c.libName],
    ["lib-ver", c.libVer],
  ];
  return fields.map(([k, v]) => `${k}=${v}`).join(" ") + "\n";
}

/** Names and lib attributes: printable ASCII without spaces, as Redis requires. */
function validAttr(value: string): boolean {
  return !/[^\x21-\x7e]/.test(value);
}

function setName(c: Client, argv: Uint8Array[]): void {
  const name = str(argv[2]);
  if (!validAttr(name)) return c.error("ERR Client names cannot contain spaces, newlines or special characters.");
  c.name = name;
  c.out.ok();
}

function setInfo(c: Client, argv: Uint8Array[]): void {
  const attr = lower(str(argv[2]));
  if (attr !== "lib-name" && attr !== "lib-ver") return c.error(`ERR Unrecognized option '${str(argv[2])}'`);
  const value = str(argv[3]);
  if (!validAttr(value)) return c.error(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
  if (attr === "lib-name") c.libName = value;
  else c.libVer = value;
  c.out.ok();
}

function list(c: Client, argv: Uint8Array[]): void {
  let clients = [...c.engine.clients.values()];
  if (argv.length === 4 && is(argv[2], "type")) {
    const type = typeArg(c, argv[3]);
    if (type === null) return;
    clients = clients.filter((x) => clientType(x) === type);
  } else if (argv.length > 3 && is(argv[2], "id")) {
    const ids = new Set<number>();
    for (const arg of argv.slice(3)) {
      const id = parseInteger(str(arg));
      if (id === null) return c.error("ERR Invalid client ID");
      ids.add(id);
    }
    clients = clients.filter((x) => ids.has(x.id));
  } else if (argv.length !== 2) {
    return c.error(ERR.syntax);
  }
  c.out.verbatim(clients.map((x) => clientInfoLine(x, x === c ? argv : null)).join(""));
}

/** The filter form of CLIENT KILL: every condition given must hold. */
type KillFilter = (target: Client) => boolean;

function parseKillFilters(c: Client, argv: Uint8Array[]): { filters: KillFilter[]; skipMe: boolean } | null {
  const filters: KillFilter[] = [];
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = lower(str(argv[i]));
    const value = str(argv[i + 1]);
    if (opt === "id") {
      const id = parseInteger(value);
      if (id === null || id <= 0) return c.error("ERR client-id should be greater than 0"), null;
      filters.push((t) => t.id === id);
    } else if (opt === "type") {
      const type = typeArg(c, argv[i + 1]);
      if (type === null) return null;
      filters.push((t) => clientType(t) === type);
    } else if (opt === "addr") {
      filters.push((t) => t.conn.remoteAddress === value);
    } else if (opt === "laddr") {
      filters.push((t) => t.conn.localAddress === value);
    } else if (opt === "user") {
      if (value !== "default" && ![...c.engine.clients.values()].some((t) => t.user === value)) {
        return c.error(`ERR No such user '${value}'`), null;
      }
      filters.push((t) => t.user === value);
    } else if (opt === "skipme") {
      if (is(argv[i + 1], "yes")) skipMe = true;
      else if (is(argv[i + 1], "no")) skipMe = false;
      else return c.error(ERR.syntax), null;
    } else {
      return c.error(ERR.syntax), null;
    }
  }
  return { filters, skipMe };
}

/** Closes a client; the caller itself is closed only after its reply goes out. */
function killClient(c: Client, target: Client): void {
  if (target === c) c.closeAfterReply = true;
  else c.engine.kill(target);
}

function kill(c: Client, argv: Uint8Array[]): void {
  const clients = [...c.engine.clients.values()];
  if (argv.length === 3) {
    const addr = str(argv[2]);
    const target = clients.find((t) => t.conn.remoteAddress === addr);
    if (!target) return c.error("ERR No such client");
    killClient(c, target);
    return c.out.ok();
  }
  if (argv.length % 2 !== 0) return c.error(ERR.syntax);
  const parsed = parseKillFilters(c, argv);
  if (!parsed) return;
  let killed = 0;
  for (const target of clients) {
    if (parsed.skipMe && target === c) continue;
    if (!parsed.filters.every((f) => f(target))) continue;
    killClient(c, target);
    killed++;
  }
  c.out.int(killed);
}

/** CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 when the client was blocked and now is not. */
function unblock(c: Client, argv: Uint8Array[]): void {
  if (argv.length > 4) {
    return c.error(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1])}'. Try CLIENT HELP.`);
  }
  const id = parseInteger(str(argv[2]));
  if (id === null) return c.error(ERR.notInt);
  const error = argv.length === 4 && is(argv[3], "error");
  if (argv.length === 4 && !error && !is(argv[3], "timeout")) {
    return c.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  }
  const target = c.engine.clients.get(id);
  c.out.int(target !== undefined && c.engine.blocking.unblockByRequest(target, error) ? 1 : 0);
}

/** CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the timeout, as in Redis. */
function pause(c: Client, argv: Uint8Array[]): void {
  if (argv.length > 4) {
    return c.error(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1])}'. Try CLIENT HELP.`);
  }
  let mode: PauseMode = "all";
  if (argv.length === 4) {
    if (is(argv[3], "write")) mode = "write";
    else if (!is(argv[3], "all")) return c.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  const ms = parseInteger(str(argv[2]));
  if (ms === null) return c.error("ERR timeout is not an integer or out of range");
  if (ms < 0) return c.error("ERR timeout is negative");
  c.engine.pause.pause(ms, mode);
  c.out.ok();
}

function reply(c: Client, argv: Uint8Array[]): void {
  if (is(argv[2], "on")) {
    c.replyMode = "on";
    c.skipNext = false;
    c.out.ok();
  } else if (is(argv[2], "off")) {
    c.replyMode = "off";
  } else if (is(argv[2], "skip")) {
    if (c.replyMode === "on") c.replyMode = "skip";
  } else {
    c.error(ERR.syntax);
  }
}

/** NO-EVICT and NO-TOUCH: ON or OFF sets a boolean client flag. */
function onOff(set: (c: Client, on: boolean) => void) {
  return (c: Client, argv: Uint8Array[]) => {
    if (is(argv[2], "on")) set(c, true);
    else if (is(argv[2], "off")) set(c, false);
    else return c.error(ERR.syntax);
    c.out.ok();
  };
}

const SUB = "noscript loading stale";
const ADMIN = "admin noscript loading stale";

function sub(name: string, arity: number, flags: string, since: string, summary: string, run: CommandDef["run"], extra: Partial<CommandDef> = {}): CommandDef {
  return { name, arity, flags, acl: "connection", group: "connection", since, summary, run, ...extra };
}

export const clientCommands: CommandDef[] = [
  {
    name: "client",
    arity: -2,
    flags: "",
    group: "connection",
    since: "2.4.0",
    summary: "A container for client connection commands",
    complexity: "Depends on subcommand.",
    subcommands: [
      sub("id", 2, SUB, "5.0.0", "Returns the client ID for the current connection", (c) => c.out.int(c.id)),
      sub("setname", 3, SUB, "2.6.9", "Set the current connection name", setName),
      sub("getname", 2, SUB, "2.6.9", "Get the current connection name", (c) => {
        if (c.name) c.out.bulkStr(c.name);
        else c.out.nullBulk();
      }),
      sub("list", -2, ADMIN, "2.4.0", "Get the list of client connections", list, {
        tips: "nondeterministic_output",
        complexity: "O(N) where N is the number of client connections",
      }),
      sub("info", 2, SUB, "6.2.0", "Returns information about the current client connection.", (c, argv) => {
        c.out.verbatim(clientInfoLine(c, argv));
      }, { tips: "nondeterministic_output" }),
      sub("kill", -3, ADMIN, "2.4.0", "Kill the connection of a client", kill, {
        complexity: "O(N) where N is the number of client connections",
      }),
      sub("setinfo", 4, "noscript loading stale", "7.2.0", "Set client or connection specific info", setInfo, {
        tips: "request_policy:all_nodes response_policy:all_succeeded",
      }),
      sub("unblock", -3, ADMIN, "5.0.0", "Unblock a client blocked in a blocking command from a different connection", unblock, {
        complexity: "O(log N) where N is the number of client connections",
      }),
      sub("pause", -3, ADMIN, "2.9.50", "Stop processing commands from clients for some time", pause),
      sub("unpause", 2, ADMIN, "6.2.0", "Resume processing of clients that were paused", (c) => {
        c.engine.pause.unpause();
        c.out.ok();
      }, { complexity: "O(N) Where N is the number of paused clients" }),
      sub("reply", 3, SUB, "3.2.0", "Instruct the server whether to reply to commands", reply),
      sub("no-evict", 3, ADMIN, "7.0.0", "Set client eviction mode for the current connection", onOff((c, on) => (c.noEvict = on))),
      sub("no-touch", 3, "noscript loading stale", "7.2.0", "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", onOff((c, on) => (c.noTouch = on))),
      sub("tracking", -3, SUB, "6.0.0", "Enable or disable server assisted client side caching support", clientTracking, {
        complexity: "O(1). Some options may introduce additional complexity.",
      }),
      sub("caching", 3, SUB, "6.0.0", "Instruct the server about tracking or not keys in the next request", clientCaching),
      sub("getredir", 2, SUB, "6.0.0", "Get tracking notifications redirection client ID if any", clientGetRedir),
      sub("trackinginfo", 2, SUB, "6.2.0", "Return information about server assisted client side caching for the current connection", clientTrackingInfo),
      sub("help", 2, "loading stale", "5.0.0", "Show helpful text about the different subcommands", (c) => replyHelp(c, "client", CLIENT_HELP)),
    ],
  },
];
