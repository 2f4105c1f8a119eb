/**
 * Writes to a node:net socket straight to its handle, as node:net's own
 * writeGeneric does underneath its Writable: the handle tries the write at
 * once and only a write the kernel does not take whole completes later.
 * The Writable around it costs each write a Buffer, a WriteWrap, the
 * stream's state updates and a process.nextTick for the callback, which
 * then makes Node run its tick queue after every socket event: at -P 1
 * that is one of each per command. Writes made while one completes later
 * wait here, in order, and leave together.
 */
import type * as net from "node:net";
import process from "node:process";

/** What a socket's writes need: bytes out, how many wait, and an end that comes after them. */
export interface SocketWriter {
  /** True when the kernel took bytes, and all written before, before returning (see Connection.write). */
  write(bytes: Uint8Array): boolean;
  pendingBytes(): number;
  pendingWrites(): number;
  end(): void;
}

/** A request object of the handle's write calls; oncomplete is called for a write the kernel did not take at once. */
interface WriteReq {
  oncomplete: (status: number) => void;
  buffer: unknown;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, bytes: Uint8Array): number;
  writev(req: WriteReq, chunks: Uint8Array[], allBuffers: boolean): number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

const binding = (() => {
  try {
    const b = (process as unknown as { binding(name: string): StreamWrapBinding }).binding("stream_wrap");
    return typeof b.WriteWrap === "function" && b.streamBaseState instanceof Int32Array ? b : null;
  } catch {
    return null;
  }
})();

/** The handle's writer for sock, or node:net's Writable where this Node offers no handle to write to. */
export function socketWriter(sock: net.Socket): SocketWriter {
  const handle = (sock as unknown as { _handle?: Partial<StreamHandle> })._handle;
  if (binding === null || typeof handle?.writeBuffer !== "function" || typeof handle.writev !== "function") {
    return writableWriter(sock);
  }
  return handleWriter(sock, handle as StreamHandle, binding);
}

function handleWriter(sock: net.Socket, handle: StreamHandle, b: StreamWrapBinding): SocketWriter {
  /** Bytes of the write in flight (0: none) and of those waiting behind it. */
  let inFlight = 0;
  let waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  let ending = false;
  /** A request the kernel's last write did not bind (it took the bytes at once), used again. */
  let spare: WriteReq | null = null;
  const failed = () => sock.destroy();
  const completed = (status: number) => {
    inFlight = 0;
    if (status < 0) return failed();
    if (waiting.length > 0) send();
    else if (ending) sock.end();
  };
  /** Hands the waiting writes to the handle; they are in flight until oncomplete unless the kernel took them at once. */
  const send = () => {
    if (sock.destroyed) return;
    const chunks = waiting;
    const bytes = waitingBytes;
    waiting = [];
    waitingBytes = 0;
    const req = spare ?? new b.WriteWrap();
    req.oncomplete = completed;
    req.buffer = chunks;
    const err = chunks.length === 1 ? handle.writeBuffer(req, chunks[0]) : handle.writev(req, chunks, true);
    if (err !== 0) return failed();
    if (b.streamBaseState[b.kLastWriteWasAsync] !== 0) {
      inFlight = bytes;
      spare = null;
    } else {
      spare = req;
      req.buffer = null;
      if (ending) sock.end();
    }
  };
  return {
    write(bytes) {
      if (sock.destroyed || ending) return false;
      waiting.push(bytes);
      waitingBytes += bytes.length;
      if (inFlight === 0) send();
      return inFlight === 0 && waiting.length === 0 && !sock.destroyed;
    },
    pendingBytes: () => inFlight + waitingBytes,
    pendingWrites: () => (inFlight > 0 ? 1 : 0) + waiting.length,
    end() {
      ending = true;
      if (inFlight === 0 && waiting.length === 0) sock.end();
    },
  };
}

/** node:net's own write path, counting writes not yet taken by the kernel for CLIENT LIST oll. */
function writableWriter(sock: net.Socket): SocketWriter {
  let unsent = 0;
  const done = () => void unsent--;
  return {
    write(bytes) {
      unsent++;
      sock.write(bytes, done);
      return false;
    },
    pendingBytes: () => sock.writableLength,
    pendingWrites: () => (sock.writableLength === 0 ? 0 : unsent),
    end: () => sock.end(),
  };
}
