/**
 * The INFO text: Redis's sections, field names and order, so monitoring
 * tools and client libraries that parse `key:value` lines keep working.
 * Fields for features Respite does not have (replicas, forks, modules)
 * hold the values an idle standalone Redis reports.
 */
import { loadingInfo } from "../persist/loading.ts";
import type { Engine } from "./engine.ts";
import { RESPITE_VERSION, VERSION } from "./engine.ts";
import { infoPercentiles, percentileLabel } from "./latency.ts";
import { replicationInfo } from "../replication/info.ts";
import { monotonicMs } from "../util/monotonic.ts";

type Field = [string, string | number];
type Section = (e: Engine) => Field[];

/** Redis's bytesToHuman: B below 1K, then two decimals. */
export function humanBytes(n: number): string {
  const units = ["K", "M", "G", "T", "P", "E"];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

const zeros = (...names: string[]): Field[] => names.map((n) => [n, 0]);

const server: Section = (e) => {
  const uptime = Math.floor((e.now - e.startedAt) / 1000);
  const usec = Math.floor((performance.timeOrigin + monotonicMs()) * 1000);
  return [
    ["redis_version", VERSION],
    ["redis_git_sha1", "00000000"],
    ["redis_git_dirty", 0],
    ["redis_build_id", e.buildId],
    ["redis_mode", e.cluster !== null ? "cluster" : "standalone"],
    ["respite_version", RESPITE_VERSION],
    ["respite_runtime", e.host.runtime],
    ["respite_io", e.host.io],
    ["os", e.host.os],
    ["arch_bits", e.host.arch],
    ["monotonic_clock", "performance.now"],
    ["multiplexing_api", e.host.io],
    ["atomicvar_api", "js"],
    ["gcc_version", "0.0.0"],
    ["process_id", e.host.pid],
    ["process_supervised", "no"],
    ["run_id", e.runId],
    ["tcp_port", e.config.get("port")],
    ["server_time_usec", usec],
    ["uptime_in_seconds", uptime],
    ["uptime_in_days", Math.floor(uptime / 86400)],
    ["hz", e.config.get("hz")],
    ["configured_hz", e.config.get("hz")],
    ["lru_clock", Math.floor(e.now / 1000) & 0xffffff],
    ["executable", e.host.executable],
    ["config_file", e.config.configFile],
    ["io_threads_active", 0],
  ];
};

const clients: Section = (e) => [
  ["connected_clients", e.clients.size],
  ["cluster_connections", e.clusterBus?.connectionsCount() ?? 0],
  ["maxclients", e.config.get("maxclients")],
  ["client_recent_max_input_buffer", e.clientMemory.recentMaxInput],
  ["client_recent_max_output_buffer", e.clientMemory.recentMaxOutput],
  // Redis 7.0 counts clients held by CLIENT PAUSE as blocked.
  ["blocked_clients", e.blocking.blockedCount + e.pause.heldCount],
  ["tracking_clients", e.tracking.clients],
  ["clients_in_timeout_table", 0],
];

/** Redis's "%.2f%%" of part in whole. */
const percent = (part: number, whole: number) => `${(whole > 0 ? (part * 100) / whole : 0).toFixed(2)}%`;

/** used_memory is Respite's running estimate (see used-memory.ts); used_memory_rss the process RSS. */
const memory: Section = (e) => {
  const used = e.memory.total();
  const peak = e.memory.peak();
  const overhead = e.memory.overhead();
  const rss = e.host.rss();
  const maxmemory = e.config.num("maxmemory");
  return [
    ["used_memory", used],
    ["used_memory_human", humanBytes(used)],
    ["used_memory_rss", rss],
    ["used_memory_rss_human", humanBytes(rss)],
    ["used_memory_peak", peak],
    ["used_memory_peak_human", humanBytes(peak)],
    ["used_memory_peak_perc", percent(used, peak)],
    ["used_memory_overhead", overhead],
    ["used_memory_startup", 0],
    ["used_memory_dataset", used - overhead],
    ["used_memory_dataset_perc", percent(used - overhead, used)],
    ...zeros("allocator_allocated", "allocator_active", "allocator_resident", "total_system_memory"),
    ["total_system_memory_human", "0B"],
    ...zeros("used_memory_lua", "used_memory_vm_eval"),
    ["used_memory_lua_human", "0B"],
    ...zeros("used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions", "number_of_libraries",
      "used_memory_vm_functions", "used_memory_vm_total"),
    ["used_memory_vm_total_human", "0B"],
    ...zeros("used_memory_functions", "used_memory_scripts"),
    ["used_memory_scripts_human", "0B"],
    ["maxmemory", maxmemory],
    ["maxmemory_human", humanBytes(maxmemory)],
    ["maxmemory_policy", e.config.get("maxmemory-policy")],
    ["allocator_frag_ratio", "1.00"],
    ["allocator_frag_bytes", 0],
    ["allocator_rss_ratio", "1.00"],
    ["allocator_rss_bytes", 0],
    ["rss_overhead_ratio", "1.00"],
    ["rss_overhead_bytes", 0],
    ["mem_fragmentation_ratio", "1.00"],
    ["mem_fragmentation_bytes", 0],
    ["mem_not_counted_for_evict", e.memory.notCountedForEvict()],
    ["mem_replication_backlog", e.replication.backlog?.size ?? 0],
    ["mem_total_replication_buffers", e.replication.backlog?.size ?? 0],
    ["mem_clients_slaves", e.clientMemory.replicas],
    ["mem_clients_normal", e.clientMemory.normal],
    ["mem_cluster_links", 0],
    ["mem_aof_buffer", e.memory.notCountedForEvict()],
    ["mem_allocator", e.host.runtime],
    ...zeros("active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"),
  ];
};

const persistence: Section = (e) => {
  const loading = loadingInfo(e);
  return [...loading.slice(0, 2), ...e.persistence.info(), ...e.aof.info(), ...loading.slice(2)];
};

const kbps = (bytesPerSec: number) => (bytesPerSec / 1024).toFixed(2);

const stats: Section = (e) => {
  const s = e.stats;
  return [
    ["total_connections_received", s.connectionsReceived],
    ["total_commands_processed", s.commandsProcessed],
    ["instantaneous_ops_per_sec", Math.round(s.ops.rate)],
    ["total_net_input_bytes", s.netInput],
    ["total_net_output_bytes", s.netOutput],
    ["total_net_repl_input_bytes", 0],
    ["total_net_repl_output_bytes", e.primary.netOutput],
    ["instantaneous_input_kbps", kbps(s.inBytes.rate)],
    ["instantaneous_output_kbps", kbps(s.outBytes.rate)],
    ["instantaneous_input_repl_kbps", "0.00"],
    ["instantaneous_output_repl_kbps", "0.00"],
    ["rejected_connections", s.rejectedConnections],
    ["sync_full", e.primary.syncFull],
    ["sync_partial_ok", e.primary.syncPartialOk],
    ["sync_partial_err", e.primary.syncPartialErr],
    ["expired_keys", s.expiredKeys],
    ["expired_stale_perc", (s.expiredStalePerc * 100).toFixed(2)],
    ["expired_time_cap_reached_count", s.expiredTimeCapReached],
    ["expire_cycle_cpu_milliseconds", 0],
    ["evicted_keys", s.evictedKeys],
    ["evicted_clients", s.evictedClients],
    ["total_eviction_exceeded_time", e.evictor.exceededMs()[0]],
    ["current_eviction_exceeded_time", e.evictor.exceededMs()[1]],
    ["keyspace_hits", s.keyspaceHits],
    ["keyspace_misses", s.keyspaceMisses],
    ["pubsub_channels", e.pubsub.registries.channels.size],
    ["pubsub_patterns", e.pubsub.registries.patterns.size],
    ["pubsubshard_channels", e.pubsub.registries.shard.size],
    ...zeros("latest_fork_usec", "total_forks"),
    ["migrate_cached_sockets", e.migrateSockets.size],
    ...zeros("slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses",
      "active_defrag_key_hits", "active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time"),
    ["tracking_total_keys", e.tracking.totalKeys],
    ["tracking_total_items", e.tracking.totalItems],
    ["tracking_total_prefixes", e.tracking.totalPrefixes],
    ["unexpected_error_replies", 0],
    ["total_error_replies", s.errorReplies],
    ["dump_payload_sanitizations", 0],
    ["total_reads_processed", s.readsProcessed],
    ["total_writes_processed", s.writesProcessed],
    ...zeros("io_threaded_reads_processed", "io_threaded_writes_processed"),
    ["reply_buffer_shrinks", s.replyBufferShrinks],
    ["reply_buffer_expands", 0],
    ["client_query_buffer_limit_disconnections", s.clientQueryBufferLimitDisconnections],
  ];
};

const replication: Section = replicationInfo;

const cpu: Section = (e) => {
  const [user, sys] = e.host.cpu();
  return [
    ["used_cpu_sys", sys.toFixed(6)],
    ["used_cpu_user", user.toFixed(6)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
    ["used_cpu_sys_main_thread", sys.toFixed(6)],
    ["used_cpu_user_main_thread", user.toFixed(6)],
  ];
};

const commandstats: Section = (e) => {
  const out: Field[] = [];
  for (const cmd of e.commands.all()) {
    if (!cmd.calls && !cmd.rejectedCalls && !cmd.failedCalls) continue;
    const usec = Math.floor(cmd.usec);
    const perCall = cmd.calls ? (usec / cmd.calls).toFixed(2) : "0.00";
    out.push([
      `cmdstat_${cmd.fullName}`,
      `calls=${cmd.calls},usec=${usec},usec_per_call=${perCall},rejected_calls=${cmd.rejectedCalls},failed_calls=${cmd.failedCalls}`,
    ]);
  }
  return out;
};

const errorstats: Section = (e) =>
  [...e.stats.errors].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);

/** Per-command latency percentiles in µs, as "%.3f" of HdrHistogram values. */
const latencystats: Section = (e) => {
  const percentiles = infoPercentiles(e.config);
  const out: Field[] = [];
  for (const cmd of e.commands.all()) {
    const h = cmd.histogram;
    if (h === null) continue;
    const values = percentiles.map((p) => `${percentileLabel(p)}=${(h.valueAtPercentile(p) / 1000).toFixed(3)}`);
    out.push([`latency_percentiles_usec_${cmd.fullName}`, values.join(",")]);
  }
  return out;
};

const keyspace: Section = (e) =>
  e.dbs.filter((db) => db.size > 0).map((db) => [
    `db${db.id}`,
    `keys=${db.size},expires=${db.expires.size},avg_ttl=${Math.round(db.avgTtl)}`,
  ]);

const SECTIONS: [name: string, title: string, build: Section, inDefault: boolean][] = [
  ["server", "Server", server, true],
  ["clients", "Clients", clients, true],
  ["memory", "Memory", memory, true],
  ["persistence", "Persistence", persistence, true],
  ["stats", "Stats", stats, true],
  ["replication", "Replication", replication, true],
  ["cpu", "CPU", cpu, true],
  ["modules", "Modules", () => [], true],
  ["commandstats", "Commandstats", commandstats, false],
  ["errorstats", "Errorstats", errorstats, true],
  ["latencystats", "Latencystats", latencystats, false],
  ["cluster", "Cluster", (e) => [["cluster_enabled", e.cluster !== null ? 1 : 0]], true],
  ["keyspace", "Keyspace", keyspace, true],
];

/**
 * Builds INFO for the requested section names (lower-case): none or
 * "default" gives the default set, "all"/"everything" every section;
 * unknown names contribute nothing.
 */
export function infoText(e: Engine, requested: string[]): string {
  const wanted = new Set(requested.length ? requested : ["default"]);
  const all = wanted.has("all") || wanted.has("everything");
  const parts: string[] = [];
  for (const [name, title, build, inDefault] of SECTIONS) {
    if (!all && !wanted.has(name) && !(inDefault && wanted.has("default"))) continue;
    const lines = build(e).map(([k, v]) => `${k}:${v}\r\n`).join("");
    parts.push(`# ${title}\r\n${lines}`);
  }
  return parts.join("\r\n");
}
