/**
 * Starts the browser gateway next to the RESP listeners: the runtime's
 * HTTP/WebSocket server on gateway-bind:gateway-port. A gateway that
 * cannot listen is logged and skipped, not fatal: the data server still
 * serves RESP.
 */
import type { Engine } from "../core/server/engine.ts";
import { Gateway } from "../core/gateway/gateway.ts";
import type { Listener } from "./backend.ts";
import { detectRuntime } from "./host.ts";

type Serve = (gw: Gateway, host: string, port: number) => Promise<Listener>;

async function runtimeServe(): Promise<Serve> {
  const runtime = detectRuntime();
  if (runtime === "bun") return (await import("./gateway-bun.ts")).serveGateway;
  if (runtime === "deno") return (await import("./gateway-deno.ts")).serveGateway;
  return (await import("./gateway-node.ts")).serveGateway;
}

export async function startGateway(engine: Engine): Promise<Listener | null> {
  const port = engine.config.num("gateway-port");
  const gw = new Gateway(engine);
  const serve = await runtimeServe();
  const servers: Listener[] = [];
  for (const host of engine.config.get("gateway-bind").split(" ").filter(Boolean)) {
    try {
      servers.push(await serve(gw, host, port));
    } catch (e) {
      engine.log("warning", `Warning: Could not start the gateway on ${host}:${port}: ${(e as Error).message}`);
    }
  }
  if (servers.length === 0) return null;
  gw.start();
  engine.log("notice", `Gateway ready for browsers on http://${engine.config.get("gateway-bind").split(" ")[0]}:${port}/ (HTTP, SSE, WebSocket /ws)`);
  return {
    close() {
      gw.stop();
      for (const s of servers) s.close();
    },
  };
}
