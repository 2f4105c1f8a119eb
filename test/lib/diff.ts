/**
 * Differential testing: the same commands go to a real redis-server and to
 * Respite, and every reply is compared byte for byte. Deliberate
 * differences are listed in test/DIFFERENCES.md and skipped by name here.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { RawConnection } from "./raw.ts";
import { type Runtime, type ServerHandle, startRespite } from "./servers.ts";

export type Cmd = Array<string | Buffer | number>;

export class DiffPair {
  private constructor(readonly redis: RawConnection, readonly respite: RawConnection) {}

  static async open(redisPort: number, respitePort: number): Promise<DiffPair> {
    return new DiffPair(await RawConnection.connect(redisPort), await RawConnection.connect(respitePort));
  }

  /** Sends cmd to both servers and asserts identical reply bytes; returns them. */
  async same(...cmd: Cmd): Promise<Buffer> {
    const [a, b] = await Promise.all([this.redis.call(...cmd), this.respite.call(...cmd)]);
    assert.equal(show(b), show(a), `reply to ${show(Buffer.from(cmd.map(String).join(" "), "latin1"))}`);
    return a;
  }

  /** Sends every command as one pipeline to each server and compares all replies. */
  async sameAll(cmds: Cmd[]): Promise<void> {
    const [a, b] = await Promise.all([this.redis.pipeline(cmds), this.respite.pipeline(cmds)]);
    for (let i = 0; i < cmds.length; i++) {
      assert.equal(show(b[i]), show(a[i]), `reply ${i} to ${cmds[i].map(String).join(" ")}`);
    }
  }

  close(): void {
    this.redis.close();
    this.respite.close();
  }
}

/** The two sides a differential suite talks to, set before its tests run. */
export interface DiffSuite {
  respite: ServerHandle;
  pair: DiffPair;
}

/**
 * For the enclosing describe: starts Respite on rt (with extra flags) and
 * opens a DiffPair to it and to redis() before the tests; closes both after.
 */
export function diffSuite(redis: () => ServerHandle, rt: Runtime, extra: string[] = []): DiffSuite {
  const suite = {} as DiffSuite;
  before(async () => {
    suite.respite = await startRespite(rt, extra);
    suite.pair = await DiffPair.open(redis().port, suite.respite.port);
  });
  after(async () => {
    suite.pair?.close();
    await suite.respite?.stop();
  });
  return suite;
}

/** Bytes as a readable string with CR/LF and non-ASCII escaped, for assertion messages. */
export function show(b: Buffer): string {
  return JSON.stringify(b.toString("latin1"));
}

/** What a subscriber received, shown, until a push naming barrier (a channel the commanding connection publishes to last). */
export async function pushesUntil(sub: RawConnection, barrier: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const [push] = await sub.readReplies(1);
    if (push.includes(barrier)) return out;
    out.push(show(push));
  }
}

/** A small deterministic PRNG so randomized sequences can be replayed from their seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
