/** The HELP reply of container commands, in Redis's shape: status lines under a usage header. */
import type { Client } from "../server/client.ts";

/** Replies with "<NAME> <subcommand> ..." then the given lines, then HELP's own entry. */
export function replyHelp(c: Client, name: string, lines: string[]): void {
  const all = [
    `${name.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    "HELP",
    "    Prints this help.",
  ];
  c.out.array(all.length);
  for (const line of all) c.out.simple(line);
}

/** Redis's reply to an unknown subcommand of a command that parses its own (DEBUG, OBJECT...). */
export function subcommandSyntaxError(c: Client, name: string, sub: string): void {
  c.error(`ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`);
}
