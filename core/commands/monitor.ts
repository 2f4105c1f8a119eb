/**
 * MONITOR, and the feed behind it: after each command runs, every
 * monitoring client gets one status line
 * `+<sec>.<usec> [<db> <addr>] "cmd" "arg"...` with arguments escaped as
 * Redis's sdscatrepr does. Admin and skip_monitor commands are not shown;
 * passwords (AUTH, HELLO AUTH, sensitive CONFIG SET values, MIGRATE AUTH)
 * appear as "(redacted)", here and in the slow log.
 */
import type { Command, CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, lower, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { monotonicMs } from "../util/monotonic.ts";

const REDACTED = "(redacted)";
/** CONFIG SET parameters Redis flags SENSITIVE_CONFIG. */
const SENSITIVE_CONFIGS = new Set(["requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass"]);

export type ShownArg = Uint8Array | string;

/** Argument positions to hide, as each command redacts them while parsing its options. */
function redactedPositions(cmd: Command, argv: Uint8Array[]): number[] {
  const at: number[] = [];
  switch (cmd.fullName) {
    case "auth":
      for (let i = 1; i < argv.length; i++) at.push(i);
      break;
    case "hello": {
      // HELLO checks the protocol version before it reads (and redacts) AUTH.
      const proto = argv.length >= 2 ? parseInteger(str(argv[1])) : 2;
      if (proto === null || proto < 2 || proto > 3) break;
      for (let i = 2; i < argv.length; i++) {
        const more = argv.length - 1 - i;
        if (is(argv[i], "auth") && more >= 2) at.push(++i, ++i);
        else if (is(argv[i], "setname") && more >= 1) i++;
        else break;
      }
      break;
    }
    case "config|set":
      for (let i = 2; i + 1 < argv.length; i += 2) if (SENSITIVE_CONFIGS.has(lower(str(argv[i])))) at.push(i + 1);
      break;
    case "migrate":
      for (let i = 6; i < argv.length; i++) {
        const more = argv.length - 1 - i;
        if (is(argv[i], "auth") && more >= 1) at.push(++i);
        else if (is(argv[i], "auth2") && more >= 2) at.push(++i, ++i);
        else if (is(argv[i], "keys")) break;
      }
      break;
  }
  return at;
}

/** The arguments as MONITOR and SLOWLOG show them: argv itself unless a password must be hidden. */
export function redactedArgs(cmd: Command, argv: Uint8Array[]): ShownArg[] {
  const at = redactedPositions(cmd, argv);
  if (at.length === 0) return argv;
  const shown: ShownArg[] = argv.slice();
  for (const i of at) shown[i] = REDACTED;
  return shown;
}

const ESCAPES: Record<number, string> = { 34: '\\"', 92: "\\\\", 10: "\\n", 13: "\\r", 9: "\\t", 7: "\\a", 8: "\\b" };

/** Redis's sdscatrepr: quoted, C escapes, \xHH for bytes that are not printable ASCII. */
export function repr(arg: ShownArg): string {
  let out = '"';
  for (let i = 0; i < arg.length; i++) {
    const b = typeof arg === "string" ? arg.charCodeAt(i) : arg[i];
    const esc = ESCAPES[b];
    if (esc !== undefined) out += esc;
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out + '"';
}

/** Where a command came from, as the monitor line shows it. */
function origin(c: Client): string {
  if (c.conn.kind === "script") return "lua";
  if (c.conn.kind === "unix") return `unix:${c.engine.config.get("unixsocket")}`;
  return c.conn.remoteAddress;
}

/** Sends a command that just ran to every monitoring client. The engine calls it only when someone monitors. */
export function feedMonitors(c: Client, cmd: Command, argv: Uint8Array[]): void {
  if (cmd.flags.has("admin") || cmd.flags.has("skip_monitor")) return;
  showToMonitors(c, cmd, argv);
}

/**
 * Script commands (EVAL*, FCALL*) are skip_monitor: they show themselves
 * as they start, errors included, so the commands they call follow their
 * line, as in Redis.
 */
export function monitorScriptCall(c: Client, argv: Uint8Array[]): void {
  if (c.engine.monitors.size !== 0) showToMonitors(c, c.current!, argv);
}

function showToMonitors(c: Client, cmd: Command, argv: Uint8Array[]): void {
  const usec = Math.floor((performance.timeOrigin + monotonicMs()) * 1000);
  let line = `${Math.floor(usec / 1e6)}.${String(usec % 1e6).padStart(6, "0")} [${c.db.id} ${origin(c)}]`;
  for (const arg of redactedArgs(cmd, argv)) line += " " + repr(arg);
  const engine = c.engine;
  for (const m of engine.monitors) {
    m.out.simple(line);
    // The monitor's own reply, when it is the one running, is already in its buffer ahead of this line.
    if (m !== c) engine.flush(m);
  }
}

export const monitorCommands: CommandDef[] = [
  {
    name: "monitor",
    arity: 1,
    flags: "admin noscript loading stale",
    group: "server",
    since: "1.0.0",
    summary: "Listen for all requests received by the server in real time",
    run(c) {
      if (c.inExec) return c.error("ERR MONITOR isn't allowed for DENY BLOCKING client");
      // A second MONITOR gets no reply at all, as in Redis.
      if (c.monitor) return;
      c.monitor = true;
      c.engine.monitors.add(c);
      c.out.ok();
    },
  },
];
