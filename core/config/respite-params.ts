/**
 * Parameters Redis does not have: the runtime I/O backend and the browser
 * gateway. They live in the same registry, so redis.conf, the command line
 * and CONFIG GET/SET treat them like any other directive.
 */
import type { ParamSpec } from "./params.ts";

export const RESPITE_PARAMS: ParamSpec[] = [
  ["io", "enum", "auto", { values: "auto bun deno node uws", flags: "immutable" }],
];
