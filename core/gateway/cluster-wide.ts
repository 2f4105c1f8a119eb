/**
 * Keyless commands a browser means for the whole database, in a cluster:
 * DBSIZE is the sum over the primaries, KEYS every primary's keys, SCAN
 * walks one primary after the other (the cursor a browser gets is the
 * primary's cursor times 1024 plus the primary's place in name order), and
 * WAIT after a write forwarded to another node is asked of that node (the
 * write's replicas are its). The primaries are asked over the gateway's
 * links, this node too (over a link to its own port), so every answer is
 * a node's own. Other keyless commands stay this node's, as for any client.
 */
import type { ClusterNode } from "../cluster/node.ts";
import { NodeFlag } from "../cluster/node.ts";
import type { Engine } from "../server/engine.ts";
import { ReplyError, type RespValue } from "../resp/decoder.ts";
import { ReplyWriter } from "../resp/writer.ts";
import { str } from "../util/bytes.ts";

/** How many primaries a SCAN cursor can tell apart. */
const SCAN_NODES = 1024n;

/** Where a node takes RESP clients: its announced ip and port (this node: its own port). */
export function nodeAddress(engine: Engine, node: ClusterNode): string {
  const port = node === engine.cluster!.myself ? engine.config.num("port") : node.port;
  return `${node.ip || "127.0.0.1"}:${port}`;
}

/** The primaries serving slots, in name order (a SCAN cursor's numbering), that are not known to have failed. */
export function servingPrimaries(engine: Engine): ClusterNode[] {
  const out = [...engine.cluster!.primaries()].filter((n) => n.numSlots > 0 && !n.has(NodeFlag.FAIL));
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A request to some nodes and how their replies make the browser's: the addresses, the command for each, the combination. */
export interface WidePlan {
  addresses: string[];
  commands: Uint8Array[][];
  /** The reply bytes, from every node's reply in the order of addresses (none of them an error). */
  combine(values: RespValue[], resp: 2 | 3): Uint8Array;
}

/** The plan for DBSIZE, KEYS or SCAN across the primaries, or null for a command that is this node's alone (or a bad SCAN cursor). */
export function widePlan(engine: Engine, name: string, argv: Uint8Array[]): WidePlan | null {
  if (name !== "dbsize" && name !== "keys" && name !== "scan") return null;
  const nodes = servingPrimaries(engine);
  if (nodes.length === 0) return null;
  if (name === "dbsize") {
    return {
      addresses: nodes.map((n) => nodeAddress(engine, n)),
      commands: nodes.map(() => argv),
      combine: (values, resp) => written(resp, (w) => w.int(values.reduce((n: number, v) => n + Number(v), 0))),
    };
  }
  if (name === "keys") {
    return {
      addresses: nodes.map((n) => nodeAddress(engine, n)),
      commands: nodes.map(() => argv),
      combine: (values, resp) => written(resp, (w) => bulks(w, (values as Uint8Array[][]).flat())),
    };
  }
  const text = str(argv[1]);
  if (!/^\d+$/.test(text)) return null; // the engine's own error for it
  const cursor = BigInt(text);
  const index = Number(cursor % SCAN_NODES);
  if (index >= nodes.length) return null;
  const own = [argv[0], new TextEncoder().encode(String(cursor / SCAN_NODES)), ...argv.slice(2)];
  return {
    addresses: [nodeAddress(engine, nodes[index])],
    commands: [own],
    combine: ([value], resp) => {
      const [next, keys] = value as [Uint8Array, Uint8Array[]];
      const at = BigInt(str(next));
      // The primary is done: the next one from its start, or the end of the walk.
      const cursor = at !== 0n ? at * SCAN_NODES + BigInt(index) : index + 1 < nodes.length ? BigInt(index + 1) : 0n;
      return written(resp, (w) => {
        w.array(2);
        w.bulkStr(String(cursor));
        bulks(w, keys);
      });
    },
  };
}

/** The first error among the replies, as the browser's reply. */
export function firstError(values: RespValue[]): ReplyError | null {
  return (values.find((v) => v instanceof ReplyError) as ReplyError | undefined) ?? null;
}

function written(resp: 2 | 3, fill: (w: ReplyWriter) => void): Uint8Array {
  const w = new ReplyWriter();
  w.resp = resp;
  fill(w);
  return w.take().slice();
}

function bulks(w: ReplyWriter, items: Uint8Array[]): void {
  w.array(items.length);
  for (const k of items) w.bulk(k);
}
