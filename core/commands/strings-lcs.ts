/**
 * LCS: longest common subsequence of two string keys, by the same dynamic
 * programming table and backtrack Redis uses, so that among equally long
 * answers the same one, and the same match ranges, are reported.
 */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, readKey } from "./args.ts";
import { asBytes } from "../types/string.ts";
import { isString, type StringValue, type Value } from "../types/value.ts";

interface LcsOptions {
  idx: boolean;
  len: boolean;
  withMatchLen: boolean;
  minMatchLen: number;
}

function parseOptions(c: Client, argv: Uint8Array[]): LcsOptions | null {
  const o: LcsOptions = { idx: false, len: false, withMatchLen: false, minMatchLen: 0 };
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i];
    if (is(a, "idx")) o.idx = true;
    else if (is(a, "len")) o.len = true;
    else if (is(a, "withmatchlen")) o.withMatchLen = true;
    else if (is(a, "minmatchlen") && i + 1 < argv.length) {
      const n = parseInt64(str(argv[++i]));
      if (n === null) {
        c.error(ERR.notInt);
        return null;
      }
      o.minMatchLen = n < 0n ? 0 : n > 2n ** 32n ? 2 ** 32 : Number(n);
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  if (o.idx && o.len) {
    c.error("ERR If you want both the length and indexes, please just use IDX.");
    return null;
  }
  return o;
}

/** table[i*(b+1)+j] = LCS length of a[0..i) and b[0..j). */
function lcsTable(a: Uint8Array, b: Uint8Array): Uint32Array {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const row = i * width, up = row - width, ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      if (ai === b[j - 1]) table[row + j] = table[up + j - 1] + 1;
      else {
        const left = table[row + j - 1], above = table[up + j];
        table[row + j] = above > left ? above : left;
      }
    }
  }
  return table;
}

/** One maximal run of matching bytes: [aStart, aEnd, bStart, bEnd]. */
type Match = [number, number, number, number];

/**
 * Walks the table back from the end as Redis does, collecting the LCS bytes
 * and the contiguous match ranges (last ones first).
 */
function backtrack(a: Uint8Array, b: Uint8Array, table: Uint32Array): { lcs: Uint8Array; matches: Match[] } {
  const width = b.length + 1;
  let idx = table[a.length * width + b.length];
  const lcs = new Uint8Array(idx);
  const matches: Match[] = [];
  let i = a.length, j = b.length;
  let run: Match | null = null;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      lcs[--idx] = a[i - 1];
      if (run === null) run = [i - 1, i - 1, j - 1, j - 1];
      else {
        // Consecutive matches on the diagonal always extend the run.
        run[0]--;
        run[2]--;
      }
      if (run[0] === 0 || run[2] === 0) emit = true;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j] > table[i * width + j - 1]) i--;
      else j--;
      if (run !== null) emit = true;
    }
    if (emit && run !== null) {
      matches.push(run);
      run = null;
    }
  }
  return { lcs, matches };
}

function replyIdx(c: Client, matches: Match[], length: number, o: LcsOptions): void {
  const shown = matches.filter((m) => o.minMatchLen === 0 || m[1] - m[0] + 1 >= o.minMatchLen);
  c.out.map(2);
  c.out.bulkStr("matches");
  c.out.array(shown.length);
  for (const [aStart, aEnd, bStart, bEnd] of shown) {
    c.out.array(o.withMatchLen ? 3 : 2);
    c.out.array(2);
    c.out.int(aStart);
    c.out.int(aEnd);
    c.out.array(2);
    c.out.int(bStart);
    c.out.int(bEnd);
    if (o.withMatchLen) c.out.int(aEnd - aStart + 1);
  }
  c.out.bulkStr("len");
  c.out.int(length);
}

const asOperand = (v: Value | undefined) => (v === undefined ? new Uint8Array(0) : asBytes(v as StringValue));

export const lcsCommands: CommandDef[] = [
  {
    name: "lcs",
    arity: -3,
    flags: "readonly",
    keys: [1, 2, 1],
    acl: "string",
    group: "string",
    since: "7.0.0",
    summary: "Finds the longest common substring.",
    complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
    run(c, argv) {
      const va = readKey(c, str(argv[1]));
      const vb = readKey(c, str(argv[2]));
      if ((va !== undefined && !isString(va)) || (vb !== undefined && !isString(vb))) {
        return c.error("ERR The specified keys must contain string values");
      }
      const o = parseOptions(c, argv);
      if (o === null) return;
      const a = asOperand(va), b = asOperand(vb);
      if ((a.length + 1) * (b.length + 1) * 4 > c.engine.parserLimits.maxBulkLen) {
        return c.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
      }
      let table: Uint32Array;
      try {
        table = lcsTable(a, b);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        return c.error("ERR Insufficient memory, failed allocating transient memory for LCS");
      }
      const length = table[table.length - 1];
      if (o.len && !o.idx) return c.out.int(length);
      const { lcs, matches } = backtrack(a, b, table);
      if (o.idx) replyIdx(c, matches, length, o);
      else c.out.bulk(lcs);
    },
  },
];
