/**
 * Keyspace notifications: which event classes `notify-keyspace-events`
 * turns on, and the two channels each event is published to
 * (__keyspace@<db>__:<key> carrying the event name, and
 * __keyevent@<db>__:<event> carrying the key), as Redis names them.
 */

/** Event classes by their config letter; a command passes its class letter with each event. */
const CLASS_BITS: Record<string, number> = {
  g: 1, // generic: del, expire, rename...
  $: 2, // strings
  l: 4, // lists
  s: 8, // sets
  h: 16, // hashes
  z: 32, // sorted sets
  x: 64, // expired
  e: 128, // evicted
  t: 256, // streams
  m: 512, // key misses (not part of A)
  d: 1024, // module
  n: 2048, // new keys (not part of A)
};
const ALL_CLASSES = "g$lshzxetd";

export class KeyspaceEvents {
  /** Bits of the enabled classes; 0 when neither K nor E is set, so callers skip everything. */
  private classes = 0;
  keyspace = false;
  keyevent = false;

  /** Takes the canonical config value (core/config/config.ts validates and orders it). */
  configure(flags: string): void {
    let classes = 0;
    for (const ch of flags) {
      if (ch === "A") for (const all of ALL_CLASSES) classes |= CLASS_BITS[all];
      else classes |= CLASS_BITS[ch] ?? 0;
    }
    this.keyspace = flags.includes("K");
    this.keyevent = flags.includes("E");
    this.classes = this.keyspace || this.keyevent ? classes : 0;
  }

  get enabled(): boolean {
    return this.classes !== 0;
  }

  wants(cls: string): boolean {
    return (this.classes & (CLASS_BITS[cls] ?? 0)) !== 0;
  }
}

export function keyspaceChannel(db: number, key: string): string {
  return `__keyspace@${db}__:${key}`;
}

export function keyeventChannel(db: number, event: string): string {
  return `__keyevent@${db}__:${event}`;
}
