/**
 * Helpers for differential tests of collection commands: command lines with
 * per-test key prefixes, byte-for-byte comparison of pipelined replies, and
 * order-insensitive comparison for replies whose order Redis leaves to its
 * hash table (hashtable-encoded hashes and sets).
 */
import assert from "node:assert/strict";
import { DiffPair, show } from "./diff.ts";
import { decodeReplies, RespMap, type RespValue } from "../../core/resp/decoder.ts";

export type Arg = string | Buffer;
export type Command = Buffer[];
export const bytes = (s: Arg) => (typeof s === "string" ? Buffer.from(s, "latin1") : s);

/** Lines of words ('quoted' words may hold spaces or be empty) or argument lists; `{name}` is a key under the prefix. */
export function commands(prefix: string, lines: Array<string | Arg[]>): Command[] {
  const arg = (a: Arg) => (typeof a === "string" ? bytes(a.replace(/\{(\w+)\}/g, (_, k) => prefix + k)) : a);
  const words = (line: string) => line.match(/'[^']*'|\S+/g)!.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
  return lines.map((l) => (typeof l === "string" ? words(l) : l).map(arg));
}

const label = (cmd: Command) => cmd.map((x) => x.toString("latin1")).join(" ").slice(0, 200);

/** Pipelines cmds to both servers and asserts identical reply bytes; returns Respite's replies. */
export async function compare(pair: DiffPair, cmds: Command[]): Promise<Buffer[]> {
  const [a, b] = await Promise.all([pair.redis.pipeline(cmds), pair.respite.pipeline(cmds)]);
  for (let i = 0; i < cmds.length; i++) assert.equal(show(b[i]), show(a[i]), `reply ${i} to ${label(cmds[i])}`);
  return b;
}

/** A reply as plain data: bytes as latin1 strings, maps as [key, value] pairs. */
export function plain(v: RespValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  if (v instanceof RespMap) return [...v].map(([k, x]) => [plain(k), plain(x)]);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

export const decode = (b: Buffer) => plain(decodeReplies(b).values[0]);

/**
 * The same reply with its elements sorted. `pairs` groups a flat array in
 * twos first (HGETALL in RESP2); SCAN replies sort their element list.
 */
export function sorted(reply: Buffer, pairs = false, scan = false): unknown {
  const v = decode(reply);
  if (!Array.isArray(v)) return v;
  if (scan) return [v[0], sortList(v[1] as unknown[], pairs)];
  return sortList(v, pairs);
}

function sortList(list: unknown[], pairs: boolean): unknown[] {
  const items: unknown[] = pairs && !Array.isArray(list[0]) ? list.flatMap((x, i) => (i % 2 ? [] : [[x, list[i + 1]]])) : list.slice();
  const key = (x: unknown) => JSON.stringify(x);
  return items.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

/** Compares replies to cmds as sorted lists: for replies in hash-table order. */
export async function compareUnordered(pair: DiffPair, cmds: Command[], pairs = false): Promise<void> {
  const [a, b] = await Promise.all([pair.redis.pipeline(cmds), pair.respite.pipeline(cmds)]);
  for (let i = 0; i < cmds.length; i++) {
    assert.deepEqual(sorted(b[i], pairs), sorted(a[i], pairs), `reply ${i} to ${label(cmds[i])}`);
  }
}
