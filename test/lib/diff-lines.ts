/**
 * Differential test scripts written as lines: "XADD {s} 1-1 f v" with
 * 'quoted' words (spaces, empty strings) and `{name}` keys under a
 * per-section prefix, or argument lists for binary data; compare() sends
 * them as one pipeline to redis-server and Respite and asserts every reply
 * is byte-identical (HELLO's reply, which carries the connection id, is not
 * compared).
 */
import assert from "node:assert/strict";
import { type DiffPair, show } from "./diff.ts";

export type Arg = string | Buffer;
export type Command = Buffer[];

export const bytes = (s: Arg): Buffer => (typeof s === "string" ? Buffer.from(s, "latin1") : s);

/** Lines of words or argument lists as commands; `{name}` becomes prefix + name. */
export function commands(prefix: string, lines: Array<string | Arg[]>): Command[] {
  const arg = (a: Arg) => (typeof a === "string" ? bytes(a.replace(/\{(\w+)\}/g, (_, k) => prefix + k)) : a);
  const words = (line: string) => line.match(/'[^']*'|\S+/g)!.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
  return lines.map((l) => (typeof l === "string" ? words(l) : l).map(arg));
}

/** Runs cmds on both servers; every reply must match byte for byte (seed, when given, is named on failure). */
export async function compare(pair: DiffPair, cmds: Command[], seed?: number): Promise<Buffer[]> {
  const [a, b] = await Promise.all([pair.redis.pipeline(cmds), pair.respite.pipeline(cmds)]);
  for (let i = 0; i < cmds.length; i++) {
    if (/^hello$/i.test(cmds[i][0].toString("latin1"))) continue;
    const where = seed === undefined ? "" : ` (seed ${seed})`;
    assert.equal(show(b[i]), show(a[i]), `reply ${i} to ${cmds[i].map((x) => x.toString("latin1")).join(" ")}${where}`);
  }
  return b;
}
