/**
 * Failover in a 3+3 cluster made by `redis-cli --cluster create`
 * (cluster-node-timeout 2000), per runtime: kill -9 of a primary, its
 * replica elected by the other primaries and serving every write
 * acknowledged with WAIT 1 before the kill, the killed node back as a
 * replica of the winner; CLUSTER FAILOVER under writes (every write answered
 * OK is kept, without WAIT), TAKEOVER, FORCE for a cluster-replica-no-failover
 * replica. The scenario runs first against redis-server alone, so the test's
 * own expectations (and the error replies) are Redis's; then under the first
 * runtime named here, the others in cluster-failover-runtimes.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES } from "../lib/servers.ts";
import { failoverScenario } from "../lib/cluster-failover.ts";

let redisErrors: string[] | null = null;

describe("cluster failover: redis-server 7.0.15 (the test's expectations)", () => {
  it("3+3: errors, kill -9 of a primary, CLUSTER FAILOVER, TAKEOVER, FORCE", { timeout: 240_000 }, async () => {
    redisErrors = await failoverScenario("redis");
  });
});

// The other runtimes run the same scenario in cluster-failover-runtimes.test.ts (a file of 3+3 clusters per
// runtime would pass the runner's 180 s per file); the error replies are core's, compared here.
for (const runtime of RUNTIMES.slice(0, 1)) {
  describe(`cluster failover: Respite on ${runtime}`, () => {
    it("3+3: errors as redis-server, kill -9 of a primary, CLUSTER FAILOVER, TAKEOVER, FORCE", { timeout: 240_000 }, async () => {
      const ours = await failoverScenario(runtime);
      if (redisErrors !== null) assert.deepEqual(ours, redisErrors);
    });
  });
}
