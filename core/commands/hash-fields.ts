/**
 * Per-field expiry of hashes, as Redis 7.4 added it (the 7.0 oracle has
 * none of these, so they follow the 7.4 documentation): HEXPIRE HPEXPIRE
 * HEXPIREAT HPEXPIREAT with NX/XX/GT/LT, HTTL HPTTL HEXPIRETIME
 * HPEXPIRETIME and HPERSIST, all taking `FIELDS numfields field...` and
 * answering one code per field.
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR } from "./args.ts";
import { fieldsRemoved, hashWritten, readHash, writableHash } from "./hashes.ts";
import { fail } from "./collection-args.ts";

/** Redis 7.4 keeps field deadlines in 48 bits of milliseconds. */
const MAX_DEADLINE = 2 ** 48 - 1;

const NO_FIELD = -2, NO_DEADLINE = -1;

/** Reads `FIELDS numfields field...` starting at argv[at]; the field names, or null after an error. */
function fieldList(c: Client, argv: Uint8Array[], at: number): string[] | null {
  if (at >= argv.length || !is(argv[at], "fields")) {
    return fail(c, "ERR Mandatory argument FIELDS is missing or not at the right position");
  }
  const n = at + 1 < argv.length ? parseInt64(str(argv[at + 1])) : null;
  if (n === null || n < 1n) return fail(c, "ERR Parameter `numFields` should be greater than 0");
  if (n !== BigInt(argv.length - at - 2)) return fail(c, "ERR The `numfields` parameter must match the number of arguments");
  return argv.slice(at + 2).map(str);
}

function replyCodes(c: Client, codes: number[]): void {
  c.out.array(codes.length);
  for (const code of codes) c.out.int(code);
}

type Condition = "nx" | "xx" | "gt" | "lt" | null;

/** Whether NX/XX/GT/LT lets a new deadline replace the current one (undefined = none, i.e. infinite). */
function allowed(cond: Condition, current: number | undefined, next: number): boolean {
  switch (cond) {
    case "nx":
      return current === undefined;
    case "xx":
      return current !== undefined;
    case "gt":
      return current !== undefined && next > current;
    case "lt":
      return current === undefined || next < current;
    default:
      return true;
  }
}

const hexpire = (unit: "s" | "ms", absolute: boolean): Handler => (c, argv) => {
  const key = str(argv[1]);
  const h = writableHash(c, key);
  if (h === null) return;
  const amount = parseInt64(str(argv[2]));
  if (amount === null) return c.error(ERR.notInt);
  if (amount < 0n) return c.error("ERR invalid expire time, must be >= 0");
  const cmd = c.current?.name ?? "hexpire";
  const ms = unit === "s" ? amount * 1000n : amount;
  const base = absolute ? 0n : BigInt(c.engine.now);
  if (ms > BigInt(MAX_DEADLINE) - base) return c.error(`ERR invalid expire time in '${cmd}' command`);
  const at = Number(ms + base);
  let cond: Condition = null;
  let fieldsAt = 3;
  for (const word of ["nx", "xx", "gt", "lt"] as const) {
    if (argv.length > 3 && is(argv[3], word)) {
      cond = word;
      fieldsAt = 4;
    }
  }
  const fields = fieldList(c, argv, fieldsAt);
  if (fields === null) return;
  if (h === undefined) return replyCodes(c, fields.map(() => NO_FIELD));
  const now = c.engine.now;
  let changed = false;
  let deleted = false;
  const codes = fields.map((field) => {
    if (!h.has(field)) return NO_FIELD;
    if (!allowed(cond, h.deadline(field), at)) return 0;
    if (at <= now) {
      h.delete(field);
      deleted = true;
      return 2;
    }
    h.setDeadline(field, at);
    changed = true;
    return 1;
  });
  if (h.size > 0 && h.hasDeadlines()) c.db.fieldDeadlines.add(key);
  // A deadline already past expires its fields at once: one hexpired event, as when they expire later.
  if (deleted) fieldsRemoved(c, key, h, "hexpired");
  else if (changed) hashWritten(c, key, "hexpire");
  replyCodes(c, codes);
};

/** HTTL and friends: what each field's deadline looks like in the given form. */
const httl = (form: (at: number, now: number) => number): Handler => (c, argv) => {
  const h = readHash(c, str(argv[1]));
  if (h === null) return;
  const fields = fieldList(c, argv, 2);
  if (fields === null) return;
  const now = c.engine.now;
  replyCodes(c, fields.map((field) => {
    if (h === undefined || !h.has(field)) return NO_FIELD;
    const at = h.deadline(field);
    return at === undefined ? NO_DEADLINE : form(at, now);
  }));
};

const hpersist: Handler = (c, argv) => {
  const key = str(argv[1]);
  const h = writableHash(c, key);
  if (h === null) return;
  const fields = fieldList(c, argv, 2);
  if (fields === null) return;
  let changed = false;
  replyCodes(c, fields.map((field) => {
    if (h === undefined || !h.has(field)) return NO_FIELD;
    if (!h.clearDeadline(field)) return NO_DEADLINE;
    changed = true;
    return 1;
  }));
  if (changed) hashWritten(c, key, "hpersist");
};

const base = { keys: [1, 1, 1] as [number, number, number], acl: "hash", group: "hash", since: "7.4.0" };
const setter = { ...base, arity: -6, flags: "write denyoom fast", keySpec: "RW update", complexity: "O(N) where N is the number of specified fields" };
const getter = { ...base, arity: -5, flags: "readonly fast", keySpec: "RO access", complexity: "O(N) where N is the number of specified fields" };

export const hashFieldCommands: CommandDef[] = [
  { name: "hexpire", ...setter, run: hexpire("s", false), summary: "Set expiry for hash field using relative time to expire (seconds)" },
  { name: "hpexpire", ...setter, run: hexpire("ms", false), summary: "Set expiry for hash field using relative time to expire (milliseconds)" },
  { name: "hexpireat", ...setter, run: hexpire("s", true), summary: "Set expiry for hash field using an absolute Unix timestamp (seconds)" },
  { name: "hpexpireat", ...setter, run: hexpire("ms", true), summary: "Set expiry for hash field using an absolute Unix timestamp (milliseconds)" },
  { name: "httl", ...getter, run: httl((at, now) => Math.floor((at - now + 999) / 1000)), summary: "Returns the TTL in seconds of a hash field." },
  { name: "hpttl", ...getter, run: httl((at, now) => at - now), summary: "Returns the TTL in milliseconds of a hash field." },
  { name: "hexpiretime", ...getter, run: httl((at) => Math.floor((at + 999) / 1000)), summary: "Returns the expiration time of a hash field as a Unix timestamp, in seconds." },
  { name: "hpexpiretime", ...getter, run: httl((at) => at), summary: "Returns the expiration time of a hash field as a Unix timestamp, in msec." },
  { name: "hpersist", ...base, arity: -5, flags: "write fast", keySpec: "RW update", run: hpersist, complexity: "O(N) where N is the number of specified fields",
    summary: "Removes the expiration time for each specified field" },
];
