/**
 * The stream of effects, as Redis's call()/propagate: one module fed from
 * Engine.call, read by the AOF now and by replication later. A command
 * whose run changed the dataset (engine.dirty moved) propagates its own
 * arguments, or what it declared instead (rewrite(): EXPIRE -> PEXPIREAT,
 * SET EX -> SET PXAT...; prevent() plus also(): SPOP count -> SREM per
 * member). Effects gather until the outermost call ends; more than one
 * (a transaction, a script, a lazy expiry DEL before a write) leave wrapped
 * in MULTI/EXEC, as Redis 7.0's propagatePendingCommands does. SELECT is
 * each reader's business, since each has its own idea of the current db.
 *
 * With no reader attached (`on` false) the engine pays one branch per call,
 * and commands build no rewrites.
 */

/** An argument: bytes, or a binary string (one char per byte). */
export type PropArg = Uint8Array | string;

export interface PropagationReader {
  /** One effect for db. argv may be views of an input buffer: copy what is kept. */
  feed(db: number, argv: readonly PropArg[]): void;
  /** Effects were fed that must reach the reader before any reply leaves: the engine holds replies until beforeSleep(). */
  readonly pending: boolean;
  /** The end of an event-loop turn, before the held replies leave (Redis's beforeSleep): make what was fed durable as promised. */
  beforeSleep(): void;
}

interface Op {
  db: number;
  argv: readonly PropArg[];
}

/** Commands that propagate through the calls they make, never themselves (Redis: EXEC, scripts). */
const NESTING = new Set(["exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]);
const MULTI: PropArg[] = ["MULTI"];
const EXEC: PropArg[] = ["EXEC"];

export class Propagation {
  /** A reader is attached: commands build rewrites, the engine reports calls. */
  on = false;
  /** Nesting of Engine.call (EXEC and scripts call commands): effects leave when it is back to 0. */
  depth = 0;
  private readers: PropagationReader[] = [];
  private pending: Op[] = [];
  private replaced: readonly PropArg[] | null = null;
  private prevented = false;

  attach(reader: PropagationReader): void {
    if (!this.readers.includes(reader)) this.readers.push(reader);
    this.on = true;
  }

  detach(reader: PropagationReader): void {
    this.readers = this.readers.filter((r) => r !== reader);
    this.on = this.readers.length > 0;
    if (!this.on) this.pending = [];
  }

  /** The running command propagates argv instead of its own (Redis's rewriteClientCommandVector). Call only when `on`. */
  rewrite(argv: readonly PropArg[]): void {
    this.replaced = argv;
  }

  /**
   * The effect of a pop that may run inside its command (a rewrite) or when
   * a blocked client is served, outside any command (an effect of its own).
   */
  effect(db: number, argv: readonly PropArg[]): void {
    if (this.depth > 0) this.replaced = argv;
    else this.also(db, argv);
  }

  /** The running command does not propagate itself (its effects went through also()). */
  prevent(): void {
    this.prevented = true;
  }

  /** An effect besides the command's own (Redis's alsoPropagate): lazy expiry DELs, SPOP's SREMs, served pops. */
  also(db: number, argv: readonly PropArg[]): void {
    if (!this.on) return;
    this.pending.push({ db, argv });
    if (this.depth === 0) this.flush();
  }

  /** Engine.call's report once a command ran (depth already decremented). */
  called(db: number, name: string, argv: readonly PropArg[], dirty: boolean): void {
    const effect = dirty && !this.prevented && !NESTING.has(name) ? this.replaced ?? argv : null;
    this.replaced = null;
    this.prevented = false;
    // The common case, one command's own effect, goes straight to the readers.
    if (effect !== null && this.depth === 0 && this.pending.length === 0) return this.emit(db, effect);
    if (effect !== null) this.pending.push({ db, argv: effect });
    if (this.depth === 0) this.flush();
  }

  /** Some reader wants replies held until beforeSleep(). */
  get holdsReplies(): boolean {
    for (const r of this.readers) if (r.pending) return true;
    return false;
  }

  /** The event-loop turn ends: held replies leave next. */
  beforeSleep(): void {
    for (const r of this.readers) r.beforeSleep();
  }

  private flush(): void {
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    const wrap = ops.length > 1;
    if (wrap) this.emit(ops[0].db, MULTI);
    for (const op of ops) this.emit(op.db, op.argv);
    if (wrap) this.emit(ops[ops.length - 1].db, EXEC);
  }

  private emit(db: number, argv: readonly PropArg[]): void {
    for (const r of this.readers) r.feed(db, argv);
  }
}
