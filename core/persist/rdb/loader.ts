/**
 * Loading an RDB file in steps, so the server keeps answering (-LOADING)
 * while a large file is read: step() parses whole records until a byte
 * budget is spent. Opcodes, versions 1-10 (and 12 for Redis 7.4's hash
 * field deadlines), the CRC64 trailer and every failure follow
 * redis-server 7.0.15, whose log lines the errors carry.
 */
import type { Value } from "../../types/value.ts";
import { str } from "../../util/bytes.ts";
import { Crc64 } from "./crc64.ts";
import { internalError, LINE, moduleTypeName, OP, RDB_VERSION, RDB_VERSION_HASH_TTL, RdbLoadError } from "./format.ts";
import { DEFAULT_LIMITS, RdbReader, type RdbLimits, rdbLimits } from "./reader.ts";
import type { Config } from "../../config/config.ts";

export interface RdbLoadSink {
  aux(name: string, value: Uint8Array): void;
  selectDb(id: number): void;
  resizeDb(keys: number, expires: number): void;
  /** expireAt unix ms, lruIdle seconds, lfuFreq 0-255; -1 where absent. */
  entry(key: string, value: Value, expireAt: number, lruIdle: number, lfuFreq: number): void;
  functionLibrary(code: Uint8Array): void;
}

export interface RdbLoadOptions {
  /** sanitize-dump-payload yes: check every listpack/ziplist/intset entry. */
  sanitize: boolean;
  /** Encoding thresholds; else taken from config; else Redis's defaults. */
  limits?: RdbLimits;
  config?: Config;
  /** rdbchecksum: verify the CRC64 trailer (default true). */
  checksum?: boolean;
}

const RDB_MAGIC = "REDIS";

export class RdbLoader {
  readonly version: number;
  /** Keys skipped because their collection was empty, as Redis counts them. */
  emptyKeysSkipped = 0;
  /** Non-fatal lines redis-server logs while loading (empty keys skipped, checksum disabled). */
  readonly warnings: string[] = [];
  private readonly r: RdbReader;
  private readonly crc = new Crc64();
  private crcPos = 0;
  private done = false;
  private readonly checksum: boolean;

  constructor(bytes: Uint8Array, private sink: RdbLoadSink, opts: RdbLoadOptions) {
    this.r = new RdbReader(bytes, opts.limits ?? (opts.config ? rdbLimits(opts.config) : DEFAULT_LIMITS), opts.sanitize);
    this.checksum = opts.checksum ?? true;
    if (bytes.length < 9) this.r.eof();
    if (str(bytes.subarray(0, 5)) !== RDB_MAGIC) {
      throw new RdbLoadError(["Wrong signature trying to load DB from file"]);
    }
    const digits = str(bytes.subarray(5, 9));
    const version = /^\d+$/.test(digits) ? Number(digits) : parseInt(digits, 10) || 0;
    // Redis 7.0 reads 1-10; 12 is let in for Redis 7.4's hash field deadlines, which Respite writes.
    if (version < 1 || (version > RDB_VERSION && version !== RDB_VERSION_HASH_TTL)) {
      throw new RdbLoadError([`Can't handle RDB format version ${version}`]);
    }
    this.version = version;
    this.r.pos = 9;
  }

  get pos(): number {
    return this.r.pos;
  }

  /** Parses records until about budgetBytes more are consumed; true once EOF (and the CRC) are read. */
  step(budgetBytes: number): boolean {
    if (this.done) return true;
    const r = this.r;
    const stop = r.pos + budgetBytes;
    let expireAt = -1, idle = -1, freq = -1;
    try {
      while (true) {
        // Only stop between whole records, never between an expire/idle/freq opcode and its key.
        if (r.pos >= stop && expireAt === -1 && idle === -1 && freq === -1) break;
        const type = r.byte();
        switch (type) {
          case OP.EXPIRETIME:
            expireAt = r.intLE(4) * 1000;
            continue;
          case OP.EXPIRETIME_MS:
            expireAt = r.intLE(8);
            continue;
          case OP.FREQ:
            freq = r.byte();
            continue;
          case OP.IDLE:
            idle = r.len();
            continue;
          case OP.EOF:
            this.finish();
            return true;
          case OP.SELECTDB: {
            const id = r.len();
            if (id >= r.limits.databases) {
              throw new RdbLoadError([
                `FATAL: Data file was created with a Redis server configured to handle more than ${r.limits.databases} databases. Exiting\n`,
              ]);
            }
            this.sink.selectDb(id);
            continue;
          }
          case OP.RESIZEDB: {
            const keys = r.len();
            this.sink.resizeDb(keys, r.len());
            continue;
          }
          case OP.AUX: {
            const name = r.string();
            this.sink.aux(name, r.stringBytes().slice());
            continue;
          }
          case OP.MODULE_AUX: {
            const id = r.bigLen();
            if (r.len() !== 2) r.fail(LINE.whenOpcode, "bad when_opcode");
            r.len();
            throw new RdbLoadError([`The RDB file contains AUX module data I can't load: no matching module '${moduleTypeName(id)}'`]);
          }
          case OP.FUNCTION_PRE_GA: {
            // 7.0 release candidates wrote name, engine, optional description, code; GA refuses them.
            r.stringBytes();
            r.stringBytes();
            if (r.len() !== 0) r.stringBytes();
            r.stringBytes();
            throw new RdbLoadError(["Failed loading library: Pre-GA function format not supported"]);
          }
          case OP.FUNCTION2:
            this.sink.functionLibrary(r.stringBytes().slice());
            continue;
        }
        const key = r.string();
        const value = r.object(type);
        if (value === null) {
          this.emptyKeysSkipped++;
          this.warnings.push(`rdbLoadObject skipping empty key: ${key}`);
        } else this.sink.entry(key, value, expireAt, idle, freq);
        expireAt = idle = freq = -1;
      }
    } finally {
      this.crc.update(r.bytes.subarray(this.crcPos, Math.min(r.pos, r.bytes.length)));
      this.crcPos = r.pos;
    }
    return false;
  }

  /** After EOF: the CRC64 trailer (from version 5), unless it is 0 (saved with rdbchecksum no). */
  private finish(): void {
    const r = this.r;
    this.crc.update(r.bytes.subarray(this.crcPos, r.pos));
    this.crcPos = r.pos;
    if (this.version >= 5) {
      const at = r.take(8);
      this.crcPos = r.pos;
      let stored = 0n;
      for (let i = 7; i >= 0; i--) stored = (stored << 8n) | BigInt(r.bytes[at + i]);
      if (this.checksum) {
        const expected = this.crc.value();
        if (stored === 0n) this.warnings.push("RDB file was saved with checksum disabled: no check performed.");
        else if (stored !== expected) {
          throw new RdbLoadError([
            `Wrong RDB checksum expected: (${expected.toString(16)}) but got (${stored.toString(16)}). Aborting now.`,
            internalError(r.reported, LINE.crc, "RDB CRC error"),
          ]);
        }
      }
    }
    this.done = true;
  }
}
