/**
 * The `respite` command, with redis-server's habits:
 *   respite [/path/to/redis.conf] [--port 6380] [--bind 127.0.0.1 ::1] [--<directive> value ...]
 * Command-line directives are appended to the config file's, as Redis does.
 */
import process from "node:process";
import { readFileSync } from "node:fs";
import { Config } from "../core/config/config.ts";
import { ConfigFileError, loadConfigText } from "../core/config/file.ts";
import { RESPITE_VERSION, VERSION } from "../core/server/engine.ts";
import { startServer } from "./server.ts";
import { SENTINEL_PORT } from "../core/sentinel/mode.ts";
import { Sentinel } from "../core/sentinel/sentinel.ts";
import { applySentinelDirective } from "../core/sentinel/config.ts";
import { fileSystem, hostInfo, runtimeVersion } from "./host.ts";

const HELP = `Usage: respite [/path/to/redis.conf] [options] [-]
       respite - (read config from stdin)
       respite -v or --version
       respite -h or --help
       respite /path/to/sentinel.conf --sentinel (run as a Sentinel)

Examples:
       respite (run the server with default config)
       respite /etc/redis/6379.conf
       respite --port 7777
       respite --port 7777 --replicaof 127.0.0.1 8888
       respite /etc/myredis.conf --loglevel verbose -
       respite --io node --port 6380

Every redis.conf directive is accepted as --name value.`;

/**
 * Turns argv into redis.conf text: `--port 6380 --bind a b` becomes
 * "port 6380\nbind a b"; an option given no value gets "" (`--save`).
 */
function argsToConfig(args: string[]): string {
  const lines: string[][] = [];
  for (const a of args) {
    if (a.startsWith("--") && a.length > 2) lines.push([a.slice(2)]);
    else if (lines.length) lines[lines.length - 1].push(a);
    else throw new ConfigFileError(`Invalid argument '${a}'`);
  }
  return lines.map((words) => (words.length === 1 ? [...words, ""] : words).map(quote).join(" ")).join("\n");
}

/** Redis chdirs to `dir` at startup; CONFIG GET dir then reports the absolute path. */
function enterDir(config: Config): void {
  const dir = config.get("dir");
  try {
    if (dir) process.chdir(dir);
  } catch (e) {
    console.error(`Can't chdir to '${dir}': ${(e as Error).message}`);
    process.exit(1);
  }
  config.setMany([["dir", process.cwd()]], false);
}

function quote(word: string): string {
  return word === "" || /[\s"'\\]/.test(word) ? JSON.stringify(word) : word;
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === "-v" || argv[0] === "--version") {
    console.log(`Respite server v=${RESPITE_VERSION} redis_version=${VERSION} runtime=${runtimeVersion()}`);
    return;
  }
  if (argv[0] === "-h" || argv[0] === "--help") {
    console.log(HELP);
    return;
  }
  const config = new Config();
  // --sentinel anywhere (as redis-server takes it) runs a Sentinel: port 26379 and no protected mode unless configured.
  const sentinelMode = argv.includes("--sentinel");
  const sentinelLines: string[][] | undefined = sentinelMode ? [] : undefined;
  let rest = argv.filter((a) => a !== "--sentinel");
  if (sentinelMode) config.setMany([["port", String(SENTINEL_PORT)], ["protected-mode", "no"], ["save", ""], ["appendonly", "no"]], false);
  let text = "";
  if (rest.length && !rest[0].startsWith("-")) {
    const path = fileSystem.resolve("", rest[0]);
    if (!fileSystem.exists(path)) {
      console.error(`Fatal error, can't open config file '${path}': No such file or directory`);
      process.exit(1);
    }
    config.configFile = path;
    text = fileSystem.readText(path);
    rest = rest.slice(1);
  }
  if (rest[rest.length - 1] === "-") {
    text += "\n" + readFileSync(0, "latin1");
    rest = rest.slice(0, -1);
  }
  try {
    // Each `sentinel` line is checked as it is read (so an error names its line), on a Sentinel that never runs.
    const probe = new Sentinel(null as never, null as never, hostInfo("none", config.configFile));
    const onSentinel = sentinelLines && ((words: string[]) => {
      applySentinelDirective(probe, words);
      sentinelLines.push(words);
    });
    loadConfigText(config, text, config.configFile, fileSystem, 0, onSentinel);
    loadConfigText(config, argsToConfig(rest), "", fileSystem, 0, onSentinel);
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
  enterDir(config);
  try {
    await startServer({ config, ownProcess: true, sentinel: sentinelLines });
  } catch (e) {
    console.error(`Fatal: ${(e as Error).message}`);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
