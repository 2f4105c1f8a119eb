/**
 * `client-output-buffer-limit`, by client class (normal, replica, pubsub):
 * a client whose unsent output reaches the hard limit is closed at once;
 * one that stays at or above the soft limit for longer than the soft
 * seconds is closed too. Like Redis, the check runs when output is queued
 * for the client and from the cron, and it measures what the socket has not
 * accepted yet, so a client that stops reading cannot make the server's
 * memory grow without bound.
 */
import type { Client } from "./client.ts";

export interface BufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** The classes of the config value; `slave` is what CONFIG GET shows for replica. */
type LimitClass = "normal" | "slave" | "pubsub";

/** Every class of the canonical config value ("normal h s t slave h s t pubsub h s t"). */
export function parseBufferLimits(value: string): Record<LimitClass, BufferLimit> {
  const words = value.split(" ");
  const limits = {} as Record<LimitClass, BufferLimit>;
  for (let i = 0; i + 3 < words.length; i += 4) {
    limits[words[i] as LimitClass] = {
      hard: Number(words[i + 1]),
      soft: Number(words[i + 2]),
      softSeconds: Number(words[i + 3]),
    };
  }
  return limits;
}

/** Redis's checkClientOutputBufferLimits, with its whole-second clock: true when the client must go. */
export function overLimit(limit: BufferLimit, used: number, now: number, c: Client): boolean {
  if (limit.hard > 0 && used >= limit.hard) return true;
  if (limit.soft > 0 && used >= limit.soft) {
    const second = Math.floor(now / 1000);
    if (c.outputSoftSince === 0) {
      c.outputSoftSince = second;
      return false;
    }
    return second - c.outputSoftSince > limit.softSeconds;
  }
  c.outputSoftSince = 0;
  return false;
}

/** Bytes queued for c and not yet taken by its socket, plus the reply being built. */
export function outputUsed(c: Client): number {
  return c.conn.pendingBytes() + c.out.pos;
}
