/**
 * The pubsub class of `client-output-buffer-limit`: a subscriber whose
 * unsent output reaches the hard limit is closed at once; one that stays at
 * or above the soft limit for longer than the soft seconds is closed too.
 * Like Redis, the check runs whenever output is queued for the client, and
 * it measures what the socket has not accepted yet, so a subscriber that
 * stops reading cannot make the server's memory grow without bound.
 */
import type { Client } from "../server/client.ts";

export interface BufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** The pubsub entry of the canonical config value ("normal h s t slave h s t pubsub h s t"). */
export function parsePubsubLimit(value: string): BufferLimit {
  const words = value.split(" ");
  const i = words.indexOf("pubsub");
  return { hard: Number(words[i + 1]), soft: Number(words[i + 2]), softSeconds: Number(words[i + 3]) };
}

/** Redis's checkClientOutputBufferLimits, with its whole-second clock: true when the client must go. */
export function overLimit(limit: BufferLimit, used: number, now: number, state: { softSince: number }): boolean {
  if (limit.hard > 0 && used >= limit.hard) return true;
  if (limit.soft > 0 && used >= limit.soft) {
    const second = Math.floor(now / 1000);
    if (state.softSince === 0) {
      state.softSince = second;
      return false;
    }
    return second - state.softSince > limit.softSeconds;
  }
  state.softSince = 0;
  return false;
}

/** Bytes queued for c and not yet taken by its socket, plus the reply being built. */
export function outputUsed(c: Client): number {
  return c.conn.pendingBytes() + c.out.pos;
}
