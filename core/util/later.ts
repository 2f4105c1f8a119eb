/**
 * Runs a function once pending I/O has been handled, at the end of this
 * event-loop turn: setImmediate where the host has it (Node, Bun, Deno 2),
 * a zero timer otherwise. core/ imports no runtime module, so it is looked
 * up on globalThis.
 */
export const later: (fn: () => void) => void = (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate ??
  ((fn) => setTimeout(fn, 0));

/**
 * Runs a function as a task of its own, after I/O that is ready: a message
 * to itself on a MessageChannel (web standard). A background save yields
 * between slices with this rather than setImmediate: under Deno a chain of
 * immediates left sockets unread for milliseconds (GET p99 13 ms during a
 * BGSAVE, 0.15 ms with this); under Node and Bun it does as well or better.
 * The channel is closed once no task waits (a new one is made for the next),
 * so it never keeps an idle process up: unref() is not enough under Deno.
 */
export const nextTask: (fn: () => void) => void = (() => {
  const queue: Array<() => void> = [];
  let channel: MessageChannel | null = null;
  const run = () => {
    try {
      queue.shift()!();
    } finally {
      if (queue.length === 0 && channel !== null) {
        channel.port1.close();
        channel.port2.close();
        channel = null;
      }
    }
  };
  return (fn: () => void) => {
    if (channel === null) {
      channel = new MessageChannel();
      channel.port1.onmessage = run;
    }
    queue.push(fn);
    channel.port2.postMessage(0);
  };
})();
