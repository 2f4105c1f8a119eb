/**
 * Counter commands on strings: INCR DECR INCRBY DECRBY INCRBYFLOAT.
 * Integers within ±2^53 stay JS numbers, so the common INCR is one
 * addition; BigInt is used only near the int64 limits. INCRBYFLOAT uses
 * the long double emulation so its digits match Redis's.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { str } from "../util/bytes.ts";
import { inInt64, parseInt64, parseInteger } from "../util/number.ts";
import { incrByFloat } from "../util/longdouble.ts";
import { ERR, writableString } from "./args.ts";
import { fromStr } from "../types/string.ts";
import type { StringValue } from "../types/value.ts";

const INT64_MIN = -(2n ** 63n);

/** A canonical int64 as a number when exactly representable, else a bigint; null if not an integer. */
function parseCounter(s: string): number | bigint | null {
  if (s.length < 16) return parseInteger(s);
  const big = parseInt64(s);
  if (big === null) return null;
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

function storedCounter(v: StringValue): number | bigint | null {
  if (typeof v === "number") return v;
  if (v.length > 20) return null;
  return parseCounter(typeof v === "string" ? v : str(v));
}

/** INCRBY's core: adds to the stored integer (0 when missing), keeping any TTL. */
function incrementBy(c: Client, argv: Uint8Array[], by: number | bigint): void {
  const key = str(argv[1]);
  const v = writableString(c, key);
  if (v === null) return;
  const current = v === undefined ? 0 : storedCounter(v);
  if (current === null) return c.error(ERR.notInt);
  let next: number | bigint = typeof current === "number" && typeof by === "number" ? current + by : NaN;
  if (!Number.isSafeInteger(next)) {
    const big = BigInt(current) + BigInt(by);
    if (!inInt64(big)) return c.error(ERR.overflow);
    next = Number.isSafeInteger(Number(big)) ? Number(big) : big;
  }
  c.db.set(key, typeof next === "number" ? next : fromStr(String(next)), true);
  c.engine.keyWritten(c.db, key);
  c.engine.notify(c.db, "incrby", key, "$");
  c.out.int(next);
}

function incrementArg(c: Client, arg: Uint8Array): number | bigint | null {
  const by = parseCounter(str(arg));
  if (by === null) c.error(ERR.notInt);
  return by;
}

const base = {
  arity: 3,
  flags: "write denyoom fast",
  keys: [1, 1, 1] as [number, number, number],
  keySpec: "RW access update",
  acl: "string",
  group: "string",
};

export const counterCommands: CommandDef[] = [
  {
    ...base,
    name: "incr",
    arity: 2,
    since: "1.0.0",
    summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    run: (c, argv) => incrementBy(c, argv, 1),
  },
  {
    ...base,
    name: "decr",
    arity: 2,
    since: "1.0.0",
    summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
    run: (c, argv) => incrementBy(c, argv, -1),
  },
  {
    ...base,
    name: "incrby",
    since: "1.0.0",
    summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    run(c, argv) {
      const by = incrementArg(c, argv[2]);
      if (by !== null) incrementBy(c, argv, by);
    },
  },
  {
    ...base,
    name: "decrby",
    since: "1.0.0",
    summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
    run(c, argv) {
      const by = incrementArg(c, argv[2]);
      if (by === null) return;
      // -INT64_MIN does not fit in an int64.
      if (by === INT64_MIN) return c.error("ERR decrement would overflow");
      incrementBy(c, argv, -by);
    },
  },
  {
    ...base,
    name: "incrbyfloat",
    since: "2.6.0",
    summary:
      "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
    run(c, argv) {
      const key = str(argv[1]);
      const v = writableString(c, key);
      if (v === null) return;
      const current = v === undefined ? null : typeof v === "object" ? str(v) : v;
      const r = incrByFloat(current, str(argv[2]));
      if ("error" in r) return c.error(r.error);
      c.db.set(key, fromStr(r.value), true);
      c.engine.keyWritten(c.db, key);
      if (c.engine.propagation.on) c.engine.propagation.rewrite(["SET", argv[1], r.value, "KEEPTTL"]);
      c.engine.notify(c.db, "incrbyfloat", key, "$");
      c.out.bulkStr(r.value);
    },
  },
];
