/**
 * COMMAND DOCS' doc_flags, deprecated_since and replaced_by, which only
 * clients reading the docs see: kept in one table keyed by full command name
 * (as Redis 7.0.15 gives them) rather than spread over every family's
 * definitions, since nothing else in the server reads them.
 */

export interface DocNotes {
  /** "deprecated" and/or "syscmd", in Redis's order. */
  flags: string[];
  deprecatedSince?: string;
  replacedBy?: string;
}

const deprecated = (since: string, replacedBy: string): DocNotes => ({ flags: ["deprecated"], deprecatedSince: since, replacedBy });
const SYSCMD: DocNotes = { flags: ["syscmd"] };

const NOTES: Record<string, DocNotes> = {
  "brpoplpush": deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
  "cluster|slaves": deprecated("5.0.0", "`CLUSTER REPLICAS`"),
  "cluster|slots": deprecated("7.0.0", "`CLUSTER SHARDS`"),
  "georadius": deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
  "georadius_ro": deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"),
  "georadiusbymember": deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments"),
  "georadiusbymember_ro": deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
  "getset": deprecated("6.2.0", "`SET` with the `!GET` argument"),
  "hmset": deprecated("4.0.0", "`HSET` with multiple field-value pairs"),
  "rpoplpush": deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
  "slaveof": deprecated("5.0.0", "`REPLICAOF`"),
  "substr": deprecated("2.0.0", "`GETRANGE`"),
  "zrangebylex": deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument"),
  "zrangebyscore": deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument"),
  "zrevrange": deprecated("6.2.0", "`ZRANGE` with the `REV` argument"),
  "zrevrangebylex": deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
  "zrevrangebyscore": deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
  "debug": SYSCMD,
  "pfdebug": SYSCMD,
  "pfselftest": SYSCMD,
  "replconf": SYSCMD,
  "restore-asking": SYSCMD,
};

/** The notes for a command by its full name ("cluster|slots"), if it has any. */
export const docNotes = (fullName: string): DocNotes | undefined => NOTES[fullName];
