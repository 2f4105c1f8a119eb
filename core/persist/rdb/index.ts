/** The RDB codec's public face: what saving, loading and DUMP/RESTORE use. */
export { Crc64, crc64 } from "./crc64.ts";
export { RdbEncoder, rdbHeader, serializedLength } from "./encoder.ts";
export { RDB_EOF, RdbLoadError } from "./format.ts";
export { RdbLoader, type RdbLoadOptions, type RdbLoadSink } from "./loader.ts";
export type { SnapshotEncoder } from "../snapshot.ts";
export { dumpValue, restoreValue } from "./dump.ts";
export { DEFAULT_LIMITS, type RdbLimits, rdbLimits } from "./reader.ts";
