/**
 * Picks the socket backend for the runtime we run on. `--io` (the `io`
 * directive) may name one explicitly, but only the running runtime's own.
 */
import type { Backend } from "./backend.ts";
import { detectRuntime } from "./host.ts";

export async function selectBackend(requested: string): Promise<Backend> {
  const runtime = detectRuntime();
  const want = requested === "auto" || requested === "uws" && runtime === "node" ? runtime : requested;
  if (want !== runtime) {
    throw new Error(`io backend '${requested}' needs the ${requested} runtime, but this process runs on ${runtime}`);
  }
  if (want === "bun") return (await import("./bun.ts")).bunBackend;
  if (want === "deno") return (await import("./deno.ts")).denoBackend;
  return (await import("./node.ts")).nodeBackend;
}
