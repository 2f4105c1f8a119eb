/**
 * Scenes for differential tests of pushes: named connections to one server
 * play commands, and every frame each connection receives (replies and
 * pushes, in order) goes into a transcript, with client ids replaced by
 * connection names. same() plays a scene on redis-server and on Respite and
 * compares the two transcripts; made for client tracking, each scene starts
 * once the server has no tracking client left.
 */
import assert from "node:assert/strict";
import { RawConnection } from "./raw.ts";
import { type Cmd, show } from "./diff.ts";
import { encodeCommand } from "../../core/resp/decoder.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cast of named connections to one server, and the transcript of what they received. */
export class Scene {
  readonly log: string[] = [];
  private conns = new Map<string, RawConnection>();
  /** Client ids by connection name, closed connections included. */
  private ids = new Map<string, string>();

  constructor(private readonly port: number) {}

  /** Opens connections and learns their ids (before any of them subscribes). */
  async open(...names: string[]): Promise<void> {
    for (const name of names) {
      const conn = await RawConnection.connect(this.port);
      this.ids.set(name, /:(\d+)/.exec((await conn.call("CLIENT", "ID")).toString())![1]);
      this.conns.set(name, conn);
    }
  }

  id(name: string): string {
    return this.ids.get(name)!;
  }

  /** Sends cmd on a connection and records the next `frames` frames it receives (its reply and any pushes). */
  async on(name: string, cmd: Cmd, frames = 1): Promise<void> {
    this.conns.get(name)!.write(encode([cmd]));
    await this.read(name, frames, cmd.join(" "));
  }

  /** Sends commands in one write and records `frames` frames. */
  async pipeline(name: string, cmds: Cmd[], frames: number): Promise<void> {
    this.conns.get(name)!.write(encode(cmds));
    await this.read(name, frames, cmds.map((c) => c.join(" ")).join(" | "));
  }

  /** Sends without reading (CLIENT REPLY OFF). */
  send(name: string, cmd: Cmd): void {
    this.conns.get(name)!.write(encode([cmd]));
  }

  /** Sends a command whose reply differs between servers (HELLO, CONFIG SET...) without recording it. */
  async quiet(name: string, ...cmd: Cmd): Promise<Buffer> {
    return this.conns.get(name)!.call(...cmd);
  }

  /** Records frames that arrive without a command (invalidations caused by others). */
  async read(name: string, frames = 1, what = "(push)"): Promise<void> {
    for (const frame of await this.conns.get(name)!.readReplies(frames)) {
      this.log.push(this.named(`${name} ${what}: ${show(frame)}`));
    }
  }

  /** Records the tracking fields of INFO. */
  async info(name: string): Promise<void> {
    const text = (await this.quiet(name, "INFO", "everything")).toString();
    this.log.push(`${name} INFO: ${text.match(/tracking_\w+:\d+/g)!.join(" ")}`);
  }

  /** Records CLIENT INFO's flags and redir fields. */
  async clientFlags(name: string): Promise<void> {
    const text = (await this.quiet(name, "CLIENT", "INFO")).toString();
    this.log.push(this.named(`${name} CLIENT INFO: ${/flags=\S+/.exec(text)![0]} ${/redir=\S+/.exec(text)![0]};`));
  }

  /** Waits until the server has no tracking client left (closed connections are noticed asynchronously). */
  async noTrackingClients(): Promise<void> {
    const probe = await RawConnection.connect(this.port);
    while (!/tracking_clients:0\r/.test((await probe.call("INFO", "clients")).toString())) await sleep(5);
    probe.close();
  }

  async close(name: string): Promise<void> {
    this.conns.get(name)!.close();
    this.conns.delete(name);
    await this.noTrackingClientNamed(name);
  }

  /** Ends the scene: a PING on every connection shows that nothing unexpected is left to read. */
  async end(): Promise<void> {
    for (const name of [...this.conns.keys()]) await this.on(name, ["PING"]);
    for (const conn of this.conns.values()) conn.close();
  }

  private async noTrackingClientNamed(name: string): Promise<void> {
    const probe = await RawConnection.connect(this.port);
    while ((await probe.call("CLIENT", "LIST")).toString().includes(`name=${name} `)) await sleep(5);
    probe.close();
  }

  /** Client ids vary between servers: where one names a connection, it becomes that connection's name. */
  private named(text: string): string {
    for (const [name, id] of this.ids) {
      const where = String.raw`(redirect\\r\\n:|redir-broken\\r\\n:|GETREDIR: ":|redir=|REDIRECT )`;
      text = text.replace(new RegExp(where + id + String.raw`(?!\d)`, "g"), `$1<${name}>`);
    }
    return text;
  }
}

function encode(cmds: Cmd[]): Buffer {
  return Buffer.concat(cmds.map((cmd) => encodeCommand(cmd)));
}

export type Play = (s: Scene) => Promise<void>;

/** Plays a scene on both servers, each from a clean state, and compares the transcripts. */
export async function same(redisPort: number, respitePort: number, play: Play): Promise<void> {
  const run = async (port: number) => {
    const s = new Scene(port);
    await s.noTrackingClients();
    await s.open("admin");
    await s.quiet("admin", "FLUSHALL");
    await play(s);
    await s.end();
    return s.log;
  };
  const [expected, actual] = await Promise.all([run(redisPort), run(respitePort)]);
  assert.deepEqual(actual, expected);
}
