/**
 * Hand-assembled WebAssembly modules (see popcount-wasm.ts, hll-hash.ts):
 * WebAssembly is a web-standard API in every runtime and in browsers, and
 * gives what JavaScript lacks on the hot paths (popcnt, 64-bit multiply).
 */

/** A module's exports and a view of the memory it exports as "mem". */
export interface WasmModule {
  exports: WebAssembly.Exports;
  memory: Uint8Array;
}

/** A module given as hex, or null where WebAssembly is missing or refuses it (the caller then works in JS). */
export function instantiateHex(hex: string): WasmModule | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    const exports = new wasm.Instance(new wasm.Module(bytes)).exports;
    return { exports, memory: new Uint8Array((exports.mem as WebAssembly.Memory).buffer) };
  } catch {
    return null;
  }
}
