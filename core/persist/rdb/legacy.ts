/**
 * The compact encodings RDB files carry besides listpacks: intsets (still
 * written by Redis 7.0) and the older ziplist and zipmap blobs that Redis
 * 7.0 still loads from files of earlier versions. Each reader returns the
 * entries as binary strings, or null when the blob is damaged, checking it
 * as Redis's *ValidateIntegrity do (header always, entries when deep).
 */
import { str } from "../../util/bytes.ts";
import { readIntLE } from "./listpack.ts";

const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;

/** An intset blob's members in stored order, or null. Deep also requires strictly ascending members. */
export function intsetMembers(b: Uint8Array, deep: boolean): string[] | null {
  if (b.length < 8) return null;
  const width = u32(b, 0);
  if (width !== 2 && width !== 4 && width !== 8) return null;
  const count = u32(b, 4);
  if (8 + count * width !== b.length) return null;
  const out = new Array<string>(count);
  let prev: bigint | null = null;
  for (let i = 0; i < count; i++) {
    const s = readIntLE(b, 8 + i * width, width);
    if (deep) {
      const v = BigInt(s);
      if (prev !== null && v <= prev) return null;
      prev = v;
    }
    out[i] = s;
  }
  return out;
}

/** A ziplist blob's entries, or null. */
export function ziplistEntries(b: Uint8Array, deep: boolean): string[] | null {
  const size = b.length;
  if (size < 11 || u32(b, 0) !== size || b[size - 1] !== 0xff) return null;
  const tail = u32(b, 4);
  if (tail > size - 1) return null;
  const declared = b[8] | (b[9] << 8);
  const out: string[] = [];
  let p = 10;
  let prevSize = 0;
  let last = 10;
  while (p < size - 1 && b[p] !== 0xff) {
    const start = p;
    let prevlen = b[p];
    if (prevlen === 0xfe) {
      if (p + 5 > size - 1) return null;
      prevlen = u32(b, p + 1);
      p += 5;
    } else p += 1;
    if (deep && prevlen !== prevSize) return null;
    if (p >= size - 1) return null;
    const enc = b[p];
    const kind = enc >> 6;
    let len: number;
    if (kind === 0) {
      len = enc & 0x3f;
      p += 1;
    } else if (kind === 1) {
      if (p + 2 > size - 1) return null;
      len = ((enc & 0x3f) << 8) | b[p + 1];
      p += 2;
    } else if (kind === 2) {
      if (p + 5 > size - 1) return null;
      len = ((b[p + 1] << 24) >>> 0) + (b[p + 2] << 16) + (b[p + 3] << 8) + b[p + 4];
      p += 5;
    } else {
      p += 1;
      let width = 0;
      if (enc === 0xc0) width = 2;
      else if (enc === 0xd0) width = 4;
      else if (enc === 0xe0) width = 8;
      else if (enc === 0xf0) width = 3;
      else if (enc === 0xfe) width = 1;
      else if (enc >= 0xf1 && enc <= 0xfd) {
        out.push(String((enc & 0x0f) - 1));
      } else return null;
      if (width > 0) {
        if (p + width > size - 1) return null;
        out.push(readIntLE(b, p, width));
        p += width;
      }
      prevSize = p - start;
      last = start;
      continue;
    }
    if (p + len > size - 1) return null;
    out.push(str(b.subarray(p, p + len)));
    p += len;
    prevSize = p - start;
    last = start;
  }
  if (p !== size - 1) return null;
  if (deep && ((declared !== 65535 && declared !== out.length) || (out.length > 0 && tail !== last))) return null;
  return out;
}

/** A zipmap blob's keys and values, alternating, or null. */
export function zipmapEntries(b: Uint8Array, deep: boolean): string[] | null {
  const size = b.length;
  if (size < 2 || b[size - 1] !== 0xff) return null;
  const out: string[] = [];
  let p = 1;
  const length = (): number => {
    if (p >= size) return -1;
    const l = b[p];
    if (l < 254) {
      p += 1;
      return l;
    }
    if (l === 254 && p + 5 <= size) {
      const v = u32(b, p + 1);
      p += 5;
      return v;
    }
    return -1;
  };
  while (p < size && b[p] !== 0xff) {
    const klen = length();
    if (klen < 0 || p + klen > size - 1) return null;
    out.push(str(b.subarray(p, p + klen)));
    p += klen;
    const vlen = length();
    if (vlen < 0 || p + 1 > size - 1) return null;
    const free = b[p++];
    if (p + vlen + free > size - 1) return null;
    out.push(str(b.subarray(p, p + vlen)));
    p += vlen + free;
  }
  if (p !== size - 1) return null;
  if (deep && b[0] < 254 && b[0] !== out.length / 2) return null;
  return out;
}
