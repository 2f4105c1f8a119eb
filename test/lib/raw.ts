/**
 * A raw RESP connection for tests that compare bytes: sends commands (or
 * arbitrary bytes) and returns each reply's exact bytes.
 */
import * as net from "node:net";
import { decodeAt, encodeCommand } from "../../core/resp/decoder.ts";

export class RawConnection {
  private store = Buffer.allocUnsafe(64 * 1024);
  private buf = this.store.subarray(0, 0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d) => {
      this.append(d);
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", () => {});
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawConnection> {
    return RawConnection.open(net.connect(port, host));
  }

  static connectUnix(path: string): Promise<RawConnection> {
    return RawConnection.open(net.connect(path));
  }

  private static open(sock: net.Socket): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      sock.once("connect", () => resolve(new RawConnection(sock)));
      sock.once("error", reject);
    });
  }

  /** Appends into spare capacity (doubling), so a reply arriving in many reads is copied O(n) times, not O(n²). */
  private append(d: Buffer): void {
    const len = this.buf.length;
    if (this.buf.byteOffset + len + d.length > this.buf.buffer.byteLength || this.buf.buffer !== this.store.buffer) {
      const next = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * (len + d.length)));
      this.buf.copy(next, 0);
      this.store = next;
      this.buf = next.subarray(0, len);
    }
    d.copy(this.store, this.buf.byteOffset - this.store.byteOffset + len);
    this.buf = this.store.subarray(this.buf.byteOffset - this.store.byteOffset, this.buf.byteOffset - this.store.byteOffset + len + d.length);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private waitData(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout; have ${JSON.stringify(this.buf.toString("latin1"))}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  write(bytes: Uint8Array | string): void {
    this.sock.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** Reads n complete replies and returns their raw bytes. */
  async readReplies(n: number, timeoutMs = 10_000): Promise<Buffer[]> {
    const out: Buffer[] = [];
    while (out.length < n) {
      const r = decodeAt(this.buf, 0);
      if (r !== null) {
        out.push(Buffer.from(this.buf.subarray(0, r[1])));
        this.buf = this.buf.subarray(r[1]);
        continue;
      }
      if (this.closed) throw new Error(`connection closed; have ${JSON.stringify(this.buf.toString("latin1"))}`);
      await this.waitData(timeoutMs);
    }
    return out;
  }

  async call(...args: Array<string | Buffer | number>): Promise<Buffer> {
    this.write(encodeCommand(args));
    return (await this.readReplies(1))[0];
  }

  /** Sends several commands in one write and returns every reply. */
  async pipeline(cmds: Array<Array<string | Buffer | number>>): Promise<Buffer[]> {
    this.write(Buffer.concat(cmds.map((c) => encodeCommand(c))));
    return this.readReplies(cmds.length);
  }

  /** Waits until the server closes the connection; returns whatever it sent. */
  async untilClosed(timeoutMs = 10_000): Promise<string> {
    while (!this.closed) await this.waitData(timeoutMs);
    return this.buf.toString("latin1");
  }

  close(): void {
    this.sock.destroy();
  }
}

