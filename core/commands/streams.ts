/**
 * Stream commands without consumer groups: XADD XRANGE XREVRANGE XLEN XDEL
 * XTRIM XSETID XREAD (BLOCK through core/server/blocking.ts). Groups are in
 * stream-groups.ts. As in Redis, a stream key stays when it empties, XADD *
 * propagates the ID it generated, and a `~` trim propagates as `=` with
 * the resulting length (or first ID), so replicas and the AOF trim exactly.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR } from "./args.ts";
import {
  compareIds,
  decrId,
  formatId,
  incrId,
  MAX_ID,
  MIN_ID,
  Stream,
  type StreamId,
  type TrimSpec,
  type U64,
  u64,
  U64_MAX,
} from "../types/stream.ts";
import { StreamNode } from "../types/stream-node.ts";
import {
  fromPrimaryOrAof,
  idArg,
  parseIdArg,
  readStream,
  replyEntry,
  replyRange,
  collectRange,
  streamLimits,
  writableStream,
  XREAD_KEY_SPEC,
  xreadKeys,
} from "./stream-args.ts";
import type { PropArg } from "../persist/propagate.ts";

/** Redis's STREAM_LISTPACK_MAX_SIZE: an entry's fields and values together may not exceed it. */
const MAX_ENTRY_BYTES = 1 << 30;
/** XREAD BLOCK without COUNT serves at most this many entries per key (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;

/** XADD / XTRIM options (streamAddTrimArgs). */
interface AddTrimArgs {
  trim: TrimSpec | null;
  /** Index of the MAXLEN count / MINID id argument (the `~` is just before it when approx). */
  trimArg: number;
  noMkStream: boolean;
  id: { ms: StreamId["ms"]; seq: StreamId["seq"] | -1 } | null;
  /** Index of the ID argument (XADD). */
  idPos: number;
}

/** streamParseAddOrTrimArgsOrReply; null after an error reply. */
function parseAddTrim(c: Client, argv: Uint8Array[], xadd: boolean): AddTrimArgs | null {
  const fail = (msg: string) => (c.error(msg), null);
  let strategy: "maxlen" | "minid" | null = null;
  let approx = false;
  let maxlen = 0;
  let minid: StreamId = MIN_ID;
  let limit = 0;
  let limitGiven = false;
  let trimArg = 0;
  let noMkStream = false;
  let id: AddTrimArgs["id"] = null;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const a = argv[i];
    if (xadd && a.length === 1 && a[0] === 42) break;
    if ((is(a, "maxlen") || is(a, "minid")) && more > 0) {
      const byLen = is(a, "maxlen");
      if (strategy !== null) return fail("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
      approx = false;
      const next = argv[i + 1];
      if (more >= 2 && next.length === 1 && (next[0] === 126 || next[0] === 61)) {
        approx = next[0] === 126;
        i++;
      }
      if (byLen) {
        const n = parseInt64(str(argv[i + 1]));
        if (n === null) return fail(ERR.notInt);
        if (n < 0n) return fail("ERR The MAXLEN argument must be >= 0.");
        maxlen = Number(n);
      } else {
        const m = idArg(c, argv[i + 1], 0, true);
        if (m === null) return null;
        minid = m;
      }
      i++;
      strategy = byLen ? "maxlen" : "minid";
      trimArg = i;
    } else if (is(a, "limit") && more > 0) {
      const n = parseInt64(str(argv[i + 1]));
      if (n === null) return fail(ERR.notInt);
      if (n < 0n) return fail("ERR The LIMIT argument must be >= 0.");
      limit = Number(n);
      limitGiven = true;
      i++;
    } else if (xadd && is(a, "nomkstream")) noMkStream = true;
    else if (xadd) {
      id = parseIdArg(c, a, 0, true, true);
      if (id === null) return null;
      break;
    } else return fail(ERR.syntax);
  }
  if (limit && strategy === null) return fail("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  if (!xadd && strategy === null) return fail("ERR syntax error, XTRIM must be called with a trimming strategy");
  if (fromPrimaryOrAof(c)) limit = 0;
  else if (limitGiven) {
    if (!approx) return fail("ERR syntax error, LIMIT cannot be used without the special ~ option");
  } else limit = approx ? 100 * c.engine.config.num("stream-node-max-entries") : 0;
  const trim: TrimSpec | null = strategy === null
    ? null
    : strategy === "maxlen"
    ? { maxlen, approx, limit }
    : { minid, approx, limit };
  return { trim, trimArg, noMkStream, id, idPos: i };
}

/** After a `~` trim: the arguments to propagate, `=` and the exact length or first ID (streamRewriteTrimArgument). */
function rewriteTrim(argv: PropArg[], s: Stream, a: AddTrimArgs): void {
  argv[a.trimArg - 1] = "=";
  argv[a.trimArg] = a.trim!.maxlen !== undefined ? String(s.length) : formatId(s.edgeId(false) ?? MAX_ID);
}

/** The ID XADD assigns (streamAppendItem), or an error text. */
function nextId(s: Stream, given: AddTrimArgs["id"], now: number): StreamId | string {
  const last = s.lastId;
  const smaller = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
  if (given === null) {
    if (now > last.ms) return { ms: now, seq: 0 };
    return incrId(last)!;
  }
  let id: StreamId;
  if (given.seq === -1) {
    if (last.ms === given.ms) {
      // 7.0.15 answers a sequence overflow here with the size error (errno is not EDOM on this path).
      if (last.seq === U64_MAX) return "ERR Elements are too large to be stored";
      id = incrId(last)!;
    } else id = { ms: given.ms, seq: 0 };
  } else id = given as StreamId;
  return compareIds(id, last) <= 0 ? smaller : id;
}

const xadd: Handler = (c, argv) => {
  const a = parseAddTrim(c, argv, true);
  if (a === null) return;
  const fieldPos = a.idPos + 1;
  const nfv = argv.length - fieldPos;
  if (nfv < 2 || nfv % 2 === 1) return c.error("ERR wrong number of arguments for 'xadd' command");
  if (a.id !== null && a.id.seq !== -1 && a.id.ms === 0 && a.id.seq === 0) {
    return c.error("ERR The ID specified in XADD must be greater than 0-0");
  }
  const key = str(argv[1]);
  let s = writableStream(c, key);
  if (s === null) return;
  if (s === undefined && a.noMkStream) return c.out.nullBulk();
  const created = s === undefined;
  s ??= new Stream();
  if (s.lastId.ms === U64_MAX && s.lastId.seq === U64_MAX) {
    return c.error("ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  const id = nextId(s, a.id, c.engine.now);
  if (typeof id === "string") return c.error(id);
  const total = StreamNode.rawSize(argv, fieldPos);
  if (total > MAX_ENTRY_BYTES) return c.error("ERR Elements are too large to be stored");
  s.add(id, argv, streamLimits(c), fieldPos, total);
  if (created) c.db.set(key, s);
  const idText = formatId(id);
  c.out.bulkStr(idText);
  c.engine.keyWritten(c.db, key);
  c.engine.notify(c.db, "xadd", key, "t");
  let rewritten: PropArg[] | null = null;
  if (a.trim !== null) {
    if (s.trim(a.trim) > 0) c.engine.notify(c.db, "xtrim", key, "t");
    if (a.trim.approx && c.engine.propagation.on) rewriteTrim((rewritten = argv.slice()), s, a);
  }
  if (c.engine.propagation.on && (rewritten !== null || a.id === null || a.id.seq === -1)) {
    rewritten ??= argv.slice();
    rewritten[a.idPos] = idText;
    c.engine.propagation.rewrite(rewritten);
  }
};

const xtrim: Handler = (c, argv) => {
  const a = parseAddTrim(c, argv, false);
  if (a === null) return;
  const key = str(argv[1]);
  const s = writableStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.out.int(0);
  const deleted = s.trim(a.trim!);
  if (deleted > 0) {
    c.engine.notify(c.db, "xtrim", key, "t");
    if (a.trim!.approx && c.engine.propagation.on) {
      const rewritten: PropArg[] = argv.slice();
      rewriteTrim(rewritten, s, a);
      c.engine.propagation.rewrite(rewritten);
    }
    c.engine.keyWritten(c.db, key);
  }
  c.out.int(deleted);
};

/** An XRANGE bound: "(" makes it exclusive (then "-" and "+" are invalid). */
function intervalId(c: Client, arg: Uint8Array, missingSeq: StreamId["seq"]): { id: StreamId; ex: boolean } | null {
  const ex = arg.length > 1 && arg[0] === 40;
  const id = idArg(c, ex ? arg.subarray(1) : arg, missingSeq, ex);
  return id === null ? null : { id, ex };
}

function xrange(c: Client, argv: Uint8Array[], rev: boolean): void {
  const start = intervalId(c, rev ? argv[3] : argv[2], 0);
  if (start === null) return;
  let startId: StreamId | null = start.id;
  if (start.ex && (startId = incrId(start.id)) === null) return c.error("ERR invalid start ID for the interval");
  const end = intervalId(c, rev ? argv[2] : argv[3], U64_MAX);
  if (end === null) return;
  let endId: StreamId | null = end.id;
  if (end.ex && (endId = decrId(end.id)) === null) return c.error("ERR invalid end ID for the interval");
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (is(argv[j], "count") && j + 1 < argv.length) {
      const n = parseInt64(str(argv[++j]));
      if (n === null) return c.error(ERR.notInt);
      count = n < 0n ? 0 : Number(n);
    } else return c.error(ERR.syntax);
  }
  const s = readStream(c, str(argv[1]));
  if (s === null) return;
  if (s === undefined) return c.out.array(0);
  if (count === 0) return c.out.nullArray();
  replyRange(c, s, startId, endId, count < 0 ? 0 : count, rev);
}

const xlen: Handler = (c, argv) => {
  const s = readStream(c, str(argv[1]));
  if (s !== null) c.out.int(s === undefined ? 0 : s.length);
};

const xdel: Handler = (c, argv) => {
  const key = str(argv[1]);
  const s = writableStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.out.int(0);
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = idArg(c, argv[j], 0, true);
    if (id === null) return;
    ids.push(id);
  }
  const deleted = s.deleteIds(ids);
  if (deleted > 0) {
    c.engine.keyWritten(c.db, key);
    c.engine.notify(c.db, "xdel", key, "t");
  }
  c.out.int(deleted);
};

const xsetid: Handler = (c, argv) => {
  const id = idArg(c, argv[2], 0, true);
  if (id === null) return;
  let entriesAdded: U64 | -1 = -1;
  let maxDeleted: StreamId = MIN_ID;
  for (let i = 3; i < argv.length; i += 2) {
    const more = argv.length - 1 - i;
    if (is(argv[i], "entriesadded") && more > 0) {
      const n = parseInt64(str(argv[i + 1]));
      if (n === null) return c.error(ERR.notInt);
      if (n < 0n) return c.error("ERR entries_added must be positive");
      entriesAdded = u64(n);
    } else if (is(argv[i], "maxdeletedid") && more > 0) {
      const m = idArg(c, argv[i + 1], 0, true);
      if (m === null) return;
      if (compareIds(id, m) < 0) {
        return c.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      }
      maxDeleted = m;
    } else return c.error(ERR.syntax);
  }
  const key = str(argv[1]);
  const s = writableStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.error(ERR.noKey);
  if (s.length > 0) {
    if (compareIds(id, s.edgeId(true)!) < 0) return c.error("ERR The ID specified in XSETID is smaller than the target stream top item");
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      return c.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
    }
  }
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (compareIds(maxDeleted, MIN_ID) !== 0) s.maxDeletedId = maxDeleted;
  c.out.ok();
  c.engine.keyWritten(c.db, key);
  c.engine.notify(c.db, "xsetid", key, "t");
};

// ---- XREAD ----

/** XREAD's reply for the keys served: RESP2 [[key, entries]...], RESP3 a map key -> entries. */
function replyStreams(c: Client, served: Array<[string, Stream, StreamId]>, count: number): void {
  if (c.resp === 3) c.out.map(served.length);
  else c.out.array(served.length);
  for (const [key, s, after] of served) {
    if (c.resp === 2) c.out.array(2);
    c.out.bulkStr(key);
    const start = incrId(after);
    if (start === null) c.out.array(0);
    else replyRange(c, s, start, { ms: U64_MAX, seq: U64_MAX }, count, false);
  }
}

/** Parses a BLOCK timeout in milliseconds as getTimeoutFromObjectOrReply(UNIT_MILLISECONDS); absolute deadline (0 = forever) or null. */
export function blockDeadline(c: Client, arg: Uint8Array): number | null {
  const n = parseInt64(str(arg));
  if (n === null) return (c.error("ERR timeout is not an integer or out of range"), null);
  if (n < 0n) return (c.error("ERR timeout is negative"), null);
  if (n === 0n) return 0;
  if (n > 2n ** 63n - 1n - BigInt(c.engine.now)) return (c.error("ERR timeout is out of range"), null);
  return c.engine.now + Number(n);
}

const xread: Handler = (c, argv) => {
  let deadline = -1;
  let count = 0;
  let streamsArg = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const a = argv[i];
    if (is(a, "block") && more > 0) {
      if (c.conn.kind === "script") return c.error("ERR xread command is not allowed with BLOCK option from scripts");
      const d = blockDeadline(c, argv[++i]);
      if (d === null) return;
      deadline = d;
    } else if (is(a, "count") && more > 0) {
      const n = parseInt64(str(argv[++i]));
      if (n === null) return c.error(ERR.notInt);
      count = n < 0n ? 0 : Number(n);
    } else if (is(a, "streams") && more > 0) {
      streamsArg = i + 1;
      if ((argv.length - streamsArg) % 2 !== 0) {
        return c.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      }
      break;
    } else if (is(a, "group") && more >= 2) {
      return c.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
    } else if (is(a, "noack")) {
      return c.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
    } else return c.error(ERR.syntax);
  }
  if (streamsArg === 0) return c.error(ERR.syntax);
  const n = (argv.length - streamsArg) / 2;
  const keys: string[] = [];
  const after: StreamId[] = [];
  for (let i = 0; i < n; i++) {
    const key = str(argv[streamsArg + i]);
    const s = readStream(c, key);
    if (s === null) return;
    const arg = argv[streamsArg + n + i];
    let id: StreamId | null;
    if (arg.length === 1 && arg[0] === 36) id = s === undefined ? MIN_ID : s.lastId;
    else if (arg.length === 1 && arg[0] === 62) {
      return c.error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
    } else if ((id = idArg(c, arg, 0, true)) === null) return;
    keys.push(key);
    after.push(id);
  }
  const served: Array<[string, Stream, StreamId]> = [];
  for (let i = 0; i < n; i++) {
    const v = c.db.lookup(keys[i], c.engine.now);
    if (!(v instanceof Stream) || v.length === 0) continue;
    const last = v.edgeId(true);
    if (last !== null && compareIds(last, after[i]) > 0) served.push([keys[i], v, after[i]]);
  }
  if (served.length > 0) return replyStreams(c, served, count);
  if (deadline < 0 || !c.engine.blocking.canBlock(c)) return c.out.nullArray();
  // Redis wakes stream readers only when an entry was added (XADD signals the key ready; XDEL, XTRIM and
  // XSETID do not), then serves them when the last ID passed theirs: `seen` tells an addition from other writes.
  const waitFor = new Map<string, { gt: StreamId; seen: Stream | undefined; added: U64 }>();
  const stateOf = (key: string) => {
    const v = c.db.peek(key, c.engine.now);
    return v instanceof Stream ? v : undefined;
  };
  for (let i = 0; i < n; i++) {
    if (waitFor.has(keys[i])) continue;
    const s = stateOf(keys[i]);
    waitFor.set(keys[i], { gt: after[i], seen: s, added: s?.entriesAdded ?? 0 });
  }
  c.engine.blocking.block(c, keys, deadline, (key) => {
    const w = waitFor.get(key)!;
    const v = stateOf(key);
    const grew = v !== undefined && (v !== w.seen || v.entriesAdded !== w.added);
    w.seen = v;
    w.added = v?.entriesAdded ?? 0;
    if (!grew || compareIds(v!.lastId, w.gt) <= 0) return false;
    replyStreams(c, [[key, v!, w.gt]], count || BLOCKED_DEFAULT_COUNT);
    return true;
  });
};

const common = { acl: "stream", group: "stream" };
const key1 = { keys: [1, 1, 1] as [number, number, number] };

export const streamCommands: CommandDef[] = [
  {
    ...common, ...key1, name: "xadd", arity: -5, flags: "write denyoom fast", tips: "nondeterministic_output",
    keySpecs: [{ flags: "RW update", notes: "UPDATE instead of INSERT because of the optional trimming feature", begin: 1, find: { range: [0, 1, 0] } }],
    since: "5.0.0", summary: "Appends a new entry to a stream",
    complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    run: xadd,
  },
  {
    ...common, ...key1, name: "xrange", arity: -4, flags: "readonly", since: "5.0.0",
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
    complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    run: (c, argv) => xrange(c, argv, false),
  },
  {
    ...common, ...key1, name: "xrevrange", arity: -4, flags: "readonly", since: "5.0.0",
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    run: (c, argv) => xrange(c, argv, true),
  },
  {
    ...common, ...key1, name: "xlen", arity: 2, flags: "readonly fast", keySpec: "RO", since: "5.0.0",
    summary: "Return the number of entries in a stream", run: xlen,
  },
  {
    ...common, ...key1, name: "xdel", arity: -3, flags: "write fast", keySpec: "RW delete", since: "5.0.0",
    summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
    run: xdel,
  },
  {
    ...common, ...key1, name: "xtrim", arity: -4, flags: "write", keySpec: "RW delete", tips: "nondeterministic_output",
    since: "5.0.0", summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    run: xtrim,
  },
  {
    ...common, ...key1, name: "xsetid", arity: -3, flags: "write denyoom fast", since: "5.0.0",
    summary: "An internal command for replicating stream values", run: xsetid,
  },
  {
    ...common, name: "xread", arity: -4, flags: "readonly blocking", getKeys: xreadKeys,
    keySpecs: [{ flags: "RO access", ...XREAD_KEY_SPEC }],
    since: "5.0.0",
    summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    run: xread,
  },
];

export { collectRange, replyEntry };
