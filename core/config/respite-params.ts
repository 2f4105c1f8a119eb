/**
 * Parameters Redis does not have: the runtime I/O backend and the browser
 * gateway. They live in the same registry, so redis.conf, the command line
 * and CONFIG GET/SET treat them like any other directive. The gateway's
 * meaning of each is described in the README's Gateway section.
 */
import type { ParamSpec } from "./params.ts";

export const RESPITE_PARAMS: ParamSpec[] = [
  ["io", "enum", "auto", { values: "auto bun deno node uws", flags: "immutable" }],
  ["gateway", "bool", "yes", { flags: "immutable" }],
  ["gateway-port", "int", "8080", { flags: "immutable" }],
  ["gateway-bind", "string", "127.0.0.1", { flags: "immutable" }],
  /** Origins (scheme://host:port) allowed for CORS and WebSocket upgrades, space-separated; `*` any; empty = same origin only. */
  ["gateway-allowed-origins", "special", ""],
  /** What a browser that has not authenticated may do: none, subscribe, readonly or all. */
  ["gateway-default-access", "enum", "subscribe", { values: "none subscribe readonly all" }],
  /** Channel patterns a browser with subscribe or readonly access may subscribe to, space-separated. */
  ["gateway-default-channels", "special", "public:*"],
  /** Bearer tokens and the access each grants: `token access [token access ...]`. */
  ["gateway-tokens", "special", ""],
  ["gateway-max-frame", "memory", "1048576"],
  ["gateway-max-queue", "memory", "8388608"],
  ["gateway-ping-interval", "int", "30"],
  ["gateway-idle-timeout", "int", "0"],
  /** Channels that keep a history for recovery: `pattern max-messages max-age-seconds [...]`. */
  ["gateway-history", "special", ""],
];
