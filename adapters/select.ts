/**
 * Picks the socket backend for the runtime we run on. `--io` (the `io`
 * directive) may name one explicitly, but only the running runtime's own.
 */
import type { Backend } from "./backend.ts";
import { detectRuntime, type RuntimeName } from "./host.ts";

/** The runtime each backend name needs; uws (uWebSockets.js) is a Node add-on and runs on Node's sockets for now. */
const RUNTIME_OF: Record<string, RuntimeName> = { bun: "bun", deno: "deno", node: "node", uws: "node" };

export async function selectBackend(requested: string): Promise<Backend> {
  const runtime = detectRuntime();
  const need = requested === "auto" ? runtime : RUNTIME_OF[requested];
  if (need !== runtime) {
    throw new Error(`io backend '${requested}' needs the ${need ?? "unknown"} runtime, but this process runs on ${runtime}`);
  }
  if (need === "bun") return (await import("./bun.ts")).bunBackend;
  if (need === "deno") return (await import("./deno.ts")).denoBackend;
  return (await import("./node.ts")).nodeBackend;
}
