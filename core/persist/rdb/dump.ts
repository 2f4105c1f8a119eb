/**
 * DUMP payloads: the value's type byte and RDB body, the RDB version as
 * two little-endian bytes, and the CRC64 of everything before, as Redis
 * 7.0 writes them. restoreValue refuses a payload from a newer RDB version
 * or with a wrong checksum, and reports any damage in the body as
 * "Bad data format", never loading part of a value.
 */
import type { Value } from "../../types/value.ts";
import { crc64, Crc64 } from "./crc64.ts";
import { objectType, writeObject } from "./encoder.ts";
import { ByteWriter } from "./writer.ts";
import { RDB_VERSION } from "./format.ts";
import { DEFAULT_LIMITS, RdbReader, type RdbLimits, rdbLimits } from "./reader.ts";
import type { Config } from "../../config/config.ts";

export interface DumpOptions {
  /** rdbcompression (Redis's DUMP compresses as its RDB does; default true). */
  compression?: boolean;
}

export interface RestoreOptions {
  /** sanitize-dump-payload yes: check every listpack/ziplist/intset entry. */
  sanitize?: boolean;
  /** Encoding thresholds; else taken from config; else Redis's defaults. */
  limits?: RdbLimits;
  config?: Config;
}

export function dumpValue(value: Value, opts: DumpOptions = {}): Uint8Array {
  const w = new ByteWriter(64);
  w.byte(objectType(value));
  writeObject(w, value, opts.compression ?? true);
  w.byte(RDB_VERSION & 0xff);
  w.byte(RDB_VERSION >> 8);
  const crc = new Crc64();
  crc.update(w.buf.subarray(0, w.pos));
  w.bytes(crc.bytes());
  return w.toBytes();
}

/** True when the payload's footer names an RDB version this server reads and its CRC64 matches. */
export function verifyPayload(payload: Uint8Array): boolean {
  const n = payload.length;
  if (n < 10) return false;
  const version = payload[n - 10] | (payload[n - 9] << 8);
  if (version > RDB_VERSION) return false;
  let stored = 0n;
  for (let i = 7; i >= 0; i--) stored = (stored << 8n) | BigInt(payload[n - 8 + i]);
  return crc64(payload.subarray(0, n - 8)) === stored;
}

export function restoreValue(payload: Uint8Array, opts: RestoreOptions = {}): Value {
  if (!verifyPayload(payload)) throw new Error("DUMP payload version or checksum are wrong");
  const body = payload.subarray(0, payload.length - 10);
  const r = new RdbReader(body, opts.limits ?? (opts.config ? rdbLimits(opts.config) : DEFAULT_LIMITS), opts.sanitize ?? false);
  let value: Value | null;
  try {
    const type = r.byte();
    value = r.object(type);
  } catch {
    throw new Error("Bad data format");
  }
  // An empty collection is refused too, as Redis's RESTORE does.
  if (value === null) throw new Error("Bad data format");
  return value;
}
