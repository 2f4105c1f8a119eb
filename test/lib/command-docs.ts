/**
 * COMMAND DOCS as plain records, for comparing a command family's docs with
 * redis-server's: each command's string fields (summary, since, group,
 * complexity...) by name, leaving out what Respite's table does not carry
 * (arguments, history, doc_flags).
 */
import { decodeReplies } from "../../core/resp/decoder.ts";
import type { RawConnection } from "./raw.ts";

const LEFT_OUT = new Set(["arguments", "history", "doc_flags"]);

export async function commandDocs(conn: RawConnection, names: string[]): Promise<Record<string, Record<string, string>>> {
  const [list] = decodeReplies(await conn.call("COMMAND", "DOCS", ...names)).values as unknown[][];
  const out: Record<string, Record<string, string>> = {};
  for (let i = 0; i < list.length; i += 2) {
    const fields = list[i + 1] as unknown[];
    const doc: Record<string, string> = {};
    for (let j = 0; j < fields.length; j += 2) {
      const key = Buffer.from(fields[j] as Uint8Array).toString();
      if (!LEFT_OUT.has(key)) doc[key] = Buffer.from(fields[j + 1] as Uint8Array).toString();
    }
    out[Buffer.from(list[i] as Uint8Array).toString()] = doc;
  }
  return out;
}
