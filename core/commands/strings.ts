/** String commands. */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInt64 } from "../util/number.ts";
import { ERR, readString } from "./args.ts";
import { fromArg } from "../types/string.ts";

const MAX_MS = 2n ** 63n - 1n;

/**
 * Parses an expire argument (EX/PX/EXAT/PXAT) into an absolute ms deadline,
 * with Redis's "invalid expire time in '<cmd>' command" on bad values.
 */
export function parseExpire(c: Client, arg: Uint8Array, unit: "s" | "ms", absolute: boolean, cmd: string): number | null {
  const v = parseInt64(str(arg));
  if (v === null) {
    c.error(ERR.notInt);
    return null;
  }
  const invalid = () => {
    c.error(`ERR invalid expire time in '${cmd}' command`);
    return null;
  };
  if (v <= 0n) return invalid();
  if (unit === "s" && v > MAX_MS / 1000n) return invalid();
  let ms = unit === "s" ? v * 1000n : v;
  if (!absolute) {
    if (ms > MAX_MS - BigInt(c.engine.now)) return invalid();
    ms += BigInt(c.engine.now);
  }
  return Number(ms);
}

export const stringCommands: CommandDef[] = [
  {
    name: "get",
    arity: 2,
    flags: "readonly fast",
    keys: [1, 1, 1],
    acl: "string",
    group: "string",
    since: "1.0.0",
    summary: "Returns the string value of a key.",
    run(c, argv) {
      const v = readString(c, str(argv[1]));
      if (v === null) return;
      if (v === undefined) c.out.nullBulk();
      else c.out.bulkValue(v);
    },
  },
  {
    name: "set",
    arity: -3,
    flags: "write denyoom",
    keys: [1, 1, 1],
    keySpec: "RW access update variable_flags",
    acl: "string",
    group: "string",
    since: "1.0.0",
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    run(c, argv) {
      let nx = false, xx = false, get = false, keepTtl = false;
      let expireAt = -1;
      let hasExpire = false;
      for (let i = 3; i < argv.length; i++) {
        const a = argv[i];
        const next = i + 1 < argv.length ? argv[i + 1] : null;
        if (is(a, "nx") && !xx) nx = true;
        else if (is(a, "xx") && !nx) xx = true;
        else if (is(a, "get")) get = true;
        else if (is(a, "keepttl") && !hasExpire) keepTtl = true;
        else if (!keepTtl && !hasExpire && next !== null && (is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"))) {
          const unit = is(a, "ex") || is(a, "exat") ? "s" : "ms";
          const at = parseExpire(c, next, unit, is(a, "exat") || is(a, "pxat"), "set");
          if (at === null) return;
          expireAt = at;
          hasExpire = true;
          i++;
        } else return c.error(ERR.syntax);
      }
      const key = str(argv[1]);
      const db = c.db;
      let old: ReturnType<typeof readString> = undefined;
      if (get) {
        old = readString(c, key);
        if (old === null) return;
      }
      if (nx || xx) {
        const exists = db.has(key, c.engine.now);
        if (nx === exists) {
          if (old === undefined) c.out.nullBulk();
          else c.out.bulkValue(old);
          return;
        }
      }
      db.set(key, fromArg(argv[2]), keepTtl);
      if (hasExpire) db.setExpire(key, expireAt);
      c.engine.keyWritten(c.db, key);
      if (get) {
        if (old === undefined) c.out.nullBulk();
        else c.out.bulkValue(old);
      } else c.out.ok();
    },
  },
];
