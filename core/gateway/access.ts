/**
 * What a browser may do, until Respite has ACL users: requirepass, bearer
 * tokens mapped to an access level, and the level of browsers that did
 * neither (gateway-default-access). Levels below `all` may only subscribe
 * to the channels gateway-default-channels allows. The check runs inside
 * the engine (Client.gate), where Redis checks ACL, so a refused command is
 * an ordinary NOPERM error reply, counted, and dooms a MULTI like ACL does.
 */
import type { Command } from "../commands/table.ts";
import type { Engine } from "../server/engine.ts";
import { lower, str } from "../util/bytes.ts";
import { globMatch } from "../util/glob.ts";

export type Access = "none" | "subscribe" | "readonly" | "all";
export const ACCESS_LEVELS: Access[] = ["none", "subscribe", "readonly", "all"];

/** Commands every level may run: they touch no data. */
const ALWAYS = new Set(["auth", "hello", "ping", "quit", "reset"]);
const SUBSCRIBE = new Set(["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"]);
const TRANSACTION = new Set(["multi", "exec", "discard", "watch", "unwatch"]);
/** Per-connection commands a read-only browser may use besides reads. */
const READONLY_EXTRA = new Set(["echo", "select", "client|id", "client|info", "client|getname", "client|setname"]);

/** The access a bearer token grants (gateway-tokens pairs), or null for an unknown token. */
export function tokenAccess(engine: Engine, token: string): Access | null {
  const words = engine.config.get("gateway-tokens").split(" ");
  for (let i = 0; i + 1 < words.length; i += 2) {
    if (words[i] === token && ACCESS_LEVELS.includes(words[i + 1] as Access)) return words[i + 1] as Access;
  }
  return null;
}

export function defaultAccess(engine: Engine): Access {
  return engine.config.get("gateway-default-access") as Access;
}

/** NOPERM text as Redis 7.0's ACL gives it, or null when the command may run at this level. */
export function refusal(engine: Engine, access: Access, cmd: Command, argv: Uint8Array[]): string | null {
  if (access === "all" || ALWAYS.has(cmd.name)) return null;
  const allowed = access !== "none" &&
    (SUBSCRIBE.has(cmd.name) ||
      (access === "readonly" &&
        (TRANSACTION.has(cmd.name) || READONLY_EXTRA.has(cmd.fullName) ||
          (cmd.acl.includes("read") && !cmd.acl.includes("write") && !cmd.acl.includes("dangerous")))));
  if (!allowed) return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
  if (cmd.name.endsWith("subscribe") && !cmd.name.endsWith("unsubscribe")) {
    const patterns = engine.config.get("gateway-default-channels").split(" ").filter(Boolean);
    // A pattern subscription is allowed when the pattern itself is covered, as ACL compares patterns literally.
    for (let i = 1; i < argv.length; i++) {
      const name = str(argv[i]);
      if (!patterns.some((p) => globMatch(p, name))) {
        return "NOPERM this user has no permissions to access one of the channels used as arguments";
      }
    }
  }
  return null;
}

/** The password an AUTH or HELLO ... AUTH command carries, as [user, password], or null. */
export function credentials(cmd: Command, argv: Uint8Array[]): [string, string] | null {
  if (cmd.name === "auth") return argv.length === 2 ? ["default", str(argv[1])] : [str(argv[1]), str(argv[2])];
  if (cmd.name !== "hello") return null;
  for (let i = 2; i + 2 < argv.length; i++) {
    if (lower(str(argv[i])) === "auth") return [str(argv[i + 1]), str(argv[i + 2])];
  }
  return null;
}
