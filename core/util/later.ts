/**
 * Runs a function once pending I/O has been handled, at the end of this
 * event-loop turn: setImmediate where the host has it (Node, Bun, Deno 2),
 * a zero timer otherwise. core/ imports no runtime module, so it is looked
 * up on globalThis.
 */
export const later: (fn: () => void) => void = (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate ??
  ((fn) => setTimeout(fn, 0));

