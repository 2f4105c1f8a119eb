/**
 * BITFIELD and BITFIELD_RO: GET / SET / INCRBY of i1..i64 and u1..u63
 * fields at bit offsets (or `#n` field indexes) under OVERFLOW WRAP / SAT
 * / FAIL, as Redis 7.0 runs them: every argument is checked before the key
 * is touched, a write grows the string to its farthest field first, and
 * only fields that really changed count as changes (dirty, the "setbit"
 * event, propagation).
 */
import type { CommandDef, Handler } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, readString } from "./args.ts";
import { bitOffsetArg, bitsForWrite } from "./bit-args.ts";
import { asBytes } from "../types/string.ts";
import { fieldValue, type FieldType, fitField, type Overflow, readField, writeField } from "../types/bits.ts";

const TYPE_ERR = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

interface FieldOp {
  kind: "get" | "set" | "incrby";
  type: FieldType;
  offset: number;
  /** SET's value or INCRBY's increment. */
  arg: bigint;
  overflow: Overflow;
}

/** i<bits> (1..64) or u<bits> (1..63), the sign letter lower case as Redis wants it. */
function fieldTypeArg(c: Client, arg: Uint8Array): FieldType | null {
  const signed = arg[0] === 105;
  const bits = arg.length > 1 && (signed || arg[0] === 117) ? parseInt64(str(arg.subarray(1))) : null;
  if (bits === null || bits < 1n || bits > (signed ? 64n : 63n)) {
    c.error(TYPE_ERR);
    return null;
  }
  return { signed, bits: Number(bits) };
}

function overflowArg(arg: Uint8Array): Overflow | null {
  return is(arg, "wrap") ? "wrap" : is(arg, "sat") ? "sat" : is(arg, "fail") ? "fail" : null;
}

/** The subcommands in order, or null when an argument is wrong (the error sent). */
function parseOps(c: Client, argv: Uint8Array[]): FieldOp[] | null {
  const ops: FieldOp[] = [];
  let overflow: Overflow = "wrap";
  for (let j = 2; j < argv.length; j++) {
    const rest = argv.length - j - 1;
    const sub = argv[j];
    let kind: FieldOp["kind"];
    if (is(sub, "get") && rest >= 2) kind = "get";
    else if (is(sub, "set") && rest >= 3) kind = "set";
    else if (is(sub, "incrby") && rest >= 3) kind = "incrby";
    else if (is(sub, "overflow") && rest >= 1) {
      const o = overflowArg(argv[++j]);
      if (o === null) return c.error("ERR Invalid OVERFLOW type specified"), null;
      overflow = o;
      continue;
    } else return c.error(ERR.syntax), null;
    const type = fieldTypeArg(c, argv[j + 1]);
    if (type === null) return null;
    const offset = bitOffsetArg(c, argv[j + 2], type.bits);
    if (offset === null) return null;
    let arg = 0n;
    if (kind !== "get") {
      const v = parseInt64(str(argv[j + 3]));
      if (v === null) return c.error(ERR.notInt), null;
      arg = v;
    }
    ops.push({ kind, type, offset, arg, overflow });
    j += kind === "get" ? 2 : 3;
  }
  return ops;
}

const EMPTY = new Uint8Array(0);

function bitfield(readonly: boolean): Handler {
  return (c, argv) => {
    const ops = parseOps(c, argv);
    if (ops === null) return;
    const key = str(argv[1]);
    let last = -1;
    for (const op of ops) if (op.kind !== "get") last = Math.max(last, op.offset + op.type.bits - 1);
    let bytes: Uint8Array = EMPTY;
    let grew = false;
    if (last < 0) {
      const v = readString(c, key);
      if (v === null) return;
      if (v !== undefined) bytes = asBytes(v);
    } else {
      if (readonly) return c.error("ERR BITFIELD_RO only supports the GET subcommand");
      const target = bitsForWrite(c, key, Math.floor(last / 8));
      if (target === null) return;
      ({ bytes, grew } = target);
    }
    c.out.array(ops.length);
    let changes = 0;
    for (const { kind, type, offset, arg, overflow } of ops) {
      const old = fieldValue(readField(bytes, offset, type.bits), type);
      if (kind === "get") {
        c.out.int(old);
        continue;
      }
      const next = kind === "incrby" ? fitField(old, arg, type, overflow) : fitField(arg, 0n, type, overflow);
      if (next === null) {
        c.out.nullBulk();
        continue;
      }
      c.out.int(kind === "incrby" ? next : old);
      writeField(bytes, offset, type.bits, next);
      if (grew || next !== old) changes++;
    }
    if (changes === 0) return;
    c.engine.keyWritten(c.db, key);
    c.engine.dirty += changes - 1;
    c.engine.notify(c.db, "setbit", key, "$");
  };
}

/**
 * Redis's bitfieldGetKeys: read-only access when every operation is a GET
 * (or OVERFLOW) with its arguments, read-write as soon as a SET, an INCRBY or
 * anything it cannot parse appears.
 */
function bitfieldKeyFlags(argv: Uint8Array[]): string[] {
  for (let i = 2; i < argv.length; i++) {
    const rest = argv.length - i - 1;
    if (is(argv[i], "get") && rest >= 2) i += 2;
    else if (is(argv[i], "overflow") && rest >= 1) i += 1;
    else return ["RW access update"];
  }
  return ["RO access"];
}

const base = { acl: "bitmap", group: "bitmap", arity: -2, keys: [1, 1, 1] as [number, number, number] };

export const bitfieldCommands: CommandDef[] = [
  {
    ...base,
    name: "bitfield",
    flags: "write denyoom",
    keySpecs: [{
      flags: "RW access update variable_flags",
      notes: "This command allows both access and modification of the key",
      begin: 1,
      find: { range: [0, 1, 0] },
    }],
    keyFlags: bitfieldKeyFlags,
    since: "3.2.0",
    summary: "Perform arbitrary bitfield integer operations on strings",
    complexity: "O(1) for each subcommand specified",
    run: bitfield(false),
  },
  {
    ...base,
    name: "bitfield_ro",
    flags: "readonly fast",
    since: "6.0.0",
    summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    complexity: "O(1) for each subcommand specified",
    run: bitfield(true),
  },
];
