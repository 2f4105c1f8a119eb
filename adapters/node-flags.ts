/**
 * The V8 flags Respite's Node entry is meant to run with. Node takes them
 * only on its command line, so they are part of the command:
 * `node --max-semi-space-size=64 --min-semi-space-size=32 dist/respite.mjs` (npm run start:node, the
 * bin's shebang, the tests and the benches all pass them), and the server
 * warns at startup when they are missing.
 *
 * Why: Node 20's V8 keeps its young generation at two 16 MB semispaces, and
 * a pipelined load allocates ~0.5 KB a command (argument views), so it
 * scavenges every ~25 ms. Once the old generation holds a large dataset (a
 * PEL of 800k entries, ~160 MB), V8 leaves it ~32 MB of headroom and starts
 * marking it again within a second of each full collection: ~25% of the
 * main thread, every command paying. With 64 MB semispaces SETBIT -P 16 on
 * that server took 71-92 server ticks per 800k instead of 191-250
 * (bench/RESULTS.md, nineteenth session). The young generation grows only
 * as objects survive collections, which under a pipelined load few do: it
 * stayed at 8 MB through 3M SETs, scavenged 260 times and collected in full
 * 16 times (objects of commands in flight, promoted); started at 32 MB it
 * scavenged 46 times and collected once (GC 165 -> 40 ms of the main thread).
 * Deno's newer V8 does not fall into the first; Bun is not V8. The young
 * generation is given back down to its minimum once the server is quiet
 * (core/server/heap-release.ts).
 */
import process from "node:process";

export const NODE_V8_FLAGS = ["--max-semi-space-size=64", "--min-semi-space-size=32"];

/** Whether this Node process was started with a young-generation size of its own (flag or NODE_OPTIONS). */
export function youngGenerationSized(): boolean {
  return /--max[-_]semi[-_]space[-_]size/.test(`${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`);
}
