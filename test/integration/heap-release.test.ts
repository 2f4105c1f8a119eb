/**
 * The young generation given back (core/server/heap-release.ts): under
 * V8 (Node, Deno) a burst of writes grows the young generation to 32 MB of
 * semispaces, which V8 alone keeps for good on an idle server; Respite asks
 * for the collection that shrinks it once the server has been quiet for
 * a few seconds. Bun (JavaScriptCore) has no such generation and no release.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RawConnection } from "../lib/raw.ts";
import { type ServerHandle } from "../lib/servers.ts";
import { startTarget, targets } from "../lib/targets.ts";
import { memoryNow } from "../lib/protocol-fuzz.ts";

const MB = 1 << 20;
/** Most of the 32 MB the semispaces grew to. */
const GIVEN_BACK = 16 * MB;

for (const t of targets(false).filter((t) => t === "node" || t === "deno")) {
  describe(`heap release on ${t}`, () => {
    let server: ServerHandle;
    before(async () => {
      server = await startTarget(t, []);
    });
    after(() => server.stop());

    it("after a burst of writes, RSS falls by most of the grown young generation once the server is quiet", async () => {
      const conn = await RawConnection.connect(server.port);
      const value = "v".repeat(300);
      for (let batch = 0; batch < 60; batch++) {
        const cmds = Array.from({ length: 5000 }, (_, i) => ["SET", `key:${(batch * 5000 + i) % 100_000}`, value]);
        await conn.pipeline(cmds);
      }
      conn.close();
      const loaded = (await memoryNow(server.port)).rssBytes;
      // A poll every 500 ms is a trickle, not a burst: the server stays quiet meanwhile.
      const deadline = Date.now() + 20_000;
      let now = loaded;
      while (now > loaded - GIVEN_BACK && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        now = (await memoryNow(server.port)).rssBytes;
      }
      assert.ok(
        now <= loaded - GIVEN_BACK,
        `RSS ${(loaded / MB).toFixed(1)} MB after the burst, ${(now / MB).toFixed(1)} MB 12 s later`,
      );
      assert.equal(
        (await RawConnection.connect(server.port).then((c) => c.call("DBSIZE").finally(() => c.close()))).toString(),
        ":100000\r\n",
      );
    });
  });
}
