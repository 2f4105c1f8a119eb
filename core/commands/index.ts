/** Every command family, in one list for the command table. */
import type { CommandDef } from "./table.ts";
import { connectionCommands } from "./connection.ts";
import { stringCommands } from "./strings.ts";
import { transactionCommands } from "./transactions.ts";
import { serverCommands } from "./server.ts";
import { debugCommands } from "./debug.ts";
import { dumpCommands } from "./dump.ts";
import { migrateCommands } from "./migrate.ts";
import { persistenceCommands } from "./persistence.ts";
import { aofCommands } from "./aof.ts";
import { configCommands } from "./config.ts";
import { clientCommands } from "./client.ts";
import { commandCommands } from "./command.ts";
import { keyCommands } from "./keys.ts";
import { expireCommands } from "./expire.ts";
import { databaseCommands } from "./databases.ts";
import { objectCommands } from "./object.ts";
import { listCommands } from "./lists.ts";
import { listBlockingCommands } from "./lists-blocking.ts";
import { zsetCommands } from "./zsets.ts";
import { zsetRangeCommands } from "./zset-ranges.ts";
import { zsetPopCommands } from "./zset-pop.ts";
import { zsetStoreCommands } from "./zset-store.ts";
import { sortCommands } from "./sort.ts";
import { pubsubCommands } from "./pubsub.ts";
import { hashCommands } from "./hashes.ts";
import { hashFieldCommands } from "./hash-fields.ts";
import { setCommands } from "./sets.ts";
import { setAlgebraCommands } from "./set-algebra.ts";
import { monitorCommands } from "./monitor.ts";
import { slowlogCommands } from "./slowlog.ts";
import { latencyCommands } from "./latency.ts";
import { memoryCommands } from "./memory.ts";
import { scriptingCommands } from "./scripting.ts";
import { functionCommands } from "./functions.ts";
import { replicationCommands } from "./replication.ts";
import { replicaofCommands } from "./replicaof.ts";
import { streamGroupCommands } from "./stream-groups.ts";
import { streamCommands } from "./streams.ts";
import { geoCommands } from "./geo.ts";
import { hyperloglogCommands } from "./hyperloglog.ts";
import { bitmapCommands } from "./bitmaps.ts";
import { clusterCommands } from "./cluster.ts";

export const ALL_COMMANDS: CommandDef[] = [
  ...connectionCommands,
  ...stringCommands,
  ...transactionCommands,
  ...serverCommands,
  ...debugCommands,
  ...dumpCommands,
  ...migrateCommands,
  ...persistenceCommands,
  ...aofCommands,
  ...configCommands,
  ...clientCommands,
  ...commandCommands,
  ...keyCommands,
  ...expireCommands,
  ...databaseCommands,
  ...objectCommands,
  ...listCommands,
  ...listBlockingCommands,
  ...zsetCommands,
  ...zsetRangeCommands,
  ...zsetPopCommands,
  ...zsetStoreCommands,
  ...sortCommands,
  ...pubsubCommands,
  ...hashCommands,
  ...hashFieldCommands,
  ...setCommands,
  ...setAlgebraCommands,
  ...monitorCommands,
  ...replicationCommands,
  ...replicaofCommands,
  ...slowlogCommands,
  ...latencyCommands,
  ...memoryCommands,
  ...scriptingCommands,
  ...functionCommands,
  ...streamCommands,
  ...streamGroupCommands,
  ...bitmapCommands,
  ...hyperloglogCommands,
  ...geoCommands,
  ...clusterCommands,
];
