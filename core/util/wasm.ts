/**
 * Hand-assembled WebAssembly modules (see popcount-wasm.ts, hll-hash.ts):
 * WebAssembly is a web-standard API in every runtime and in browsers, and
 * gives what JavaScript lacks on the hot paths (popcnt, 64-bit multiply).
 */

/** The exports of a module given as hex, or null where WebAssembly is missing or refuses it (the caller then works in JS). */
export function instantiateHex(hex: string): WebAssembly.Exports | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return new wasm.Instance(new wasm.Module(bytes)).exports;
  } catch {
    return null;
  }
}
