/**
 * Loading the AOF at startup, as Redis 7.0's loadAppendOnlyFiles: the
 * manifest names a base (an RDB preamble or commands) and incremental
 * files, replayed in order through the engine by a client of no
 * connection. Time stands still at 0 meanwhile, so nothing expires during
 * the load (Redis's keyIsExpired says no while loading). A file ending
 * mid-command (or inside an unfinished MULTI) is, when it is the last one
 * and aof-load-truncated is yes, cut back to its last whole command with
 * Redis's warnings; otherwise loading fails with Redis's message. The
 * event loop runs every STEP_BYTES, so clients meanwhile get -LOADING and
 * INFO shows the progress.
 */
import type { Engine } from "../../server/engine.ts";
import { Client, noConnection } from "../../server/client.ts";
import { lower, str } from "../../util/bytes.ts";
import { EngineLoad } from "../load.ts";
import { loadLua, luaLoaded } from "../../scripting/lua.ts";
import type { Command } from "../../commands/table.ts";
import type { Manifest } from "./manifest.ts";
import { type LoadingState, STEP_BYTES, yieldToIo } from "../loading.ts";
import { monotonicMs } from "../../util/monotonic.ts";

/** Loading cannot go on: the server logs the message and exits, as Redis does. */
export class AofLoadError extends Error {}

export type FileLoad = "ok" | "empty" | "truncated";

export class AofLoader {
  private readonly client: Client;

  /** Bytes of the files before the one being loaded. */
  private filesDone = 0;

  constructor(private readonly engine: Engine, private readonly progress: LoadingState) {
    this.client = new Client(0, -1, noConnection("aof"), engine);
  }

  /** Loads every file of the manifest, in order; the sizes of what was loaded. */
  async loadAll(dir: string, manifest: Manifest, filename: string): Promise<void> {
    const e = this.engine;
    const files = [...(manifest.base ? [manifest.base] : []), ...manifest.incrs];
    const started = monotonicMs();
    // Each file's size, read once: INFO's loading_total_bytes, the progress, and what "empty" means.
    const sizes = files.map((f) => e.fs.size(`${dir}/${f.name}`));
    for (const size of sizes) this.progress.totalBytes += Math.max(0, size);
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const last = i === files.length - 1;
      const t0 = monotonicMs();
      if (sizes[i] < 0) throw new AofLoadError(`The AOF file ${f.name} doesn't exist`);
      const status = await this.loadFile(`${dir}/${f.name}`, sizes[i], f.name, last, f.name === filename);
      if (status === "truncated" && !last) throw new AofLoadError("Fatal error: the truncated file is not the last file");
      this.filesDone += sizes[i];
      if (status !== "empty") {
        const kind = f.type === "b" ? "base" : "incr";
        e.log("notice", `DB loaded from ${kind} file ${f.name}: ${((monotonicMs() - t0) / 1000).toFixed(3)} seconds`);
      }
    }
    if (files.length > 0) e.log("notice", `DB loaded from append only file: ${((monotonicMs() - started) / 1000).toFixed(3)} seconds`);
  }

  /** One file of `size` bytes: an RDB preamble if it starts with REDIS, then commands. */
  private async loadFile(path: string, size: number, name: string, last: boolean, oldStyle: boolean): Promise<FileLoad> {
    const e = this.engine;
    // By its size, as Redis does: a device file (/dev/full, /dev/zero) would never end.
    if (size === 0) return "empty";
    const bytes = e.fs.readBytes(path);
    let pos = 0;
    if (str(bytes.subarray(0, 5)) === "REDIS") {
      e.log("notice", oldStyle ? "Reading RDB preamble from AOF file..." : "Reading RDB base file on AOF loading...");
      try {
        pos = await this.loadRdb(bytes);
      } catch (err) {
        e.log("warning", (err as Error).message);
        throw new AofLoadError(
          oldStyle ? `Error reading the RDB preamble of the AOF file ${name}, AOF loading aborted` : `Error reading the RDB base file ${name}, AOF loading aborted`,
        );
      }
      if (oldStyle) e.log("notice", "Reading the remaining AOF tail...");
    }
    return this.replay(bytes, pos, path, name, last);
  }

  private async loadRdb(bytes: Uint8Array): Promise<number> {
    const load = new EngineLoad(this.engine, bytes, { aofPreamble: true });
    while (!load.step(STEP_BYTES)) await this.yieldAt(load.pos);
    if (load.hasLibraries) {
      await loadLua();
      load.loadLibraries();
    }
    this.engine.log("notice", `Done loading RDB, keys loaded: ${load.loaded}, keys expired: 0.`);
    return load.pos;
  }

  /** Runs the commands from pos to the end of bytes. */
  private async replay(bytes: Uint8Array, start: number, path: string, name: string, last: boolean): Promise<FileLoad> {
    const e = this.engine;
    const c = this.client;
    c.db = e.dbs[0];
    c.multi = null;
    const n = bytes.length;
    let pos = start;
    let validUpTo = start;
    let validBeforeMulti = start;
    const formatError = () =>
      new AofLoadError(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
    /** A "<mark><integer>\r\n" line at pos: the integer, -1 when the file ends first. */
    const line = (mark: number): number => {
      if (pos >= n) return -1;
      if (bytes[pos] !== mark) throw formatError();
      const lf = bytes.indexOf(10, pos);
      if (lf < 0) return -1;
      const v = Number(str(bytes.subarray(pos + 1, lf - (bytes[lf - 1] === 13 ? 1 : 0))));
      if (!Number.isInteger(v) || v < 0) throw formatError();
      pos = lf + 1;
      return v;
    };
    let truncated = false;
    let yieldedAt = start;
    parse: while (pos < n) {
      if (bytes[pos] === 35) { // '#': an annotation
        const lf = bytes.indexOf(10, pos);
        if (lf < 0) {
          truncated = true;
          break;
        }
        pos = validUpTo = lf + 1;
        continue;
      }
      const argc = line(42);
      if (argc < 0) {
        truncated = true;
        break;
      }
      if (argc < 1) throw formatError();
      const argv: Uint8Array[] = [];
      for (let i = 0; i < argc; i++) {
        const len = line(36);
        if (len < 0 || pos + len + 2 > n) {
          truncated = true;
          break parse;
        }
        argv.push(bytes.subarray(pos, pos + len));
        pos += len + 2;
      }
      const commandStart = validUpTo;
      const cmd = this.lookup(argv, name);
      if (cmd.group === "scripting" && !luaLoaded()) await loadLua();
      this.run(cmd, argv);
      if (c.multi !== null && cmd.name === "multi") validBeforeMulti = commandStart;
      validUpTo = pos;
      if (pos - yieldedAt >= STEP_BYTES) {
        yieldedAt = pos;
        await this.yieldAt(pos);
      }
    }
    if (!truncated && c.multi !== null) {
      e.log("warning", `Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
      validUpTo = validBeforeMulti;
      truncated = true;
    } else if (truncated && c.multi !== null) {
      validUpTo = validBeforeMulti;
    }
    c.multi = null;
    c.out.take();
    if (!truncated) return "ok";
    if (last && e.config.bool("aof-load-truncated")) {
      e.log("warning", `!!! Warning: short read while loading the AOF file ${name}!!!`);
      e.log("warning", `!!! Truncating the AOF ${name} at offset ${validUpTo} !!!`);
      const f = e.fs.open(path, "truncate");
      f.write(bytes.subarray(0, validUpTo));
      f.syncNow();
      f.close();
      e.log("warning", `AOF ${name} loaded anyway because aof-load-truncated is enabled`);
      return "truncated";
    }
    throw new AofLoadError(
      `Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
    );
  }

  /** Shows the progress (pos in the current file), then lets clients in. */
  private async yieldAt(pos: number): Promise<void> {
    this.progress.loadedBytes = this.filesDone + pos;
    await yieldToIo();
  }

  private lookup(argv: Uint8Array[], name: string): Command {
    const e = this.engine;
    let cmd = e.commands.find(argv[0]);
    if (cmd?.subcommands && argv.length >= 2) cmd = cmd.subcommands.get(lower(str(argv[1])));
    if (cmd === undefined || !cmd.run) {
      throw new AofLoadError(`Unknown command '${str(argv[0])}' reading the append only file ${name}`);
    }
    if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
      throw new AofLoadError(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
    }
    return cmd;
  }

  /** One command through the engine, with time at 0 so that nothing expires. */
  private run(cmd: Command, argv: Uint8Array[]): void {
    const e = this.engine;
    const c = this.client;
    e.now = 0;
    if (c.multi !== null && cmd.name !== "exec" && cmd.name !== "multi" && cmd.name !== "discard") {
      c.multi.push({ cmd, argv });
      return;
    }
    e.call(c, cmd, argv);
    c.out.take();
  }
}
