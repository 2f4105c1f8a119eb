/**
 * Reply decoder: RESP2/RESP3 bytes to JS values, for the in-process API and
 * the gateway. Bulk strings come back as Uint8Array (binary-safe); callers
 * decide whether to show them as text.
 */

export class ReplyError extends Error {}

/** RESP3 shapes that JS has no literal for keep a tag. */
export class RespMap extends Map<RespValue, RespValue> {}
export class RespSet extends Array<RespValue> {}
export class RespPush extends Array<RespValue> {}
export class RespBigNumber {
  constructor(readonly digits: string) {}
}
export class RespVerbatim {
  constructor(readonly format: string, readonly text: Uint8Array) {}
}

export type RespValue =
  | null
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | ReplyError
  | RespValue[]
  | RespMap
  | RespBigNumber
  | RespVerbatim;

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** Decodes complete replies from a buffer; returns them and how many bytes they used. */
export function decodeReplies(buf: Uint8Array): { values: RespValue[]; used: number } {
  const values: RespValue[] = [];
  let pos = 0;
  for (;;) {
    const r = decodeAt(buf, pos);
    if (r === null) break;
    values.push(r[0]);
    pos = r[1];
  }
  return { values, used: pos };
}

function lineEnd(buf: Uint8Array, pos: number): number {
  for (let i = pos; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

/** Decodes the reply starting at pos: [value, end offset], or null if incomplete. */
export function decodeAt(buf: Uint8Array, pos: number): [RespValue, number] | null {
  if (pos >= buf.length) return null;
  const end = lineEnd(buf, pos + 1);
  if (end < 0) return null;
  const type = buf[pos];
  const line = latin1(buf.subarray(pos + 1, end));
  const next = end + 2;
  const aggregate = (n: number, make: (items: RespValue[]) => RespValue): [RespValue, number] | null => {
    const items: RespValue[] = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = decodeAt(buf, p);
      if (r === null) return null;
      items.push(r[0]);
      p = r[1];
    }
    return [make(items), p];
  };
  switch (type) {
    case 43: // +
      return [line, next];
    case 45: // -
      return [new ReplyError(new TextDecoder().decode(buf.subarray(pos + 1, end))), next];
    case 58: { // :
      const n = Number(line);
      return [Number.isSafeInteger(n) ? n : BigInt(line), next];
    }
    case 36: // $
    case 61: { // = verbatim
      const n = Number(line);
      if (n < 0) return [null, next];
      if (next + n + 2 > buf.length) return null;
      const body = buf.slice(next, next + n);
      if (type === 61) return [new RespVerbatim(latin1(body.subarray(0, 3)), body.subarray(4)), next + n + 2];
      return [body, next + n + 2];
    }
    case 42: { // *
      const n = Number(line);
      if (n < 0) return [null, next];
      return aggregate(n, (items) => items);
    }
    case 126: // ~
      return aggregate(Number(line), (items) => RespSet.from(items));
    case 62: // >
      return aggregate(Number(line), (items) => RespPush.from(items));
    case 37: // %
      return aggregate(Number(line) * 2, (items) => {
        const m = new RespMap();
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        return m;
      });
    case 95: // _
      return [null, next];
    case 44: { // ,
      const d = line === "inf" ? Infinity : line === "-inf" ? -Infinity : line === "nan" ? NaN : Number(line);
      return [d, next];
    }
    case 35: // #
      return [line === "t", next];
    case 40: // (
      return [new RespBigNumber(line), next];
    default:
      throw new Error(`unexpected reply type byte ${type}`);
  }
}

/** Encodes a command as a RESP multibulk. */
export function encodeCommand(args: Array<string | Uint8Array | number>): Uint8Array {
  const enc = new TextEncoder();
  const parts = args.map((a) => (a instanceof Uint8Array ? a : enc.encode(String(a))));
  let size = 0;
  const heads = parts.map((p) => enc.encode(`$${p.length}\r\n`));
  const head = enc.encode(`*${parts.length}\r\n`);
  size = head.length + parts.reduce((n, p, i) => n + heads[i].length + p.length + 2, 0);
  const out = new Uint8Array(size);
  let pos = 0;
  out.set(head, pos);
  pos += head.length;
  parts.forEach((p, i) => {
    out.set(heads[i], pos);
    pos += heads[i].length;
    out.set(p, pos);
    pos += p.length;
    out[pos++] = 13;
    out[pos++] = 10;
  });
  return out;
}
