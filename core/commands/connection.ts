/** Connection commands: PING ECHO HELLO AUTH SELECT QUIT RESET. */
import type { CommandDef } from "./table.ts";
import type { Client } from "../server/client.ts";
import { is, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR, intArg } from "./args.ts";
import { CONST } from "../resp/writer.ts";
import { VERSION } from "../server/engine.ts";

const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

/** Checks credentials; on failure replies WRONGPASS and returns false. */
function authenticate(c: Client, user: string, pass: string): boolean {
  if (!c.engine.checkPassword(user, pass)) {
    c.engine.log("verbose", `Failed authentication from ${c.conn.remoteAddress}`);
    c.error(WRONGPASS);
    return false;
  }
  c.setAuthenticated(user);
  return true;
}

/** Puts a connection back to a fresh state (RESET); its id and address stay. */
export function resetClient(c: Client): void {
  c.multi = null;
  c.multiError = false;
  c.watchDirty = false;
  c.engine.watches.unwatchAll(c);
  c.engine.pubsub.unsubscribeAll(c);
  c.engine.tracking.disable(c);
  c.monitor = false;
  c.engine.monitors.delete(c);
  c.db = c.engine.dbs[0];
  c.resp = 2;
  c.name = "";
  c.replyMode = "on";
  c.skipNext = false;
  c.noEvict = false;
  c.noTouch = false;
  c.authenticated = !c.engine.authRequired();
  c.parser.authenticated = c.authenticated;
  c.user = "default";
}

export const connectionCommands: CommandDef[] = [
  {
    name: "ping",
    arity: -1,
    flags: "fast sentinel",
    acl: "connection",
    tips: "request_policy:all_shards response_policy:all_succeeded",
    group: "connection",
    since: "1.0.0",
    summary: "Returns the server's liveliness response.",
    run(c, argv) {
      if (argv.length > 2) return c.error("ERR wrong number of arguments for 'ping' command");
      if (c.pubsub !== null && c.resp === 2) {
        // A RESP2 subscriber can only parse arrays, so Redis answers ["pong", arg].
        c.out.array(2);
        c.out.bulkStr("pong");
        return argv.length === 2 ? c.out.bulk(argv[1]) : c.out.bulkStr("");
      }
      if (argv.length === 2) c.out.bulk(argv[1]);
      else c.out.raw(CONST.pong);
    },
  },
  {
    name: "echo",
    arity: 2,
    flags: "loading stale fast",
    acl: "connection",
    group: "connection",
    since: "1.0.0",
    summary: "Returns the given string.",
    run(c, argv) {
      c.out.bulk(argv[1]);
    },
  },
  {
    name: "select",
    arity: 2,
    flags: "loading stale fast",
    acl: "connection",
    group: "connection",
    since: "1.0.0",
    summary: "Changes the selected database.",
    run(c, argv) {
      const n = intArg(c, argv[1]);
      if (n === null) return;
      if (c.engine.cluster !== null && n !== 0) return c.error("ERR SELECT is not allowed in cluster mode");
      if (n < 0 || n >= c.engine.dbs.length) return c.error(ERR.dbIndex);
      c.db = c.engine.dbs[n];
      c.out.ok();
    },
  },
  {
    name: "quit",
    arity: -1,
    flags: "allow_busy noscript loading stale fast no_auth",
    acl: "connection",
    group: "connection",
    since: "1.0.0",
    summary: "Closes the connection.",
    run(c) {
      c.out.ok();
      c.closeAfterReply = true;
    },
  },
  {
    name: "reset",
    arity: 1,
    flags: "noscript loading stale fast no_auth allow_busy",
    acl: "connection",
    group: "connection",
    since: "6.2.0",
    summary: "Resets the connection.",
    run(c) {
      resetClient(c);
      c.out.simple("RESET");
    },
  },
  {
    name: "auth",
    arity: -2,
    flags: "noscript loading stale fast no_auth allow_busy",
    acl: "connection",
    group: "connection",
    since: "1.0.0",
    summary: "Authenticates the connection.",
    run(c, argv) {
      if (argv.length > 3) return c.error(ERR.syntax);
      if (argv.length === 2 && !c.engine.authRequired()) {
        return c.error(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
      }
      const user = argv.length === 3 ? str(argv[1]) : "default";
      if (authenticate(c, user, str(argv[argv.length - 1]))) c.out.ok();
    },
  },
  {
    name: "hello",
    arity: -1,
    flags: "noscript loading stale fast no_auth sentinel allow_busy",
    acl: "connection",
    group: "connection",
    since: "6.0.0",
    summary: "Handshakes with the Redis server.",
    run(c, argv) {
      let proto = c.resp as number;
      if (argv.length >= 2) {
        const v = parseInteger(str(argv[1]));
        if (v === null) return c.error("ERR Protocol version is not an integer or out of range");
        if (v < 2 || v > 3) return c.error("NOPROTO unsupported protocol version");
        proto = v;
      }
      let auth: [string, string] | null = null;
      let setName: string | null = null;
      for (let i = 2; i < argv.length; i++) {
        const more = argv.length - i - 1;
        if (is(argv[i], "auth") && more >= 2) {
          auth = [str(argv[i + 1]), str(argv[i + 2])];
          i += 2;
        } else if (is(argv[i], "setname") && more >= 1) {
          setName = str(argv[i + 1]);
          i += 1;
        } else {
          return c.error(`ERR Syntax error in HELLO option '${str(argv[i])}'`);
        }
      }
      if (auth && !authenticate(c, auth[0], auth[1])) return;
      if (!c.authenticated) {
        return c.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
      }
      if (setName !== null) {
        if (/[\s]/.test(setName) || /[^\x21-\x7e]/.test(setName)) {
          return c.error("ERR Client names cannot contain spaces, newlines or special characters.");
        }
        c.name = setName;
      }
      c.resp = proto as 2 | 3;
      const out = c.out;
      out.map(7);
      out.bulkStr("server");
      out.bulkStr("redis");
      out.bulkStr("version");
      out.bulkStr(VERSION);
      out.bulkStr("proto");
      out.int(proto);
      out.bulkStr("id");
      out.int(c.id);
      out.bulkStr("mode");
      out.bulkStr(c.engine.cluster !== null ? "cluster" : "standalone");
      out.bulkStr("role");
      out.bulkStr("master");
      out.bulkStr("modules");
      out.array(0);
    },
  },
];
