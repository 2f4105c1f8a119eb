/**
 * The core's file interface on Deno's own APIs (Deno.openSync, syncData),
 * so a write or fsync does not go through Deno's Node compatibility layer.
 */
import type { FileSystem, OpenMode, WritableFile } from "../core/io.ts";

interface DenoFile {
  writeSync(p: Uint8Array): number;
  syncDataSync(): void;
  truncateSync(size: number): void;
  syncData(): Promise<void>;
  syncSync(): void;
  sync(): Promise<void>;
  close(): void;
}

declare const Deno: {
  openSync(path: string, opts: Record<string, unknown>): DenoFile;
  open(path: string, opts: Record<string, unknown>): Promise<DenoFile>;
  readFileSync(path: string): Uint8Array;
  writeFileSync(path: string, data: Uint8Array): void;
  renameSync(from: string, to: string): void;
  rename(from: string, to: string): Promise<void>;
  removeSync(path: string): void;
  mkdirSync(path: string, opts: { recursive: boolean }): void;
  readDirSync(path: string): Iterable<{ name: string }>;
  statSync(path: string): { size: number };
  cwd(): string;
  chdir(path: string): void;
  pid: number;
  errors: { NotFound: new () => Error; PermissionDenied: new () => Error };
};

const LATIN1 = new TextDecoder("latin1");

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function openWritable(p: string, mode: OpenMode): WritableFile {
  const file = Deno.openSync(p, {
    write: true,
    create: true,
    truncate: mode === "truncate",
    append: mode === "append",
    mode: 0o644,
  });
  // Deno never hands a resource id out again: a second close would only throw.
  let closed = false;
  return {
    write(bytes) {
      let done = 0;
      try {
        while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
      } catch (err) {
        throw Object.assign(err as Error, { written: done });
      }
    },
    truncate: (size) => file.truncateSync(size),
    syncNow: () => file.syncDataSync(),
    sync: () => file.syncData(),
    close: () => {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}

function dirname(p: string): string {
  const cut = p.lastIndexOf("/");
  return cut <= 0 ? (cut === 0 ? "/" : ".") : p.slice(0, cut);
}

/** Joins like path.resolve for the POSIX paths Redis configs hold. */
function resolvePath(from: string, p: string): string {
  const parts = (p.startsWith("/") ? p : `${from}/${p}`).split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

function errorText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  return (e as Error).message;
}

export const denoFiles: FileSystem = {
  readText: (p) => LATIN1.decode(Deno.readFileSync(p)),
  writeText: (p, text) => {
    const tmp = `${p}.tmp-${Deno.pid}`;
    Deno.writeFileSync(tmp, latin1Bytes(text));
    Deno.renameSync(tmp, p);
  },
  exists: (p) => denoFiles.size(p) >= 0,
  resolve: (base, p) => resolvePath(base ? dirname(resolvePath(Deno.cwd(), base)) : Deno.cwd(), p),
  readBytes: (p) => Deno.readFileSync(p),
  open: openWritable,
  rename: (from, to) => Deno.renameSync(from, to),
  remove: (p) => {
    try {
      Deno.removeSync(p);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  },
  mkdir: (p) => Deno.mkdirSync(p, { recursive: true }),
  list: (dir) => {
    try {
      return [...Deno.readDirSync(dir)].map((e) => e.name);
    } catch {
      return [];
    }
  },
  size: (p) => {
    try {
      return Deno.statSync(p).size;
    } catch {
      return -1;
    }
  },
  syncDir: (p) => {
    const dir = Deno.openSync(p, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  },
  renameAndSyncDir: async (from, to, dir) => {
    await Deno.rename(from, to);
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  },
  cwd: () => Deno.cwd(),
  chdir: (p) => {
    try {
      Deno.chdir(p);
    } catch (e) {
      throw new Error(errorText(e));
    }
  },
};
