/**
 * The Sentinel: monitors masters, their replicas and the other Sentinels
 * over outbound links, decides SDOWN/ODOWN, elects a leader per epoch
 * (SENTINEL IS-MASTER-DOWN-BY-ADDR) and fails a master over, with the
 * timings, events and votes of redis-sentinel 7.0 so both kinds of
 * Sentinel can share a group. Runs on its own timer beside the engine;
 * nothing in the engine's command path waits on it.
 */
import type { Dialer, HostInfo } from "../io.ts";
import type { Engine } from "../server/engine.ts";
import { ReplyError, type RespValue } from "../resp/decoder.ts";
import { Link, text } from "./link.ts";
import { FAILOVER_STATES, type FailoverState, formatAddr, Instance, type Kind } from "./instance.ts";
import { rewriteSentinelConfig } from "./config.ts";
import { ScriptQueue } from "./scripts.ts";
import { randomHex } from "../util/random-hex.ts";

export const HELLO_CHANNEL = "__sentinel__:hello";
const INFO_PERIOD = 10_000;
const PING_PERIOD = 1_000;
const ASK_PERIOD = 1_000;
const PUBLISH_PERIOD = 2_000;
const MIN_LINK_RECONNECT_PERIOD = 15_000;
const ELECTION_TIMEOUT = 10_000;
const SLAVE_RECONF_TIMEOUT = 10_000;
const MAX_DESYNC = 1_000;
const MAX_PENDING_COMMANDS = 100;
const TILT_TRIGGER = 2_000;
const TILT_PERIOD = 30_000;

export class SentinelError extends Error {}

export class Sentinel {
  myid = "";
  currentEpoch = 0;
  readonly masters = new Map<string, Instance>();
  announceIp = "";
  announcePort = 0;
  resolveHostnames = false;
  announceHostnames = false;
  denyScriptsReconfig = true;
  sentinelUser = "";
  sentinelPass = "";
  /** TILT mode (the clock jumped or the process stalled): watch, but take no action, for TILT_PERIOD. */
  tilt = false;
  tiltStart = 0;
  private previousTick = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  readonly scripts: ScriptQueue;

  /** host is the engine's, given apart for the Sentinel that only checks config lines (it has no engine). */
  constructor(readonly engine: Engine, private readonly dialer: Dialer, readonly host: HostInfo = engine.host) {
    this.scripts = new ScriptQueue(host, () => this.now, (type, msg) => this.event("warning", type, null, msg));
  }

  get now(): number {
    return Date.now();
  }

  // ---- lifecycle ----

  /** Runs after the config is read: an id if none, the config saved, then the timer (Redis's sentinelIsRunning). */
  start(): void {
    let flush = false;
    if (this.myid === "") {
      this.myid = randomHex(40);
      flush = true;
    }
    if (flush) this.flushConfig();
    this.engine.log("warning", `Sentinel ID is ${this.myid}`);
    for (const m of this.masters.values()) this.event("warning", "+monitor", m, `%@ quorum ${m.quorum}`);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const m of this.masters.values()) this.releaseMaster(m, true);
  }

  private schedule(): void {
    if (this.stopped) return;
    // Redis randomizes hz per Sentinel (10..19) so that Sentinels desynchronize and votes rarely split.
    this.timer = setTimeout(() => {
      try {
        this.tick();
      } catch (e) {
        this.engine.log("warning", `Sentinel timer error: ${(e as Error).stack ?? e}`);
      }
      this.schedule();
    }, 50 + Math.floor(Math.random() * 50));
  }

  // ---- instances ----

  private makeLink(inst: () => Instance, pubsub: boolean): Link {
    return new Link(this.dialer, () => this.now, pubsub ? (msg) => this.onPubsub(inst(), msg) : null);
  }

  createInstance(kind: Kind, name: string, ip: string, port: number, master: Instance | null): Instance {
    let self: Instance | null = null;
    const inst = new Instance(kind, name, ip, port, master, (ps) => this.makeLink(() => self!, ps), this.now);
    self = inst;
    if (master) inst.downAfter = master.downAfter;
    return inst;
  }

  monitor(name: string, ip: string, port: number, quorum: number): Instance {
    if (this.masters.has(name)) throw new SentinelError("ERR Duplicate master name.");
    this.checkAddr(ip, port);
    if (quorum <= 0) throw new SentinelError("ERR Quorum must be 1 or greater.");
    const m = this.createInstance("master", name, ip, port, null);
    m.quorum = quorum;
    this.masters.set(name, m);
    return m;
  }

  checkAddr(ip: string, port: number): void {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SentinelError("ERR Invalid port number.");
    if (!this.resolveHostnames && !isIp(ip)) throw new SentinelError("ERR Invalid IP address or hostname specified");
  }

  addReplica(m: Instance, ip: string, port: number): Instance | null {
    const name = formatAddr(ip, port);
    if (m.replicas.has(name)) return null;
    const r = this.createInstance("slave", name, ip, port, m);
    m.replicas.set(name, r);
    return r;
  }

  private releaseMaster(m: Instance, sentinelsToo: boolean): void {
    m.closeLinks();
    for (const r of m.replicas.values()) r.closeLinks();
    if (sentinelsToo) { for (const s of m.sentinels.values()) s.closeLinks(); }
  }

  remove(name: string): void {
    const m = this.masters.get(name)!;
    this.event("warning", "-monitor", m, "%@");
    this.releaseMaster(m, true);
    this.masters.delete(name);
    this.flushConfig();
  }

  /** Redis's sentinelResetMaster. */
  resetMaster(m: Instance, keepSentinels: boolean, generateEvent: boolean): void {
    for (const r of m.replicas.values()) r.closeLinks();
    m.replicas.clear();
    if (!keepSentinels) {
      for (const s of m.sentinels.values()) s.closeLinks();
      m.sentinels.clear();
    }
    m.closeLinks();
    const forced = m.flags;
    for (const k of Object.keys(forced) as (keyof typeof forced)[]) forced[k] = false;
    m.leader = "";
    m.failoverState = "none";
    m.failoverStateChangeTime = 0;
    m.failoverStartTime = 0;
    m.promoted = null;
    m.runid = "";
    m.info = null;
    m.infoRefresh = 0;
    const now = this.now;
    m.actPingTime = now;
    m.lastPingTime = 0;
    m.lastAvailTime = now;
    m.lastPongTime = now;
    m.roleReportedTime = now;
    m.roleReported = "master";
    if (generateEvent) this.event("warning", "+reset-master", m, "%@");
  }

  /** Redis's sentinelResetMasterAndChangeAddress: the other replicas and the old address become the new master's replicas. */
  resetMasterAndChangeAddress(m: Instance, ip: string, port: number): void {
    const keep: [string, number][] = [];
    for (const r of m.replicas.values()) {
      if (r.ip === ip && r.port === port) continue;
      keep.push([r.ip, r.port]);
    }
    if (m.ip !== ip || m.port !== port) keep.push([m.ip, m.port]);
    this.resetMaster(m, true, false);
    m.ip = ip;
    m.port = port;
    m.sDownSince = m.oDownSince = 0;
    for (const [rip, rport] of keep) {
      const r = this.addReplica(m, rip, rport);
      if (r) this.event("notice", "+slave", r, "%@");
    }
    this.flushConfig();
  }

  /** The master's address as clients should see it: the promoted replica's once it took over. */
  currentAddr(m: Instance): [string, number] {
    if (m.flags.failoverInProgress && m.promoted && stateIndex(m.failoverState) >= stateIndex("reconf_slaves")) {
      return [m.promoted.ip, m.promoted.port];
    }
    return [m.ip, m.port];
  }

  masterByAddr(ip: string, port: number): Instance | undefined {
    for (const m of this.masters.values()) if (m.ip === ip && m.port === port) return m;
    return undefined;
  }

  // ---- events and config ----

  /** Logs an event and publishes it on the channel of its name; "%@" stands for the instance's description. */
  event(level: "debug" | "verbose" | "notice" | "warning", type: string, ri: Instance | null, fmt: string): void {
    let msg = fmt;
    if (ri && fmt.startsWith("%@")) {
      const m = ri.master;
      const me = `${ri.kind} ${ri.name} ${ri.ip} ${ri.port}`;
      msg = (m ? `${me} @ ${m.name} ${m.ip} ${m.port}` : me) + fmt.slice(2);
    }
    this.engine.log(level, `${type} ${msg}`);
    if (level !== "debug") this.engine.pubsub.publish(type, msg);
    const master = ri?.kind === "master" ? ri : ri?.master;
    if (level === "warning" && master?.notificationScript) this.scripts.schedule(master.notificationScript, type, msg);
  }

  /** client-reconfig-script <master-name> <leader|observer> start <from-ip> <from-port> <to-ip> <to-port>. */
  private reconfigScript(m: Instance, role: "leader" | "observer", from: [string, number], to: [string, number]): void {
    if (!m.clientReconfigScript) return;
    this.scripts.schedule(m.clientReconfigScript, m.name, role, "start", from[0], String(from[1]), to[0], String(to[1]));
  }

  flushConfig(): void {
    const path = this.engine.config.configFile;
    if (!path) return;
    try {
      const fs = this.engine.fs;
      const old = fs.exists(path) ? fs.readText(path) : "";
      const body = rewriteSentinelConfig(this, this.engine.config.rewrite(old));
      const tmp = `${path}.tmp-${this.engine.host.pid}`;
      fs.writeText(tmp, body);
      fs.rename(tmp, path);
    } catch (e) {
      this.engine.log(
        "warning",
        `WARNING: Sentinel was not able to save the new configuration on disk!!!: ${(e as Error).message}`,
      );
    }
  }

  // ---- the timer ----

  private tick(): void {
    this.checkTilt();
    this.scripts.tick();
    let switching: Instance | null = null;
    for (const m of [...this.masters.values()]) {
      if (this.masters.get(m.name) !== m) continue;
      this.handleInstance(m);
      for (const r of [...m.replicas.values()]) this.handleInstance(r);
      for (const s of [...m.sentinels.values()]) this.handleInstance(s);
      if (m.failoverState === "update_config") switching = m;
    }
    if (switching) this.switchToPromoted(switching);
  }

  /** Redis's sentinelCheckTiltCondition: a timer that ran late or backwards makes every timing unreliable. */
  private checkTilt(): void {
    const now = this.now;
    const delta = now - this.previousTick;
    if (this.previousTick !== 0 && (delta < 0 || delta > TILT_TRIGGER)) {
      this.tilt = true;
      this.tiltStart = now;
      this.event("warning", "+tilt", null, "#tilt mode entered");
    }
    this.previousTick = now;
  }

  private handleInstance(ri: Instance): void {
    this.reconnect(ri);
    this.sendPeriodicCommands(ri);
    if (this.tilt) {
      if (this.now - this.tiltStart < TILT_PERIOD) return;
      this.tilt = false;
      this.event("warning", "-tilt", null, "#tilt mode exited");
    }
    this.checkSubjectivelyDown(ri);
    if (ri.kind === "master") {
      this.checkObjectivelyDown(ri);
      if (this.startFailoverIfNeeded(ri)) this.askOthers(ri, true);
      this.failoverStateMachine(ri);
      this.askOthers(ri, false);
    }
  }

  private authArgs(ri: Instance): string[] | null {
    if (ri.kind === "sentinel") {
      if (!this.sentinelPass) return null;
      return this.sentinelUser ? ["AUTH", this.sentinelUser, this.sentinelPass] : ["AUTH", this.sentinelPass];
    }
    const m = ri.master ?? ri;
    if (!m.authPass) return null;
    return m.authUser ? ["AUTH", m.authUser, m.authPass] : ["AUTH", m.authPass];
  }

  private reconnect(ri: Instance): void {
    const now = this.now;
    const auth = this.authArgs(ri);
    const name = `sentinel-${this.myid.slice(0, 8)}`;
    const down = (why: string) => this.engine.log("debug", `-link-reconnection ${ri.kind} ${ri.name}: ${why}`);
    const cmd = (n: string) => this.renamed(ri, n);
    if (ri.link.disconnected && !ri.link.connecting && now - ri.link.lastTry > PING_PERIOD) {
      ri.link.lastTry = now;
      ri.link.connect(ri.ip, ri.port, () => {
        if (auth) ri.link.send([cmd(auth[0]), ...auth.slice(1)]);
        ri.link.send([cmd("CLIENT"), "SETNAME", `${name}-cmd`]);
        this.sendPing(ri);
      }, down);
    }
    const pc = ri.pc;
    if (pc && pc.disconnected && !pc.connecting && now - pc.lastTry > PING_PERIOD) {
      pc.lastTry = now;
      pc.connect(ri.ip, ri.port, () => {
        ri.pcLastActivity = this.now;
        if (auth) pc.send([cmd(auth[0]), ...auth.slice(1)]);
        pc.send([cmd("CLIENT"), "SETNAME", `${name}-pubsub`]);
        pc.send([cmd("SUBSCRIBE"), HELLO_CHANNEL]);
      }, down);
    }
  }

  /** A command's name as the instance knows it (`sentinel rename-command`). */
  private renamed(ri: Instance, name: string): string {
    return (ri.master ?? ri).renamed.get(name.toLowerCase()) ?? name;
  }

  private sendPing(ri: Instance): void {
    const sent = ri.link.send([this.renamed(ri, "PING")], (reply) => {
      ri.lastPongTime = this.now;
      const s = typeof reply === "string" ? reply : reply instanceof ReplyError ? reply.message : "";
      if (s === "PONG" || s.startsWith("LOADING") || s.startsWith("MASTERDOWN")) {
        ri.lastAvailTime = this.now;
        ri.actPingTime = 0;
        if (s === "PONG") ri.flags.masterReboot = false;
      } else if (s.startsWith("BUSY") && !ri.flags.scriptKillSent) {
        ri.flags.scriptKillSent = true;
        ri.link.send([this.renamed(ri, "SCRIPT"), "KILL"]);
      }
    });
    if (sent) {
      ri.lastPingTime = this.now;
      if (ri.actPingTime === 0) ri.actPingTime = ri.lastPingTime;
    }
  }

  private sendPeriodicCommands(ri: Instance): void {
    if (ri.link.disconnected) return;
    if (ri.link.pendingCommands >= MAX_PENDING_COMMANDS) return;
    const now = this.now;
    const m = ri.master;
    const infoPeriod =
      ri.kind === "slave" && m && (m.flags.odown || m.flags.failoverInProgress || ri.masterLinkDownTime !== 0)
        ? 1000
        : INFO_PERIOD;
    const pingPeriod = Math.min(ri.downAfter, PING_PERIOD);
    // One INFO at a time per connection (a reply lost with its connection does not block the next one's).
    if (
      ri.kind !== "sentinel" && (ri.infoRefresh === 0 || now - ri.infoRefresh > infoPeriod) &&
      ri.infoPendingOn !== ri.link.conn
    ) {
      ri.infoPendingOn = ri.link.conn;
      ri.link.send([this.renamed(ri, "INFO")], (reply) => {
        ri.infoPendingOn = null;
        const t = text(reply);
        if (t !== null) this.refreshInfo(ri, t);
      });
    }
    if (now - ri.lastPongTime > pingPeriod && now - ri.lastPingTime > pingPeriod / 2) this.sendPing(ri);
    if (now - ri.lastPubTime > PUBLISH_PERIOD) this.sendHello(ri);
  }

  private sendHello(ri: Instance): void {
    const m = ri.kind === "master" ? ri : ri.master!;
    const [mip, mport] = this.currentAddr(m);
    const ip = this.announceIp || ri.link.localIp;
    if (!ip) return;
    const port = this.announcePort || this.engine.config.num("port");
    const payload = `${ip},${port},${this.myid},${this.currentEpoch},${m.name},${mip},${mport},${m.configEpoch}`;
    if (ri.link.send([this.renamed(ri, "PUBLISH"), HELLO_CHANNEL, payload])) ri.lastPubTime = this.now;
  }

  private forceHelloUpdate(m: Instance): void {
    const t = this.now - PUBLISH_PERIOD - 1;
    m.lastPubTime = t;
    for (const r of m.replicas.values()) r.lastPubTime = t;
    for (const s of m.sentinels.values()) s.lastPubTime = t;
  }

  private onPubsub(ri: Instance, msg: RespValue): void {
    ri.pcLastActivity = this.now;
    if (!Array.isArray(msg) || msg.length !== 3) return;
    if (text(msg[0]) !== "message" || text(msg[1]) !== HELLO_CHANNEL) return;
    const payload = text(msg[2]);
    if (payload !== null) this.processHello(payload);
  }

  /** A hello from another Sentinel, through a server's channel or a PUBLISH to us (Redis's sentinelProcessHelloMessage). */
  processHello(hello: string): void {
    const t = hello.split(",");
    if (t.length !== 8) return;
    const [ip, portS, runid, epochS, name, mip, mportS, mepochS] = t;
    if (runid === this.myid) return;
    const m = this.masters.get(name);
    if (!m) return;
    const port = Number(portS);
    const epoch = Number(epochS);
    const mport = Number(mportS);
    const mepoch = Number(mepochS);
    let si: Instance | undefined;
    for (const s of m.sentinels.values()) if (s.runid === runid && s.ip === ip && s.port === port) si = s;
    if (!si) {
      // Forget a Sentinel that had this id at another address, or another id at this address.
      let removed = 0;
      for (const mm of this.masters.values()) {
        for (const [k, s] of mm.sentinels) {
          if (s.runid === runid || (s.ip === ip && s.port === port)) {
            s.closeLinks();
            mm.sentinels.delete(k);
            if (mm === m) removed++;
          }
        }
      }
      if (removed) this.event("notice", "+sentinel-address-switch", m, `%@ ip ${ip} port ${port} for ${runid}`);
      si = this.createInstance("sentinel", runid, ip, port, m);
      si.runid = runid;
      m.sentinels.set(runid, si);
      this.event("notice", "+sentinel", si, "%@");
      this.flushConfig();
    }
    if (epoch > this.currentEpoch) {
      this.currentEpoch = epoch;
      this.flushConfig();
      this.event("warning", "+new-epoch", m, `${this.currentEpoch}`);
    }
    if (m.configEpoch < mepoch) {
      m.configEpoch = mepoch;
      if (mport !== m.port || mip !== m.ip) {
        const [oip, oport] = [m.ip, m.port];
        this.event("warning", "+config-update-from", si, "%@");
        this.event("warning", "+switch-master", m, `${m.name} ${oip} ${oport} ${mip} ${mport}`);
        this.resetMasterAndChangeAddress(m, mip, mport);
        this.reconfigScript(m, "observer", [oip, oport], [mip, mport]);
      }
    }
    si.lastHelloTime = this.now;
  }

  /** Reads a server's INFO reply (Redis's sentinelRefreshInstanceInfo). */
  private refreshInfo(ri: Instance, info: string): void {
    const now = this.now;
    ri.info = info;
    let role: "master" | "slave" | null = null;
    let linkDown = 0;
    for (const raw of info.split("\r\n")) {
      const line = raw.trimEnd();
      if (line.startsWith("run_id:")) {
        const id = line.slice(7);
        if (ri.runid !== id) {
          if (ri.runid !== "") {
            this.event("verbose", "+reboot", ri, "%@");
            // master-reboot-down-after-period: a restarted master is down until it answers PONG again.
            if (ri.kind === "master" && ri.rebootDownAfter !== 0) {
              ri.flags.masterReboot = true;
              ri.masterRebootSince = now;
            }
          }
          ri.runid = id;
        }
      } else if (ri.kind === "master" && /^slave\d+:/.test(line)) {
        const fields = new Map(
          line.slice(line.indexOf(":") + 1).split(",").map((kv) => {
            const i = kv.indexOf("=");
            return [kv.slice(0, i), kv.slice(i + 1)] as [string, string];
          }),
        );
        const ip = fields.get("ip");
        const port = Number(fields.get("port"));
        if (ip && port) {
          const r = this.addReplica(ri, ip, port);
          if (r) {
            this.event("notice", "+slave", r, "%@");
            this.flushConfig();
          }
        }
      } else if (line.startsWith("master_link_down_since_seconds:")) {
        const secs = Number(line.slice(31));
        linkDown = secs > 0 ? secs * 1000 : 0;
      } else if (line === "role:master") role = "master";
      else if (line === "role:slave") role = "slave";
      else if (role === "slave" || ri.kind === "slave") {
        if (line.startsWith("master_host:")) {
          const h = line.slice(12);
          if (ri.slaveMasterHost !== h) {
            ri.slaveMasterHost = h;
            ri.slaveConfChangeTime = now;
          }
        } else if (line.startsWith("master_port:")) {
          const p = Number(line.slice(12));
          if (ri.slaveMasterPort !== p) {
            ri.slaveMasterPort = p;
            ri.slaveConfChangeTime = now;
          }
        } else if (line.startsWith("master_link_status:")) ri.slaveMasterLinkUp = line.slice(19) === "up";
        else if (line.startsWith("slave_priority:")) ri.slavePriority = Number(line.slice(15));
        else if (line.startsWith("slave_repl_offset:")) ri.slaveReplOffset = Number(line.slice(18));
        else if (line.startsWith("replica_announced:")) ri.replicaAnnounced = line.slice(18) !== "0";
      }
    }
    ri.masterLinkDownTime = linkDown;
    ri.infoRefresh = now;
    if (role === null) return;
    if (role !== ri.roleReported) {
      ri.roleReportedTime = now;
      ri.roleReported = role;
      if (role === "slave") ri.slaveConfChangeTime = now;
      this.event(
        "verbose",
        (ri.kind === role) ? "+role-change" : "-role-change",
        ri,
        `%@ new reported role is ${role}`,
      );
    }
    if (this.tilt) return;
    const m = ri.master;
    if (ri.kind === "slave" && m && role === "master") {
      if (ri.flags.promoted && m.flags.failoverInProgress && m.failoverState === "wait_promotion") {
        m.configEpoch = m.failoverEpoch;
        this.setFailoverState(m, "reconf_slaves");
        this.flushConfig();
        this.event("warning", "+promoted-slave", ri, "%@");
        this.event("warning", "+failover-state-reconf-slaves", m, "%@");
        this.reconfigScript(m, "leader", [m.ip, m.port], [ri.ip, ri.port]);
        this.forceHelloUpdate(m);
      } else {
        const wait = PUBLISH_PERIOD * 4;
        if (!ri.flags.promoted && this.looksSane(m) && this.noDownFor(ri, wait) && now - ri.roleReportedTime > wait) {
          if (this.sendSlaveOf(ri, m.ip, m.port)) this.event("notice", "+convert-to-slave", ri, "%@");
        }
      }
    }
    if (
      ri.kind === "slave" && m && role === "slave" && (ri.slaveMasterPort !== m.port || ri.slaveMasterHost !== m.ip)
    ) {
      const wait = m.failoverTimeout;
      if (this.looksSane(m) && this.noDownFor(ri, wait) && now - ri.slaveConfChangeTime > wait) {
        if (this.sendSlaveOf(ri, m.ip, m.port)) this.event("notice", "+fix-slave-config", ri, "%@");
      }
    }
    if (ri.kind === "slave" && m && role === "slave" && (ri.flags.reconfSent || ri.flags.reconfInprog) && m.promoted) {
      if (ri.flags.reconfSent && ri.slaveMasterHost === m.promoted.ip && ri.slaveMasterPort === m.promoted.port) {
        ri.flags.reconfSent = false;
        ri.flags.reconfInprog = true;
        this.event("notice", "+slave-reconf-inprog", ri, "%@");
      }
      if (ri.flags.reconfInprog && ri.slaveMasterLinkUp) {
        ri.flags.reconfInprog = false;
        ri.flags.reconfDone = true;
        this.event("notice", "+slave-reconf-done", ri, "%@");
      }
    }
  }

  private looksSane(m: Instance): boolean {
    return m.roleReported === "master" && !m.flags.sdown && !m.flags.odown &&
      this.now - m.infoRefresh < INFO_PERIOD * 2;
  }

  private noDownFor(ri: Instance, ms: number): boolean {
    const when = Math.max(ri.sDownSince, ri.oDownSince);
    return when === 0 || this.now - when >= ms;
  }

  /** REPLICAOF as redis-sentinel sends it: in a transaction with CONFIG REWRITE and the clients disconnected. */
  sendSlaveOf(ri: Instance, host: string | null, port = 0): boolean {
    if (ri.link.disconnected) return false;
    const cmd = (name: string) => this.renamed(ri, name);
    const target = host === null ? ["NO", "ONE"] : [host, String(port)];
    ri.link.send([cmd("MULTI")]);
    ri.link.send([cmd("SLAVEOF"), ...target]);
    ri.link.send([cmd("CONFIG"), "REWRITE"]);
    ri.link.send([cmd("CLIENT"), "KILL", "TYPE", "normal"]);
    ri.link.send([cmd("CLIENT"), "KILL", "TYPE", "pubsub"]);
    ri.link.send([cmd("EXEC")]);
    return true;
  }

  // ---- down detection ----

  private checkSubjectivelyDown(ri: Instance): void {
    const now = this.now;
    let elapsed = 0;
    if (ri.actPingTime) elapsed = now - ri.actPingTime;
    else if (ri.link.disconnected) elapsed = now - ri.lastAvailTime;
    // A link that stopped answering is closed and made again (it may be the link, not the server).
    if (
      !ri.link.disconnected && now - ri.link.connTime > MIN_LINK_RECONNECT_PERIOD && ri.actPingTime !== 0 &&
      now - ri.actPingTime > ri.downAfter / 2 && now - ri.lastPongTime > ri.downAfter / 2
    ) ri.link.close();
    if (
      ri.pc && !ri.pc.disconnected && now - ri.pc.connTime > MIN_LINK_RECONNECT_PERIOD &&
      now - ri.pcLastActivity > PUBLISH_PERIOD * 3
    ) {
      ri.pc.close();
    }
    const down = elapsed > ri.downAfter ||
      (ri.kind === "master" && ri.roleReported === "slave" &&
        now - ri.roleReportedTime > ri.downAfter + INFO_PERIOD * 2) ||
      (ri.flags.masterReboot && now - ri.masterRebootSince > ri.rebootDownAfter);
    if (down) {
      if (!ri.flags.sdown) {
        this.event("warning", "+sdown", ri, "%@");
        ri.sDownSince = now;
        ri.flags.sdown = true;
      }
    } else if (ri.flags.sdown) {
      this.event("warning", "-sdown", ri, "%@");
      // sDownSince stays: an instance that was down lately is not reconfigured at once (noDownFor).
      ri.flags.sdown = false;
      ri.flags.scriptKillSent = false;
    }
  }

  private checkObjectivelyDown(m: Instance): void {
    let quorum = 0;
    let odown = false;
    if (m.flags.sdown) {
      quorum = 1;
      for (const s of m.sentinels.values()) if (s.flags.masterDown) quorum++;
      odown = quorum >= m.quorum;
    }
    if (odown) {
      if (!m.flags.odown) {
        this.event("warning", "+odown", m, `%@ #quorum ${quorum}/${m.quorum}`);
        m.flags.odown = true;
        m.oDownSince = this.now;
      }
    } else if (m.flags.odown) {
      this.event("warning", "-odown", m, "%@");
      m.flags.odown = false;
    }
  }

  private askOthers(m: Instance, forced: boolean): void {
    const now = this.now;
    for (const s of m.sentinels.values()) {
      if (now - s.lastMasterDownReplyTime > ASK_PERIOD * 5) {
        s.flags.masterDown = false;
        s.leader = "";
      }
      if (!m.flags.sdown) continue;
      if (s.link.disconnected) continue;
      if (!forced && now - s.lastMasterDownReplyTime < ASK_PERIOD) continue;
      const cmd = this.renamed(s, "SENTINEL");
      const runid = m.failoverState !== "none" ? this.myid : "*";
      s.link.send([cmd, "is-master-down-by-addr", m.ip, String(m.port), String(this.currentEpoch), runid], (r) => {
        if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== "number" || typeof r[2] !== "number") return;
        const leader = text(r[1]);
        if (leader === null) return;
        s.lastMasterDownReplyTime = this.now;
        s.flags.masterDown = r[0] === 1;
        if (leader !== "*") {
          if (s.leaderEpoch !== r[2]) this.engine.log("warning", `${s.name} voted for ${leader} ${r[2]}`);
          s.leader = leader;
          s.leaderEpoch = r[2];
        }
      });
    }
  }

  /** Records (or repeats) this Sentinel's vote for the epoch (Redis's sentinelVoteLeader). */
  voteLeader(m: Instance, reqEpoch: number, reqRunid: string): [string, number] {
    if (reqEpoch > this.currentEpoch) {
      this.currentEpoch = reqEpoch;
      this.flushConfig();
      this.event("warning", "+new-epoch", m, `${this.currentEpoch}`);
    }
    if (m.leaderEpoch < reqEpoch && this.currentEpoch <= reqEpoch) {
      m.leader = reqRunid;
      m.leaderEpoch = this.currentEpoch;
      this.flushConfig();
      this.event("warning", "+vote-for-leader", m, `${m.leader} ${m.leaderEpoch}`);
      // Having voted for another, do not start a failover of our own for a while.
      if (m.leader !== this.myid) m.failoverStartTime = this.now + Math.floor(Math.random() * MAX_DESYNC);
    }
    return [m.leader, m.leaderEpoch];
  }

  private getLeader(m: Instance, epoch: number): string {
    const counts = new Map<string, number>();
    const voters = m.sentinels.size + 1;
    for (const s of m.sentinels.values()) {
      if (s.leader !== "" && s.leaderEpoch === this.currentEpoch) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
    }
    let winner = "";
    let max = 0;
    for (const [id, n] of counts) {
      if (n > max) [winner, max] = [id, n];
    }
    const [myVote, myEpoch] = this.voteLeader(m, epoch, winner || this.myid);
    if (myVote && myEpoch === epoch) {
      const n = (counts.get(myVote) ?? 0) + 1;
      counts.set(myVote, n);
      if (n > max) [winner, max] = [myVote, n];
    }
    if (winner && (max < Math.floor(voters / 2) + 1 || max < m.quorum)) winner = "";
    return winner;
  }

  // ---- failover ----

  private setFailoverState(m: Instance, s: FailoverState): void {
    m.failoverState = s;
    m.failoverStateChangeTime = this.now;
  }

  startFailover(m: Instance): void {
    this.setFailoverState(m, "wait_start");
    m.flags.failoverInProgress = true;
    m.failoverEpoch = ++this.currentEpoch;
    this.event("warning", "+new-epoch", m, `${this.currentEpoch}`);
    this.event("warning", "+try-failover", m, "%@");
    m.failoverStartTime = this.now + Math.floor(Math.random() * MAX_DESYNC);
  }

  private startFailoverIfNeeded(m: Instance): boolean {
    if (!m.flags.odown || m.flags.failoverInProgress) return false;
    if (this.now - m.failoverStartTime < m.failoverTimeout * 2) {
      if (m.failoverDelayLogged !== m.failoverStartTime) {
        m.failoverDelayLogged = m.failoverStartTime;
        const at = new Date(m.failoverStartTime + m.failoverTimeout * 2).toTimeString().slice(0, 8);
        this.engine.log("warning", `Next failover delay: I will not start a failover before ${at}`);
      }
      return false;
    }
    this.startFailover(m);
    return true;
  }

  abortFailover(m: Instance): void {
    m.flags.failoverInProgress = false;
    m.flags.forceFailover = false;
    this.setFailoverState(m, "none");
    if (m.promoted) {
      m.promoted.flags.promoted = false;
      m.promoted = null;
    }
  }

  /** The replica to promote: healthy, recently heard from, lowest priority, most data, smallest run id. */
  selectReplica(m: Instance): Instance | null {
    const now = this.now;
    let maxDown = 0;
    if (m.flags.sdown) maxDown += now - m.sDownSince;
    maxDown += m.downAfter * 10;
    const ok: Instance[] = [];
    for (const r of m.replicas.values()) {
      if (r.flags.sdown || r.flags.odown || r.link.disconnected) continue;
      if (now - r.lastAvailTime > PING_PERIOD * 5) continue;
      if (r.slavePriority === 0) continue;
      const validity = m.flags.sdown ? PING_PERIOD * 5 : INFO_PERIOD * 3;
      if (now - r.infoRefresh > validity) continue;
      if (r.masterLinkDownTime > maxDown) continue;
      ok.push(r);
    }
    ok.sort((a, b) => {
      if (a.slavePriority !== b.slavePriority) return a.slavePriority - b.slavePriority;
      if (a.slaveReplOffset !== b.slaveReplOffset) return b.slaveReplOffset - a.slaveReplOffset;
      if (a.runid === "" || b.runid === "") return a.runid === "" ? (b.runid === "" ? 0 : 1) : -1;
      const [x, y] = [a.runid.toLowerCase(), b.runid.toLowerCase()];
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return ok[0] ?? null;
  }

  private failoverStateMachine(m: Instance): void {
    if (!m.flags.failoverInProgress) return;
    const now = this.now;
    switch (m.failoverState) {
      case "wait_start": {
        const leader = this.getLeader(m, m.failoverEpoch);
        if (leader !== this.myid && !m.flags.forceFailover) {
          if (now - m.failoverStartTime > Math.min(ELECTION_TIMEOUT, m.failoverTimeout)) {
            this.event("warning", "-failover-abort-not-elected", m, "%@");
            this.abortFailover(m);
          }
          return;
        }
        this.event("warning", "+elected-leader", m, "%@");
        this.event("warning", "+failover-state-select-slave", m, "%@");
        this.setFailoverState(m, "select_slave");
        return;
      }
      case "select_slave": {
        const r = this.selectReplica(m);
        if (!r) {
          this.event("warning", "-failover-abort-no-good-slave", m, "%@");
          this.abortFailover(m);
          return;
        }
        this.event("warning", "+selected-slave", r, "%@");
        r.flags.promoted = true;
        m.promoted = r;
        this.setFailoverState(m, "send_slaveof_noone");
        this.event("notice", "+failover-state-send-slaveof-noone", r, "%@");
        return;
      }
      case "send_slaveof_noone": {
        const r = m.promoted!;
        if (r.link.disconnected) {
          if (now - m.failoverStateChangeTime > m.failoverTimeout) {
            this.event("warning", "-failover-abort-slave-timeout", m, "%@");
            this.abortFailover(m);
          }
          return;
        }
        if (!this.sendSlaveOf(r, null)) return;
        this.event("notice", "+failover-state-wait-promotion", r, "%@");
        this.setFailoverState(m, "wait_promotion");
        return;
      }
      case "wait_promotion":
        if (now - m.failoverStateChangeTime > m.failoverTimeout) {
          this.event("warning", "-failover-abort-slave-timeout", m, "%@");
          this.abortFailover(m);
        }
        return;
      case "reconf_slaves":
        this.reconfNextReplica(m);
        return;
      default:
        return;
    }
  }

  private reconfNextReplica(m: Instance): void {
    const promoted = m.promoted!;
    let inProgress = 0;
    for (const r of m.replicas.values()) if (r.flags.reconfSent || r.flags.reconfInprog) inProgress++;
    for (const r of m.replicas.values()) {
      if (inProgress >= m.parallelSyncs) break;
      if (r.flags.promoted || r.flags.reconfDone) continue;
      if (r.flags.reconfSent && this.now - r.slaveReconfSentTime > SLAVE_RECONF_TIMEOUT) {
        this.event("notice", "-slave-reconf-sent-timeout", r, "%@");
        r.flags.reconfSent = false;
        r.flags.reconfDone = true;
      }
      if (r.flags.reconfSent || r.flags.reconfInprog || r.flags.reconfDone) continue;
      if (r.link.disconnected) continue;
      if (this.sendSlaveOf(r, promoted.ip, promoted.port)) {
        r.flags.reconfSent = true;
        r.slaveReconfSentTime = this.now;
        this.event("notice", "+slave-reconf-sent", r, "%@");
        inProgress++;
      }
    }
    this.detectEnd(m);
  }

  private detectEnd(m: Instance): void {
    const promoted = m.promoted;
    if (!promoted || promoted.flags.sdown) return;
    let pending = 0;
    for (const r of m.replicas.values()) {
      if (r.flags.promoted || r.flags.reconfDone || r.flags.sdown) continue;
      pending++;
    }
    let timeout = false;
    if (this.now - m.failoverStateChangeTime > m.failoverTimeout) {
      pending = 0;
      timeout = true;
      this.event("warning", "+failover-end-for-timeout", m, "%@");
    }
    if (pending === 0) {
      this.event("warning", "+failover-end", m, "%@");
      this.setFailoverState(m, "update_config");
    }
    if (timeout) {
      for (const r of m.replicas.values()) {
        if (r.flags.promoted || r.flags.reconfDone || r.flags.reconfSent || r.link.disconnected) continue;
        if (this.sendSlaveOf(r, promoted.ip, promoted.port)) {
          this.event("notice", "+slave-reconf-sent-be", r, "%@");
          r.flags.reconfSent = true;
        }
      }
    }
  }

  private switchToPromoted(m: Instance): void {
    const ref = m.promoted ?? m;
    this.event("warning", "+switch-master", m, `${m.name} ${m.ip} ${m.port} ${ref.ip} ${ref.port}`);
    this.resetMasterAndChangeAddress(m, ref.ip, ref.port);
  }

  // ---- quorum ----

  /** [usable Sentinels, quorum reachable, majority reachable] (Redis's sentinelIsQuorumReachable). */
  quorumReachable(m: Instance): [number, boolean, boolean] {
    let usable = 1;
    const voters = m.sentinels.size + 1;
    for (const s of m.sentinels.values()) if (!s.flags.sdown && !s.flags.odown) usable++;
    return [usable, usable >= m.quorum, usable >= Math.floor(voters / 2) + 1];
  }
}

function stateIndex(s: FailoverState): number {
  return FAILOVER_STATES.indexOf(s);
}

export function isIp(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) return s.split(".").every((p) => Number(p) <= 255);
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s);
}

