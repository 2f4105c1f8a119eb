/**
 * RDB's vocabulary: object types, opcodes, the string encodings, and the
 * error a damaged file raises. The error carries the lines redis-server
 * logs for the same damage, rdb.c line numbers of 7.0.15 included, so an
 * operator sees the messages they already know.
 */

export const RDB_VERSION = 10;
/** The version a file takes when it holds Redis 7.4's hash field deadlines. */
export const RDB_VERSION_HASH_TTL = 12;

export const TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

export const OP = {
  FUNCTION2: 0xf5,
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

export const RDB_EOF = OP.EOF;

/** The first byte of an encoded string: 0xC0 | one of these. */
export const ENC_INT8 = 0, ENC_INT16 = 1, ENC_INT32 = 2, ENC_LZF = 3;

/** Quicklist 2 node containers. */
export const CONTAINER_PLAIN = 1, CONTAINER_PACKED = 2;

/** rdb.c lines of 7.0.15's rdbReportError calls, as its log names them. */
export const LINE = {
  eof: 3249,
  crc: 3225,
  unknownStringEncoding: 529,
  lzf: 413,
  unknownType: 2681,
  moduleType: 2636,
  whenOpcode: 3066,
  quicklist: 2048,
  quicklistListpack: 2071,
  intset: 2214,
  zsetListpack: 2255,
  hashZiplist: 2275,
  hashListpack: 2301,
  lengthEncoding: 236,
  // Lines below were not observed on 7.0.15 and are best estimates.
  intEncoding: 296,
  listZiplist: 2158,
  setDup: 1835,
  zsetDup: 1900,
  hashDup: 1978,
  zipmap: 2120,
  zsetZiplist: 2238,
  hashListpackEx: 2320,
  quicklistZiplist: 2058,
  hashTtl: 2000,
  zsetScore: 1876,
  emptyKey: 2700,
} as const;

/** Loading failed: `lines` are what redis-server logs for this damage, the last one the main one. */
export class RdbLoadError extends Error {
  constructor(readonly lines: string[]) {
    super(lines[lines.length - 1]);
    this.name = "RdbLoadError";
  }
}

/** Redis's rdbReportError line. */
export function internalError(offset: number, line: number, reason: string): string {
  return `Internal error in RDB reading offset ${offset}, function at rdb.c:${line} -> ${reason}`;
}

/** The charset of module type names, 6 bits per char in a module id. */
const MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The 9-char type name in a 64-bit module id (its low 10 bits are the encoding version). */
export function moduleTypeName(id: bigint): string {
  let name = "";
  let v = id >> 10n;
  for (let i = 0; i < 9; i++) {
    name = MODULE_CHARSET[Number(v & 63n)] + name;
    v >>= 6n;
  }
  return name;
}
