/** fengari ships no types; the scripting modules use its C-style API untyped. */
// deno-lint-ignore no-explicit-any
type Untyped = any;
declare const internals: { fengari: Untyped; lobject: Untyped; lstring: Untyped };
export = internals;
