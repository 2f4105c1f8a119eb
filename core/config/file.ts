/**
 * redis.conf reading: one directive per line, arguments split like
 * redis-cli input (quotes and escapes), `include` of other files, and
 * Redis's fatal error report naming the file and line.
 */
import { splitArgs } from "../resp/parser.ts";
import { bytes, str } from "../util/bytes.ts";
import type { FileSystem } from "../io.ts";
import { type Config, ConfigError } from "./config.ts";

export class ConfigFileError extends Error {}

const MAX_INCLUDE_DEPTH = 16;

/**
 * Reads config text into config. With `sentinel` (Sentinel mode), `sentinel ...` lines go to it
 * (words after "sentinel"); what it throws is reported as a config error at that line.
 */
export function loadConfigText(
  config: Config,
  text: string,
  path: string,
  fs: FileSystem,
  depth = 0,
  sentinel?: (words: string[]) => void,
): void {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const fail = (why: string) => {
      throw new ConfigFileError(
        `\n*** FATAL CONFIG FILE ERROR (Respite) ***\n` +
          `Reading the configuration file, at line ${i + 1}\n>>> '${line}'\n${why}` +
          (path ? `\n(in ${path})` : ""),
      );
    };
    const args = splitArgs(bytes(line));
    if (args === null) fail("Unbalanced quotes in configuration line");
    const words = args!.map(str);
    const name = words[0].toLowerCase();
    if (name === "include") {
      if (words.length !== 2) fail("Bad directive or wrong number of arguments");
      if (depth >= MAX_INCLUDE_DEPTH) fail("Too many nested includes");
      const target = fs.resolve(path, words[1]);
      if (!fs.exists(target)) fail(`Can't open config file '${target}'`);
      loadConfigText(config, fs.readText(target), target, fs, depth + 1, sentinel);
      continue;
    }
    if (sentinel && name === "sentinel") {
      try {
        sentinel(words.slice(1));
      } catch (e) {
        fail((e as Error).message);
      }
      continue;
    }
    try {
      config.applyDirective(name, words.slice(1));
    } catch (e) {
      if (e instanceof ConfigError) fail(e.message);
      throw e;
    }
  }
}
