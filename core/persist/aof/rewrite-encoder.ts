/**
 * The AOF-format snapshot encoder: the commands Redis's rewrite writes for
 * a base file without RDB preamble. SELECT per db; per key SET, or RPUSH /
 * SADD / ZADD / HMSET in batches of 64 elements (AOF_REWRITE_ITEMS_PER_CMD),
 * then PEXPIREAT when the key has a deadline (and, for hash fields with
 * their own deadlines, HPEXPIREAT as Redis 7.4 would need them).
 */
import type { SnapshotEncoder } from "../snapshot.ts";
import { isString, type Value } from "../../types/value.ts";
import { ListValue } from "../../types/list.ts";
import { HashValue } from "../../types/hash.ts";
import { SetValue } from "../../types/set.ts";
import { ZSet } from "../../types/zset.ts";
import { Stream } from "../../types/stream.ts";
import { streamRewrite } from "./stream-rewrite.ts";
import { AofBuffer } from "./resp.ts";
import type { PropArg } from "../propagate.ts";
import { type KeyRef, refText } from "../../db/shard.ts";

const ITEMS_PER_CMD = 64;

export class AofEncoder implements SnapshotEncoder {
  private readonly out = new AofBuffer();

  get buffered(): number {
    return this.out.pos;
  }

  take(): Uint8Array {
    return this.out.take();
  }

  /** Text written before everything (a `#TS:` annotation, FUNCTION LOAD of each library). */
  preamble(text: string, libraries: Uint8Array[]): void {
    if (text !== "") this.out.binary(text);
    for (const code of libraries) this.out.command(["FUNCTION", "LOAD", code]);
  }

  selectDb(id: number): void {
    this.out.command(["SELECT", String(id)]);
  }

  entry(key: string, value: Value, expireAt: number): void {
    const out = this.out;
    if (isString(value)) out.command(["SET", key, typeof value === "number" ? String(value) : value]);
    else if (value instanceof ListValue) {
      const items: PropArg[] = [];
      value.walk(0, false, (node, pos) => {
        items.push(node.value(pos).slice());
        return true;
      });
      this.batches("RPUSH", key, items, 1);
    } else if (value instanceof SetValue) this.batches("SADD", key, value.members(), 1);
    else if (value instanceof ZSet) {
      const items: PropArg[] = [];
      value.forEach((m, score) => items.push(exactDouble(score), m));
      this.batches("ZADD", key, items, 2);
    } else if (value instanceof HashValue) {
      const items: PropArg[] = [];
      value.forEach((f, v) => items.push(f, typeof v === "number" ? String(v) : v));
      this.batches("HMSET", key, items, 2);
      if (value.hasDeadlines()) {
        value.forEach((f) => {
          const at = value.deadline(f);
          if (at !== undefined) out.command(["HPEXPIREAT", key, String(at), "FIELDS", "1", f]);
        });
      }
    } else if (value instanceof Stream) streamRewrite(key, value, (argv) => out.command(argv));
    else throw new Error(`AOF rewrite: cannot write a ${value.type}`);
    if (expireAt !== -1) out.command(["PEXPIREAT", key, String(expireAt)]);
  }

  entryAt(key: KeyRef, value: Value, expireAt: number): void {
    this.entry(refText(key), value, expireAt);
  }

  stringAt(key: KeyRef, value: KeyRef, expireAt: number): void {
    this.entry(refText(key), refText(value), expireAt);
  }

  packedHashAt(key: KeyRef, packed: KeyRef, expireAt: number): void {
    this.entry(refText(key), HashValue.lentCopy(packed.bytes, packed.at, packed.length), expireAt);
  }

  /** name key item... in commands of at most 64 elements (width args per element). */
  private batches(name: string, key: string, items: PropArg[], width: number): void {
    const per = ITEMS_PER_CMD * width;
    for (let i = 0; i < items.length; i += per) {
      const n = Math.min(per, items.length - i);
      this.out.array(2 + n);
      this.out.arg(name);
      this.out.arg(key);
      for (let j = i; j < i + n; j++) this.out.arg(items[j]);
    }
  }
}

/** A score that reads back as the same double: the shortest round-trip form (Redis writes %.17g). */
function exactDouble(d: number): string {
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  return d === Infinity ? "inf" : d === -Infinity ? "-inf" : String(d);
}
