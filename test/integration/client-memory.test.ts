/**
 * Clients' memory as Redis counts it, with real clients over real sockets
 * on every runtime: CLIENT LIST / CLIENT INFO memory fields (compared with
 * redis-server where Redis's figures are not allocator sizes), INFO
 * mem_clients_normal, output buffer limits of the normal class (hard and
 * soft), and client eviction by maxmemory-clients with CLIENT NO-EVICT.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RUNTIMES, type ServerHandle, sharedRedis, startRespite } from "../lib/servers.ts";
import { RawConnection } from "../lib/raw.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";
import { decode, text as bulkText } from "../lib/keyspace.ts";

const text = (b: Buffer) => bulkText(decode(b));
/** n GETs of the 100 KB value `big` as one string of commands. */
const gets = (n: number) => Buffer.from(encodeCommand(["GET", "big"])).toString("latin1").repeat(n);

type Fields = Record<string, string>;

function parseLine(line: string): Fields {
  const f: Fields = {};
  for (const pair of line.trim().split(" ")) {
    const i = pair.indexOf("=");
    f[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return f;
}

/** CLIENT LIST fields of the client named name, or null when it is not connected. */
async function clientNamed(ctl: RawConnection, name: string): Promise<Fields | null> {
  const lines = text(await ctl.call("CLIENT", "LIST")).split("\n").filter((l) => l.includes(` name=${name} `));
  return lines.length === 0 ? null : parseLine(lines[0]);
}

async function infoField(ctl: RawConnection, section: string, field: string): Promise<number> {
  const m = text(await ctl.call("INFO", section)).match(new RegExp(`^${field}:(\\d+)`, "m"));
  assert.ok(m, `INFO ${section} has ${field}`);
  return Number(m[1]);
}

/** Polls until check() returns a value other than null/false (what a state change is awaited with; no timing is asserted). */
async function until<T>(what: string, check: () => Promise<T | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for a line of the server's log (its output reaches the test through a pipe, a little after the fact). */
function logged(server: ServerHandle, pattern: RegExp): Promise<true> {
  return until(`a log line matching ${pattern}`, () => Promise.resolve(pattern.test(server.output())));
}

async function named(port: number, name: string): Promise<RawConnection> {
  const c = await RawConnection.connect(port);
  assert.equal((await c.call("CLIENT", "SETNAME", name)).toString(), "+OK\r\n");
  return c;
}

/** A SET whose 1,000,000-byte value is still arriving: `sent` bytes of it are in. */
function partialSet(sent: number, declared = 1_000_000): string {
  return `*3\r\n$3\r\nset\r\n$1\r\nk\r\n$${declared}\r\n` + "x".repeat(sent);
}

/** An MSET of 1001 arguments of which the name and 500 values of 100 bytes are in. */
const HALF_MSET = "*1001\r\n$4\r\nmset\r\n" + `$100\r\n${"y".repeat(100)}\r\n`.repeat(500);

const MEMORY_FIELDS = ["qbuf", "argv-mem", "multi-mem", "obl", "oll", "omem"];

describe("client memory", () => {
  const redis = sharedRedis();

  for (const rt of RUNTIMES) {
    describe(`on ${rt}`, () => {
      let server: ServerHandle;
      let ctl: RawConnection;
      let redisCtl: RawConnection;

      before(async () => {
        server = await startRespite(rt);
        ctl = await named(server.port, "ctl");
        await ctl.call("CLIENT", "NO-EVICT", "on");
        redisCtl = await named(redis().port, "ctl");
        await ctl.call("SET", "big", "z".repeat(100_000));
      });

      after(async () => {
        ctl?.close();
        redisCtl?.close();
        await server?.stop();
      });

      it("CLIENT INFO counts the running command in qbuf and argv-mem, as Redis does", async () => {
        const mine = parseLine(text(await ctl.call("CLIENT", "INFO")));
        const theirs = parseLine(text(await redisCtl.call("CLIENT", "INFO")));
        for (const f of MEMORY_FIELDS) assert.equal(mine[f], theirs[f], f);
        assert.equal(mine["argv-mem"], "10");
        assert.ok(Number(mine["tot-mem"]) > 0);
      });

      it("a command still arriving shows its parsed arguments in argv-mem and its unparsed bytes in qbuf, as in Redis", async () => {
        const seen: Fields[] = [];
        for (const [port, control] of [[redis().port, redisCtl], [server.port, ctl]] as const) {
          const c = await named(port, "arriving");
          c.write(HALF_MSET);
          const args = await until("the half MSET", async () => {
            const f = await clientNamed(control, "arriving");
            return f !== null && f["argv-mem"] === "50004" ? f : null;
          });
          c.write(`$100\r\n${"y".repeat(100)}\r\n`.repeat(500));
          assert.equal((await c.readReplies(1))[0].toString(), "+OK\r\n");
          c.write(partialSet(400_000));
          const bulk = await until("the 400,000 bytes", async () => {
            const f = await clientNamed(control, "arriving");
            return f !== null && f.qbuf === "400000" ? f : null;
          });
          c.close();
          await until("the client to leave", async () => (await clientNamed(control, "arriving")) === null);
          seen.push(args, bulk);
        }
        const [redisArgs, redisBulk, args, bulk] = seen;
        for (const f of ["qbuf", "argv-mem", "multi-mem"]) {
          assert.equal(args[f], redisArgs[f], `${f} with 500 arguments parsed`);
          assert.equal(bulk[f], redisBulk[f], `${f} with a bulk arriving`);
        }
        assert.ok(Number(args["tot-mem"]) >= 50004 + 500 * 8, `tot-mem ${args["tot-mem"]}`);
        assert.ok(Number(bulk["tot-mem"]) >= 400_000, `tot-mem ${bulk["tot-mem"]}`);
      });

      it("INFO mem_clients_normal follows a client's buffers as they fill and as it leaves", async () => {
        const before = await infoField(ctl, "memory", "mem_clients_normal");
        const c = await named(server.port, "filling");
        c.write(partialSet(600_000, 2_000_000));
        const f = await until("the 600,000 bytes", async () => {
          const f = await clientNamed(ctl, "filling");
          return f !== null && f.qbuf === "600000" ? f : null;
        });
        const during = await infoField(ctl, "memory", "mem_clients_normal");
        assert.ok(
          during >= before + Number(f["tot-mem"]) - 64 * 1024,
          `${before} -> ${during}, tot-mem ${f["tot-mem"]}`,
        );
        assert.ok(during >= 600_000);
        c.close();
        await until(
          "the total to fall back",
          async () => (await infoField(ctl, "memory", "mem_clients_normal")) < during - 500_000,
        );
      });

      it("multi-mem counts queued commands as Redis does", async () => {
        const seen: Fields[] = [];
        for (const [port, control] of [[redis().port, redisCtl], [server.port, ctl]] as const) {
          const c = await named(port, "queueing");
          await c.pipeline([["MULTI"], ["SET", "k", "v"], ["SET", "kk", "x".repeat(1000)]]);
          seen.push((await clientNamed(control, "queueing"))!);
          await c.call("DISCARD");
          c.close();
        }
        for (const f of ["multi", "multi-mem"]) assert.equal(seen[1][f], seen[0][f], f);
        assert.equal(seen[1]["multi-mem"], "1058");
      });

      it("a client that does not read its replies grows omem and is closed at the hard limit; others carry on", async () => {
        const slow = await named(server.port, "slow");
        slow.sock.pause();
        // 20 MB of replies: more than the kernel's socket buffers take, so the rest waits in the server.
        slow.write(gets(200));
        const f = await until("omem to grow", async () => {
          const f = await clientNamed(ctl, "slow");
          return f !== null && Number(f.omem) > 1_000_000 ? f : null;
        });
        assert.ok(Number(f.oll) >= 1, `oll ${f.oll}`);
        assert.ok(Number(f["tot-mem"]) >= Number(f.omem));
        assert.match(f.events, /w/);
        await until(
          "client_recent_max_output_buffer",
          async () => (await infoField(ctl, "clients", "client_recent_max_output_buffer")) > 1_000_000,
        );
        // The limit set now closes it from the cron; a new client passing it is closed while its replies are queued.
        assert.equal(
          (await ctl.call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0")).toString(),
          "+OK\r\n",
        );
        await until("the slow client to be closed", async () => (await clientNamed(ctl, "slow")) === null);
        const greedy = await named(server.port, "greedy");
        greedy.sock.pause();
        greedy.write(gets(300));
        await until("the greedy client to be closed", async () => (await clientNamed(ctl, "greedy")) === null);
        assert.equal((await ctl.call("PING")).toString(), "+PONG\r\n");
        await logged(server, /# Client id=\d+ .* name=slow .* closed for overcoming of output buffer limits\./);
        await logged(
          server,
          /# Client id=\d+ .* name=greedy .* scheduled to be closed ASAP for overcoming of output buffer limits\./,
        );
        // Closing drops what was not sent, as Redis frees the client: far less than the 30 MB asked for arrives.
        greedy.sock.resume();
        const got = await greedy.untilClosed(20_000);
        assert.ok(got.length < 10_000_000, `received ${got.length} bytes`);
        slow.sock.resume();
        await slow.untilClosed(20_000);
        await ctl.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0");
      });

      it("a client over the soft limit for longer than the soft seconds is closed by the cron", async () => {
        assert.equal(
          (await ctl.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 1mb 1")).toString(),
          "+OK\r\n",
        );
        const slow = await named(server.port, "soft");
        slow.sock.pause();
        slow.write(gets(200));
        await until("the soft-limited client to be closed", async () => (await clientNamed(ctl, "soft")) === null);
        await logged(server, /# Client id=\d+ .* name=soft .* closed for overcoming of output buffer limits\./);
        slow.close();
        await ctl.call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0");
      });

      it("maxmemory-clients evicts the biggest clients first and never a NO-EVICT one", async () => {
        // Input buffers of about 3 MB (protected), 2 MB and 1 MB: values still arriving.
        const protectedOne = await named(server.port, "protected");
        await protectedOne.call("CLIENT", "NO-EVICT", "on");
        const biggest = await named(server.port, "biggest");
        const middle = await named(server.port, "middle");
        const small = await named(server.port, "small");
        protectedOne.write(partialSet(2_900_000, 3_000_000));
        biggest.write(partialSet(1_900_000, 2_000_000));
        middle.write(partialSet(900_000, 1_000_000));
        const size = async (name: string, sent: number) => {
          const f = await until(`${name}'s input`, async () => {
            const f = await clientNamed(ctl, name);
            return f !== null && f.qbuf === String(sent) ? f : null;
          });
          return Number(f["tot-mem"]);
        };
        const [p, b, m] = [
          await size("protected", 2_900_000),
          await size("biggest", 1_900_000),
          await size("middle", 900_000),
        ];
        assert.ok(p > b + 500_000 && b > m + 500_000 && m > 500_000, `tot-mem ${p} ${b} ${m}`);
        const total = await infoField(ctl, "memory", "mem_clients_normal");
        const evictedBefore = await infoField(ctl, "stats", "evicted_clients");
        // A limit that evicting the biggest evictable client satisfies, and evicting only the middle one would not.
        const limit = total - b + 100_000;
        assert.ok(total - m >= limit);
        assert.equal((await ctl.call("CONFIG", "SET", "maxmemory-clients", String(limit))).toString(), "+OK\r\n");
        await until("an eviction", async () => (await infoField(ctl, "stats", "evicted_clients")) > evictedBefore);
        assert.equal(await clientNamed(ctl, "biggest"), null);
        assert.notEqual(await clientNamed(ctl, "middle"), null);
        assert.notEqual(await clientNamed(ctl, "protected"), null);
        assert.equal(await infoField(ctl, "stats", "evicted_clients"), evictedBefore + 1);
        await logged(server, /\* Evicting client: id=\d+ .* name=biggest /);
        await biggest.untilClosed();
        // The percentage form: of maxmemory; 1% of 8 MB is under the 128 KB floor, so everything evictable goes.
        assert.equal((await ctl.call("CONFIG", "SET", "maxmemory", "8mb")).toString(), "+OK\r\n");
        assert.equal((await ctl.call("CONFIG", "SET", "maxmemory-clients", "1%")).toString(), "+OK\r\n");
        await until(
          "the middle and small clients to go",
          async () => (await clientNamed(ctl, "middle")) === null && (await clientNamed(ctl, "small")) === null,
        );
        assert.notEqual(await clientNamed(ctl, "protected"), null);
        assert.notEqual(await clientNamed(ctl, "ctl"), null);
        await logged(server, /# Over client maxmemory after evicting all evictable clients/);
        assert.equal((await ctl.call("CONFIG", "SET", "maxmemory-clients", "0")).toString(), "+OK\r\n");
        assert.equal((await ctl.call("CONFIG", "SET", "maxmemory", "0")).toString(), "+OK\r\n");
        await middle.untilClosed();
        await small.untilClosed();
        protectedOne.close();
      });

      it("CONFIG SET maxmemory-clients takes Redis's memory and percent forms", async () => {
        const a = await RawConnection.connect(redis().port);
        const b = await RawConnection.connect(server.port);
        for (const v of ["10%", "100%", "101%", "0%", "-5", "5.5%", "%", "10kb%", "abc", "1mb", "0"]) {
          const [ra, rb] = [
            await a.call("CONFIG", "SET", "maxmemory-clients", v),
            await b.call("CONFIG", "SET", "maxmemory-clients", v),
          ];
          assert.equal(rb.toString(), ra.toString(), `CONFIG SET maxmemory-clients ${v}`);
          const [ga, gb] = [
            await a.call("CONFIG", "GET", "maxmemory-clients"),
            await b.call("CONFIG", "GET", "maxmemory-clients"),
          ];
          assert.equal(gb.toString(), ga.toString(), `CONFIG GET after ${v}`);
        }
        a.close();
        b.close();
      });
    });
  }
});
