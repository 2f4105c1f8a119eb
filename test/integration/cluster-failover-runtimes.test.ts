/**
 * The 3+3 failover scenario of cluster-failover.test.ts (kill -9 of a
 * primary with WAIT-1 writes kept, CLUSTER FAILOVER under writes, TAKEOVER,
 * FORCE) under the runtimes after the first, one file so each stays within
 * the runner's per-file timeout.
 */
import { describe, it } from "node:test";
import { RUNTIMES } from "../lib/servers.ts";
import { failoverScenario } from "../lib/cluster-failover.ts";

for (const runtime of RUNTIMES.slice(1)) {
  describe(`cluster failover: Respite on ${runtime}`, () => {
    it("3+3: kill -9 of a primary, CLUSTER FAILOVER, TAKEOVER, FORCE", { timeout: 240_000 }, async () => {
      await failoverScenario(runtime);
    });
  });
}
