/**
 * Which of the 16,384 slots a key belongs to: CRC16 (XMODEM, as Redis's
 * crc16.c) of the key, or of its hash tag, the part between the first `{`
 * and the next `}` when that part is not empty, mod 16384. Keys are binary
 * strings (one char a byte), as the keyspace keeps them.
 */

export const SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

function crc16(key: string, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff];
  return crc;
}

/** The slot of a key (a binary string). */
export function keyHashSlot(key: string): number {
  const open = key.indexOf("{");
  if (open !== -1) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & (SLOTS - 1);
  }
  return crc16(key, 0, key.length) & (SLOTS - 1);
}

function crc16Bytes(key: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ key[i]) & 0xff];
  return crc;
}

/** The slot of a key as the request carries it, without making it a string first (the redirect check on every command). */
export function keyHashSlotBytes(key: Uint8Array): number {
  const open = key.indexOf(123);
  if (open !== -1) {
    const close = key.indexOf(125, open + 1);
    if (close > open + 1) return crc16Bytes(key, open + 1, close) & (SLOTS - 1);
  }
  return crc16Bytes(key, 0, key.length) & (SLOTS - 1);
}
