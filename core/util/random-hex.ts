/** Random lowercase hex of `chars` characters (an even count), as Redis's getRandomHexChars: run IDs, replication IDs, node names. */
export function randomHex(chars: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(chars / 2));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
