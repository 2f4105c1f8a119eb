/**
 * Protected mode, black-box, as redis-server 7.0.15 does it: with no
 * password, a client connecting from a non-loopback address of this machine
 * gets Redis's exact DENIED text and is closed, whatever `bind` says, while
 * loopback and Unix-socket clients get in; `protected-mode no` or a password
 * lifts it. Run on every runtime and the compiled binary, with the command
 * line `npm start` uses (no bind given), so the decision is made from the
 * peer address each adapter reports. The gateway keeps its own rules.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { RawConnection } from "../lib/raw.ts";
import { freePort, launch, respiteCommand, RUNTIMES, type ServerHandle, startRedis, startRespite, tmpDir } from "../lib/servers.ts";
import { compiledBinary, info, startTarget, type Target, targets } from "../lib/targets.ts";
import { WsClient } from "../lib/gateway.ts";

/** This machine's first non-loopback IPv4 and (global) IPv6 addresses: a client connecting to them comes from them. */
function externalAddresses(): { v4?: string; v6?: string } {
  const found: { v4?: string; v6?: string } = {};
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === "IPv4") found.v4 ??= a.address;
      else if (!a.address.toLowerCase().startsWith("fe80")) found.v6 ??= a.address;
    }
  }
  return found;
}

const { v4, v6 } = externalAddresses();
const NO_ADDRESS = "this machine has no non-loopback address, so no client can connect from one";

/** Sends bytes from host's side and returns everything the server sent until it closed the connection. */
async function exchange(port: number, host: string, send: string): Promise<string> {
  const conn = await RawConnection.connect(port, host);
  conn.write(send);
  try {
    return await conn.untilClosed();
  } finally {
    conn.close();
  }
}

/** Same over a Unix socket. */
async function exchangeUnix(sock: string, send: string): Promise<string> {
  const conn = await RawConnection.connectUnix(sock);
  conn.write(send);
  return conn.untilClosed();
}

/** The command line `npm start` runs (or the runtime's or binary's equivalent): only the port is given. */
function defaultCommand(t: Target): [string, string[]] {
  if (t === "compiled") return [compiledBinary(), []];
  return respiteCommand(t as "bun" | "deno" | "node");
}

describe("protected mode", { skip: v4 === undefined ? NO_ADDRESS : false }, () => {
  /** What redis-server sends a client from v4, and its INFO counters after the steps the first test repeats. */
  let redisDenied = "";
  let redisStats = new Map<string, string>();

  before(async () => {
    const redis = await startRedis(["--bind", "127.0.0.1", v4!]);
    try {
      redisDenied = await exchange(redis.port, v4!, "PING\r\n");
      await exchange(redis.port, "127.0.0.1", "PING\r\nQUIT\r\n");
      const local = await RawConnection.connect(redis.port);
      redisStats = await info(local, "stats");
      local.close();
    } finally {
      await redis.stop();
    }
    assert.match(redisDenied, /^-DENIED Redis is running in protected mode/);
  });

  for (const t of targets(true)) {
    describe(t, () => {
      it("the default command line refuses a client from a non-loopback address with Redis's DENIED text", async () => {
        const port = await freePort();
        const dir = tmpDir();
        const [cmd, base] = defaultCommand(t);
        // Only what keeps parallel tests apart: the port, no gateway on 8080, files in a temp dir.
        const server = await launch(cmd, [...base, "--port", String(port), "--gateway", "no"], port, undefined, dir);
        try {
          assert.equal(await exchange(port, v4!, "PING\r\n"), redisDenied);
          assert.equal(await exchange(port, "127.0.0.1", "PING\r\nQUIT\r\n"), "+PONG\r\n+OK\r\n");
          const local = await RawConnection.connect(port);
          const stats = await info(local, "stats");
          local.close();
          for (const field of ["rejected_connections", "total_connections_received"]) {
            assert.equal(stats.get(field), redisStats.get(field), field);
          }
        } finally {
          await server.stop();
        }
      });

      describe("with explicit bind addresses", () => {
        let server: ServerHandle;
        const sock = path.join(tmpDir(), "respite.sock");
        before(async () => {
          server = await startTarget(t, ["--bind", "127.0.0.1", v4!, ...(v6 ? [v6] : []), "--unixsocket", sock]);
        });
        after(() => server.stop());

        it("still refuses non-loopback peers (as Redis 7.0) and lets loopback and Unix-socket clients in", async () => {
          assert.equal(await exchange(server.port, v4!, "PING\r\n"), redisDenied);
          if (v6) assert.equal(await exchange(server.port, v6, "PING\r\n"), redisDenied);
          assert.equal(await exchange(server.port, "127.0.0.1", "PING\r\nQUIT\r\n"), "+PONG\r\n+OK\r\n");
          assert.equal(await exchangeUnix(sock, "PING\r\nQUIT\r\n"), "+PONG\r\n+OK\r\n");
        });

        it("protected-mode no lets them in, and CLIENT INFO shows the peer address the adapter reported", async () => {
          const admin = await RawConnection.connect(server.port);
          assert.equal((await admin.call("CONFIG", "SET", "protected-mode", "no")).toString(), "+OK\r\n");
          try {
            for (const [host, shown] of [[v4!, v4!], ...(v6 ? [[v6, `[${v6}]`]] : [])]) {
              const conn = await RawConnection.connect(server.port, host);
              const reply = (await conn.call("CLIENT", "INFO")).toString("latin1");
              assert.match(reply, new RegExp(`^\\$\\d+\\r\\nid=\\d+ addr=${shown.replace(/[[\].]/g, "\\$&")}:${conn.sock.localPort} `));
              conn.close();
            }
          } finally {
            await admin.call("CONFIG", "SET", "protected-mode", "yes");
            admin.close();
          }
          assert.equal(await exchange(server.port, v4!, "PING\r\n"), redisDenied);
        });

        it("a password lifts it: the client gets in and must AUTH", async () => {
          const admin = await RawConnection.connect(server.port);
          assert.equal((await admin.call("CONFIG", "SET", "requirepass", "secret")).toString(), "+OK\r\n");
          try {
            assert.equal(
              await exchange(server.port, v4!, "PING\r\nAUTH secret\r\nPING\r\nQUIT\r\n"),
              "-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n+OK\r\n",
            );
          } finally {
            await admin.call("AUTH", "secret");
            await admin.call("CONFIG", "SET", "requirepass", "");
            admin.close();
          }
        });
      });
    });
  }

  for (const rt of RUNTIMES) {
    it(`${rt}: the gateway keeps its own rules and reports the peer address`, async () => {
      const gport = await freePort();
      const server = await startRespite(rt, [
        "--gateway-port", String(gport), "--gateway-bind", `127.0.0.1 ${v4}`, "--gateway-default-access", "all",
      ]);
      let ws: WsClient | undefined;
      try {
        let res: Response | undefined;
        for (let i = 0; i < 100 && res === undefined; i++) {
          res = await fetch(`http://${v4}:${gport}/PING`).catch(() => new Promise<undefined>((r) => setTimeout(r, 50)));
        }
        assert.equal(res?.status, 200);
        assert.deepEqual(await res!.json(), { PING: "PONG" });
        ws = await WsClient.open(`ws://${v4}:${gport}/ws`, "json");
        const reply = await ws.call(["CLIENT", "INFO"]);
        assert.match(reply.result, new RegExp(`^id=\\d+ addr=${v4!.replace(/\./g, "\\.")}:\\d+ `));
      } finally {
        ws?.close();
        await server.stop();
      }
    });
  }
});
