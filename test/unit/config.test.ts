/**
 * The configuration registry without a server: CONFIG SET validation with
 * Redis's texts, CONFIG GET matching, redis.conf parsing (quotes, include,
 * fatal errors) and CONFIG REWRITE keeping the file's own lines.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Config, formatMemory, parseMemory } from "../../core/config/config.ts";
import { ConfigFileError, loadConfigText } from "../../core/config/file.ts";
import { fileSystem } from "../../adapters/host.ts";
import { tmpDir } from "../lib/servers.ts";

const fail = (name: string, why: string) => `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;

describe("CONFIG SET validation", () => {
  const cases: Array<[string, string, string | null]> = [
    ["hz", "x", fail("hz", "argument couldn't be parsed into an integer")],
    ["hz", "05", fail("hz", "argument couldn't be parsed into an integer")],
    ["hz", "-5", fail("hz", "argument must be between 0 and 2147483647 inclusive")],
    ["port", "99999999999", fail("port", "argument must be between 0 and 65535 inclusive")],
    ["maxclients", "0", fail("maxclients", "argument must be between 1 and 4294967295 inclusive")],
    ["maxmemory", "1x", fail("maxmemory", "argument must be a memory value")],
    ["maxmemory", "-1", fail("maxmemory", "argument must be a memory value")],
    ["client-query-buffer-limit", "1", fail("client-query-buffer-limit", "argument must be between 1048576 and 9223372036854775807 inclusive")],
    ["appendonly", "maybe", fail("appendonly", "argument must be 'yes' or 'no'")],
    ["loglevel", "nope", fail("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning")],
    ["save", "100", fail("save", "Invalid save parameters")],
    ["client-output-buffer-limit", "normal 1 2", fail("client-output-buffer-limit", "Wrong number of arguments in buffer limit configuration.")],
    ["client-output-buffer-limit", "master 1 2 3", fail("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration.")],
    ["daemonize", "yes", fail("daemonize", "can't set immutable config")],
    ["dir", "/tmp", fail("dir", "can't set protected config")],
    ["foo", "1", "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"],
    ["maxmemory", "1gb", null],
  ];
  for (const [name, value, expected] of cases) {
    it(`${name} ${JSON.stringify(value)}`, () => {
      assert.equal(new Config().setMany([[name, value]], true), expected);
    });
  }

  it("is atomic: one bad pair leaves every value unchanged", () => {
    const config = new Config();
    const err = config.setMany([["maxmemory", "1gb"], ["maxmemory-policy", "foo"]], true);
    assert.match(err!, /maxmemory-policy/);
    assert.equal(config.get("maxmemory"), "0");
  });

  it("rejects the same parameter twice, also through an alias", () => {
    const config = new Config();
    assert.equal(config.setMany([["hz", "5"], ["hz", "6"]], true), fail("hz", "duplicate parameter"));
    assert.equal(
      config.setMany([["replica-read-only", "no"], ["slave-read-only", "no"]], true),
      fail("slave-read-only", "duplicate parameter"),
    );
  });

  it("canonicalizes values as Redis prints them", () => {
    const config = new Config();
    assert.equal(config.setMany([["hz", "600"], ["notify-keyspace-events", "KEA"], ["maxmemory", "1kb"]], true), null);
    assert.equal(config.get("hz"), "500");
    assert.equal(config.get("notify-keyspace-events"), "AKE");
    assert.equal(config.get("maxmemory"), "1024");
    assert.equal(config.setMany([["client-output-buffer-limit", "pubsub 1mb 2 3"]], true), null);
    assert.equal(config.get("client-output-buffer-limit"), "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2 3");
  });

  it("notifies watchers only when a value changes", () => {
    const config = new Config();
    const seen: string[] = [];
    config.watch("hz", (v) => seen.push(v));
    config.setMany([["hz", "10"]], true);
    config.setMany([["hz", "20"]], true);
    assert.deepEqual(seen, ["10", "20"]);
  });
});

describe("CONFIG GET matching", () => {
  it("answers an exact name under the spelling asked, once", () => {
    assert.deepEqual(new Config().matching(["HZ", "h?"]), [["HZ", "10"]]);
    assert.deepEqual(new Config().matching(["slave-read-only"]), [["slave-read-only", "yes"]]);
  });

  it("matches globs against names and aliases", () => {
    const names = new Config().matching(["*max-*-entries*"]).map(([n]) => n).sort();
    assert.ok(names.includes("hash-max-listpack-entries"));
    assert.ok(names.includes("hash-max-ziplist-entries"));
    assert.ok(names.includes("zset-max-ziplist-entries"));
  });

  it("returns nothing for unknown names", () => {
    assert.deepEqual(new Config().matching(["nope", "nope*"]), []);
  });
});

describe("memory units", () => {
  it("parses and formats like Redis", () => {
    assert.equal(parseMemory("1k"), 1000);
    assert.equal(parseMemory("1KB"), 1024);
    assert.equal(parseMemory("2gb"), 2 * 1024 ** 3);
    assert.equal(parseMemory("1.5mb"), null);
    assert.equal(formatMemory(64 * 1024 * 1024), "64mb");
    assert.equal(formatMemory(1536), "1536");
    assert.equal(formatMemory(0), "0");
  });
});

function load(text: string, file = ""): Config {
  const config = new Config();
  loadConfigText(config, text, file, fileSystem);
  return config;
}

describe("redis.conf parsing", () => {
  it("reads quoted arguments, multi-word values and accumulates save lines", () => {
    const config = load('requirepass "a b"\nbind 127.0.0.1 ::1\nsave 900 1\nsave 300 10\n# comment\n\n  hz   20  \n');
    assert.equal(config.get("requirepass"), "a b");
    assert.equal(config.get("bind"), "127.0.0.1 ::1");
    assert.equal(config.get("save"), "900 1 300 10");
    assert.equal(config.get("hz"), "20");
  });

  it("save \"\" clears the save points", () => {
    assert.equal(load('save ""\n').get("save"), "");
  });

  it("reports an unknown directive with its line, as a fatal error", () => {
    assert.throws(
      () => load("port 7000\nfoo bar\n", "/x/r.conf"),
      (e: Error) => e instanceof ConfigFileError && /at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments/.test(e.message) && e.message.includes("/x/r.conf"),
    );
    assert.throws(() => load("hz x\n"), /argument couldn't be parsed into an integer/);
    assert.throws(() => load('hz "10\n'), /Unbalanced quotes/);
  });

  it("follows include, relative to the including file", () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "inner.conf"), "hz 33\n");
    fs.writeFileSync(path.join(dir, "outer.conf"), "include inner.conf\nport 7001\n");
    const file = path.join(dir, "outer.conf");
    const config = load(fs.readFileSync(file, "latin1"), file);
    assert.equal(config.get("hz"), "33");
    assert.equal(config.get("port"), "7001");
    assert.throws(() => load("include /nonexistent/x.conf\n"), /Can't open config file/);
  });

  it("loads the stock Redis 7 redis.conf", { skip: !fs.existsSync("/etc/redis/redis.conf") }, () => {
    const config = load(fs.readFileSync("/etc/redis/redis.conf", "latin1"), "/etc/redis/redis.conf");
    assert.equal(config.get("bind"), "127.0.0.1 -::1");
    assert.equal(config.get("client-output-buffer-limit"), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  });
});

describe("CONFIG REWRITE", () => {
  const original = "# my comment\nport 7141\nsave 900 1\nsave 300 10\nslave-read-only no\nhz 10\n\n# trailing\ninclude other.conf\n";

  it("keeps comments and unknown lines, replaces in place, blanks leftovers, appends the rest", () => {
    const config = load("port 7141\nsave 900 1\nsave 300 10\nslave-read-only no\nhz 10\n");
    config.setMany([["save", "60 5"], ["replica-read-only", "yes"], ["maxmemory", "1mb"], ["requirepass", "p w"]], true);
    assert.equal(
      config.rewrite(original),
      [
        "# my comment",
        "port 7141",
        "save 60 5",
        "",
        "replica-read-only yes",
        "hz 10",
        "",
        "# trailing",
        "include other.conf",
        "",
        "# Generated by CONFIG REWRITE",
        "maxmemory 1mb",
        'requirepass "p w"',
        "",
      ].join("\n"),
    );
  });

  it("writes save \"\" when there are no save points, and adds no second marker", () => {
    const config = load("port 7141\n");
    config.setMany([["save", ""], ["hz", "20"]], true);
    const once = config.rewrite("port 7141\n");
    assert.equal(once, 'port 7141\n\n# Generated by CONFIG REWRITE\nhz 20\nsave ""\n');
    config.setMany([["timeout", "5"]], true);
    assert.equal(config.rewrite(once), 'port 7141\n\n# Generated by CONFIG REWRITE\nhz 20\nsave ""\ntimeout 5\n');
  });

  it("writes a replica's replicaof, except in cluster mode, where it blanks the line (nodes.conf holds the primary)", () => {
    const standalone = load("port 7141\n");
    standalone.setMany([["replicaof", "10.0.0.1 6379"]], false);
    assert.match(standalone.rewrite("port 7141\n"), /^replicaof 10\.0\.0\.1 6379$/m);
    const file = "port 7141\ncluster-enabled yes\nreplicaof 10.0.0.2 6379\n";
    const cluster = load(file);
    cluster.setMany([["replicaof", "10.0.0.1 6379"]], false);
    const rewritten = cluster.rewrite(file);
    assert.doesNotMatch(rewritten, /replicaof/);
    assert.match(rewritten, /^port 7141\ncluster-enabled yes\n\n/);
  });
});
