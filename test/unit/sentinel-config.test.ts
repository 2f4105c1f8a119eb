/**
 * The `sentinel ...` lines of a Sentinel's config file: read as
 * redis-sentinel reads them (its error texts), and written back as it
 * rewrites them: each kind of line in place, new kinds at the end, stale
 * lines dropped, other directives and comments untouched.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sentinel } from "../../core/sentinel/sentinel.ts";
import { applySentinelDirective, rewriteSentinelConfig } from "../../core/sentinel/config.ts";
import { hostInfo } from "../../adapters/host.ts";

const ID = "a".repeat(40);
const OTHER = "b".repeat(40);

function load(lines: string[]): Sentinel {
  const s = new Sentinel(null as never, null as never, hostInfo("none", ""));
  for (const l of lines) applySentinelDirective(s, l.split(" ").slice(1));
  return s;
}

test("sentinel lines are read into masters, replicas, Sentinels and epochs", () => {
  const s = load([
    `sentinel myid ${ID}`,
    "sentinel monitor mymaster 127.0.0.1 6379 2",
    "sentinel down-after-milliseconds mymaster 5000",
    "sentinel config-epoch mymaster 3",
    "sentinel leader-epoch mymaster 4",
    "sentinel known-replica mymaster 127.0.0.1 6380",
    "sentinel known-slave mymaster 127.0.0.1 6381",
    `sentinel known-sentinel mymaster 127.0.0.1 26380 ${OTHER}`,
    "sentinel current-epoch 2",
  ]);
  const m = s.masters.get("mymaster")!;
  assert.equal(s.myid, ID);
  assert.equal(m.quorum, 2);
  assert.equal(m.downAfter, 5000);
  assert.equal(m.configEpoch, 3);
  assert.equal(m.leaderEpoch, 4);
  assert.deepEqual([...m.replicas.keys()], ["127.0.0.1:6380", "127.0.0.1:6381"]);
  assert.equal(m.sentinels.get(OTHER)?.port, 26380);
  // The current epoch is at least every epoch seen.
  assert.equal(s.currentEpoch, 4);
});

test("bad sentinel lines fail with redis-sentinel's messages", () => {
  const fails = (line: string, msg: string) =>
    assert.throws(() => load(["sentinel monitor m 127.0.0.1 6379 2", line]), { message: msg });
  fails("sentinel nonsense", "Unrecognized sentinel configuration statement.");
  fails("sentinel known-replica nosuch 127.0.0.1 1", "No such master with specified name.");
  fails("sentinel monitor m 127.0.0.1 6380 2", "Duplicate master name.");
  fails("sentinel monitor x 127.0.0.1 6380 0", "Quorum must be 1 or greater.");
  fails("sentinel monitor x no-such-host 6380 2", "Can't resolve instance hostname.");
  fails("sentinel myid short", "Malformed Sentinel id in myid option.");
});

test("the rewrite replaces each kind of sentinel line in place and appends the new kinds", () => {
  const s = load([`sentinel myid ${ID}`, "sentinel monitor mymaster 127.0.0.1 6379 2"]);
  const m = s.masters.get("mymaster")!;
  s.addReplica(m, "127.0.0.1", 6380);
  s.currentEpoch = 7;
  const before = [
    "# my sentinel",
    "port 26379",
    "sentinel monitor mymaster 127.0.0.1 6000 3",
    "sentinel known-replica mymaster 127.0.0.1 7000",
    "sentinel known-replica mymaster 127.0.0.1 7001",
    'logfile ""',
    "",
  ].join("\n");
  assert.equal(
    rewriteSentinelConfig(s, before),
    [
      "# my sentinel",
      "port 26379",
      "sentinel monitor mymaster 127.0.0.1 6379 2",
      "sentinel known-replica mymaster 127.0.0.1 6380",
      'logfile ""',
      `sentinel myid ${ID}`,
      "sentinel config-epoch mymaster 0",
      "sentinel leader-epoch mymaster 0",
      "sentinel current-epoch 7",
      "",
    ].join("\n"),
  );
});
