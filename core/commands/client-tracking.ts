/**
 * CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO: the client side of
 * client-side caching, with Redis's option checks in Redis's order. The
 * tracking itself lives in core/server/tracking.ts.
 */
import type { Client } from "../server/client.ts";
import type { TrackingOptions } from "../server/tracking.ts";
import { is, lower, str } from "../util/bytes.ts";
import { parseInteger } from "../util/number.ts";
import { ERR } from "./args.ts";

/** Redis prints prefixes with %s: a NUL ends them. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

function overlaps(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/** Parses the options after ON|OFF; null after replying with an error. */
function parseOptions(c: Client, argv: Uint8Array[]): TrackingOptions | null {
  const opts: TrackingOptions = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  for (let j = 3; j < argv.length; j++) {
    const hasValue = j < argv.length - 1;
    const opt = lower(str(argv[j]));
    if (opt === "redirect" && hasValue) {
      j++;
      if (opts.redirect !== 0) return c.error("ERR A client can only redirect to a single other client"), null;
      const id = parseInteger(str(argv[j]));
      if (id === null) return c.error(ERR.notInt), null;
      // The client must exist now, even though it may go away later.
      if (!c.engine.clients.has(id)) return c.error("ERR The client ID you want redirect to does not exist"), null;
      opts.redirect = id;
    } else if (opt === "bcast" || opt === "optin" || opt === "optout" || opt === "noloop") {
      opts[opt] = true;
    } else if (opt === "prefix" && hasValue) {
      opts.prefixes.push(str(argv[++j]));
    } else {
      return c.error(ERR.syntax), null;
    }
  }
  return opts;
}

/** Why these options cannot turn tracking on for c now, or null when they can. */
function refusal(c: Client, opts: TrackingOptions): string | null {
  const mode = c.tracking;
  if (!opts.bcast && opts.prefixes.length !== 0) return "ERR PREFIX option requires BCAST mode to be enabled";
  if (mode !== null && mode.bcast !== opts.bcast) {
    return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
  }
  if (opts.bcast && (opts.optin || opts.optout)) return "ERR OPTIN and OPTOUT are not compatible with BCAST";
  if (opts.optin && opts.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if ((opts.optin && mode?.optout) || (opts.optout && mode?.optin)) {
    return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
  }
  return opts.bcast ? prefixCollision([...(mode?.prefixes ?? [])].sort(), opts.prefixes) : null;
}

/** A client's prefixes must not overlap, among themselves nor with those it already has. */
function prefixCollision(existing: string[], added: string[]): string | null {
  const rule = "Prefixes for a single client must not overlap.";
  for (let i = 0; i < added.length; i++) {
    const old = existing.find((p) => overlaps(p, added[i]));
    if (old !== undefined) {
      return `ERR Prefix '${cString(added[i])}' overlaps with an existing prefix '${cString(old)}'. ${rule}`;
    }
    for (let j = i + 1; j < added.length; j++) {
      if (overlaps(added[i], added[j])) {
        return `ERR Prefix '${cString(added[i])}' overlaps with another provided prefix '${cString(added[j])}'. ${rule}`;
      }
    }
  }
  return null;
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
export function clientTracking(c: Client, argv: Uint8Array[]): void {
  const opts = parseOptions(c, argv);
  if (opts === null) return;
  if (is(argv[2], "on")) {
    const refused = refusal(c, opts);
    if (refused !== null) return c.error(refused);
    c.engine.tracking.enable(c, opts);
  } else if (is(argv[2], "off")) {
    c.engine.tracking.disable(c);
  } else {
    return c.error(ERR.syntax);
  }
  c.out.ok();
}

/** CLIENT CACHING YES|NO: overrides OPTIN/OPTOUT for the next command. */
export function clientCaching(c: Client, argv: Uint8Array[]): void {
  const mode = c.tracking;
  if (mode === null) {
    return c.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
  }
  if (is(argv[2], "yes")) {
    if (!mode.optin) return c.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
  } else if (is(argv[2], "no")) {
    if (!mode.optout) return c.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else {
    return c.error(ERR.syntax);
  }
  mode.caching = true;
  c.out.ok();
}

export function clientGetRedir(c: Client): void {
  c.out.int(c.tracking?.redirect ?? -1);
}

export function clientTrackingInfo(c: Client): void {
  const mode = c.tracking;
  const flags = [mode === null ? "off" : "on"];
  if (mode !== null) {
    if (mode.bcast) flags.push("bcast");
    if (mode.optin) flags.push("optin", ...(mode.caching ? ["caching-yes"] : []));
    if (mode.optout) flags.push("optout", ...(mode.caching ? ["caching-no"] : []));
    if (mode.noloop) flags.push("noloop");
    if (mode.brokenRedirect) flags.push("broken_redirect");
  }
  const out = c.out;
  out.map(3);
  out.bulkStr("flags");
  out.set(flags.length);
  for (const f of flags) out.bulkStr(f);
  out.bulkStr("redirect");
  out.int(mode?.redirect ?? -1);
  out.bulkStr("prefixes");
  const prefixes = [...(mode?.prefixes ?? [])].sort();
  out.array(prefixes.length);
  for (const p of prefixes) out.bulkStr(p);
}
