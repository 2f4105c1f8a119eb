/**
 * The core's file interface on node:fs, for Node and for Bun (whose node:fs
 * is its own native implementation; Bun has no fsync or sync-write API of
 * its own). Async fsync runs on the runtime's thread pool, so a save's final
 * fsync does not stall clients.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import type { FileSystem, OpenMode, WritableFile } from "../core/io.ts";

const FLAGS = { truncate: "w", append: "a", overwrite: fs.constants.O_WRONLY | fs.constants.O_CREAT };

/**
 * A file descriptor is a number the kernel hands out again as soon as it is
 * closed: a second close, or a write or fsync after the first, would reach
 * whatever was opened next (a client's socket, another file). So the file
 * refuses use once closed, and a close while an fsync is on the thread pool
 * waits for it to come back.
 */
function openWritable(p: string, mode: OpenMode): WritableFile {
  const fd = fs.openSync(p, FLAGS[mode], 0o644);
  let closed = false;
  let syncing = 0;
  let closeAfterSync = false;
  const open = () => {
    if (closed) throw Object.assign(new Error(`EBADF: file closed, ${p}`), { code: "EBADF" });
    return fd;
  };
  return {
    write(bytes) {
      let done = 0;
      try {
        while (done < bytes.length) done += fs.writeSync(open(), bytes, done, bytes.length - done);
      } catch (err) {
        throw Object.assign(err as Error, { written: done });
      }
    },
    truncate: (size) => fs.ftruncateSync(open(), size),
    syncNow: () => fs.fdatasyncSync(open()),
    sync: () =>
      new Promise<void>((resolve, reject) => {
        fs.fsync(open(), (e) => {
          if (--syncing === 0 && closeAfterSync) fs.close(fd, () => {});
          if (e) reject(e);
          else resolve();
        });
        syncing++;
      }),
    close: () => {
      if (closed) return;
      closed = true;
      if (syncing > 0) closeAfterSync = true;
      else fs.closeSync(fd);
    },
  };
}

export const nodeFiles: FileSystem = {
  readText: (p) => fs.readFileSync(p, "latin1"),
  writeText: (p, text) => {
    const tmp = `${p}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text, "latin1");
    fs.renameSync(tmp, p);
  },
  exists: (p) => fs.existsSync(p),
  resolve: (base, p) => path.resolve(base ? path.dirname(base) : process.cwd(), p),
  readBytes: (p) => {
    const b = fs.readFileSync(p);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  open: openWritable,
  rename: (from, to) => fs.renameSync(from, to),
  remove: (p) => fs.rmSync(p, { force: true }),
  mkdir: (p) => void fs.mkdirSync(p, { recursive: true }),
  list: (dir) => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  size: (p) => {
    try {
      return fs.statSync(p).size;
    } catch {
      return -1;
    }
  },
  syncDir: (p) => {
    const fd = fs.openSync(p, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  renameAndSyncDir: async (from, to, dir) => {
    await fs.promises.rename(from, to);
    const handle = await fs.promises.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  cwd: () => process.cwd(),
  chdir: (p) => {
    try {
      process.chdir(p);
    } catch (e) {
      throw new Error(strerror(e));
    }
  },
};

/** C's strerror() text for a Node error code, as Redis's messages quote it. */
export function strerror(e: unknown): string {
  const code = (e as { code?: string }).code;
  const known: Record<string, string> = {
    ENOENT: "No such file or directory",
    EACCES: "Permission denied",
    ENOTDIR: "Not a directory",
    EISDIR: "Is a directory",
    ENOSPC: "No space left on device",
    EROFS: "Read-only file system",
    EEXIST: "File exists",
  };
  return (code && known[code]) ?? (e as Error).message;
}
