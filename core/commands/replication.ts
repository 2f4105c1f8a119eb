/**
 * The primary's replication commands: SYNC, PSYNC, REPLCONF, WAIT and ROLE.
 * The work is in core/replication/primary.ts; here are the arguments and
 * Redis's replies and errors.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { lower, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";

function integer(c: Client, arg: Uint8Array): number | null {
  const n = parseInteger(str(arg));
  if (n === null) c.error("ERR value is not an integer or out of range");
  return n;
}

function psync(c: Client, argv: Uint8Array[]): void {
  const offset = integer(c, argv[2]);
  if (offset === null) return;
  c.engine.primary.sync(c, str(argv[1]), offset);
}

function replconf(c: Client, argv: Uint8Array[]): void {
  if (argv.length % 2 === 0) return c.error("ERR syntax error");
  const p = c.engine.primary;
  for (let i = 1; i < argv.length; i += 2) {
    const opt = lower(str(argv[i]));
    const val = str(argv[i + 1]);
    switch (opt) {
      case "listening-port": {
        const port = integer(c, argv[i + 1]);
        if (port === null) return;
        p.replconfPending(c).port = port;
        break;
      }
      case "ip-address":
        p.replconfPending(c).ip = val;
        break;
      case "capa":
        if (lower(val) === "eof") p.replconfPending(c).eof = true;
        else if (lower(val) === "psync2") p.replconfPending(c).psync2 = true;
        break;
      case "ack": {
        // A replica's ACK gets no reply (nor does FACK after it).
        const offset = parseInteger(val);
        if (offset !== null) p.ack(c, offset);
        return;
      }
      case "getack":
        // Only a primary asks this of its replica: the replica side answers it.
        return;
      case "rdb-only":
      case "rdb-filter-only":
        break;
      default:
        return c.error(`ERR Unrecognized REPLCONF option: ${val === "" ? opt : str(argv[i])}`);
    }
  }
  c.out.ok();
}

/** WAIT's timeout in ms, as Redis's getTimeoutFromObjectOrReply with UNIT_MILLISECONDS: an absolute deadline, 0 for none. */
function waitDeadline(c: Client, arg: Uint8Array): number | null {
  const ms = parseInteger(str(arg));
  if (ms === null) {
    c.error("ERR timeout is not an integer or out of range");
    return null;
  }
  if (ms < 0) {
    c.error("ERR timeout is negative");
    return null;
  }
  return ms === 0 ? 0 : c.engine.now + ms;
}

function wait(c: Client, argv: Uint8Array[]): void {
  if (c.engine.replica.following) {
    return c.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
  }
  if (c.engine.replica.following) {
    return c.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
  }
  const want = integer(c, argv[1]);
  if (want === null) return;
  const deadline = waitDeadline(c, argv[2]);
  if (deadline === null) return;
  c.engine.primary.wait(c, want, deadline);
}

/** ROLE of a primary: ["master", offset, [[ip, port, ack offset]...]] for the online replicas. */
export function primaryRole(c: Client): void {
  const p = c.engine.primary;
  const online = p.links.filter((l) => l.state === "online");
  c.out.array(3);
  c.out.bulkStr("master");
  c.out.int(p.offset);
  c.out.array(online.length);
  for (const l of online) {
    c.out.array(3);
    c.out.bulkStr(l.ip);
    c.out.bulkStr(String(l.port));
    c.out.bulkStr(String(l.ackOffset));
  }
}

export const replicationCommands: CommandDef[] = [
  {
    name: "sync",
    arity: 1,
    flags: "admin noscript no_async_loading no_multi",
    group: "server",
    since: "1.0.0",
    summary: "Internal command used for replication",
    run: (c) => c.engine.primary.sync(c, null, 0),
  },
  {
    name: "psync",
    arity: -3,
    flags: "admin noscript no_async_loading no_multi",
    group: "server",
    since: "2.8.0",
    summary: "Internal command used for replication",
    run: psync,
  },
  {
    name: "replconf",
    arity: -1,
    flags: "admin noscript loading stale allow_busy",
    group: "server",
    since: "3.0.0",
    summary: "An internal command for configuring the replication stream",
    complexity: "O(1)",
    run: replconf,
  },
  {
    name: "wait",
    arity: 3,
    flags: "noscript",
    acl: "connection",
    group: "generic",
    since: "3.0.0",
    summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
    complexity: "O(1)",
    tips: "request_policy:all_shards response_policy:agg_min",
    run: wait,
  },
];
