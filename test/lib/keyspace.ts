/**
 * Helpers for the keyspace tests (keys, expiry): commands written as lines
 * of words, decoded replies, a full SCAN walk and a fast bulk loader.
 */
import * as net from "node:net";
import type { RawConnection } from "./raw.ts";
import type { Cmd } from "./diff.ts";
import { decodeAt, type RespValue } from "../../core/resp/decoder.ts";

/** Commands from lines of words; 'quoted' words may hold spaces or be empty. Strings are binary. */
export function lines(...text: string[]): Cmd[] {
  const words = (line: string) => line.match(/'[^']*'|\S+/g)!.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
  return text.map((l) => words(l).map((w) => Buffer.from(w, "latin1")));
}

export function decode(reply: Buffer): RespValue {
  return decodeAt(reply, 0)![0];
}

/** A bulk string reply as a binary string. */
export function text(v: RespValue): string {
  return Buffer.from(v as Uint8Array).toString("latin1");
}

/** Every key a full SCAN with these options returns, sorted and without duplicates. */
export async function scanAll(conn: RawConnection, ...opts: Cmd): Promise<string[]> {
  const seen = new Set<string>();
  let cursor = "0";
  do {
    const [next, keys] = decode(await conn.call("SCAN", cursor, ...opts)) as [Uint8Array, Uint8Array[]];
    cursor = text(next);
    for (const k of keys) seen.add(text(k));
  } while (cursor !== "0");
  return [...seen].sort();
}

/** RESP for one command of plain-text arguments. */
export function resp(...args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return s;
}

/**
 * Loads fast: sends every command at once on a fresh connection and waits
 * for as many one-line replies (+OK, :0, :1) as commands. Rejects on an error reply.
 */
export function loadOneLiners(port: number, cmds: string[][]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let pending = cmds.length;
    sock.setEncoding("latin1");
    sock.on("data", (chunk: string) => {
      if (chunk.includes("-")) reject(new Error(`error reply while loading: ${chunk.slice(0, 200)}`));
      pending -= chunk.split("\n").length - 1;
      if (pending <= 0) {
        sock.destroy();
        resolve();
      }
    });
    sock.on("error", reject);
    sock.write(cmds.map((c) => resp(...c)).join(""), "latin1");
  });
}
