/**
 * Sentinel's user scripts (notification-script, client-reconfig-script) as
 * redis-sentinel runs them: a queue of at most 256 jobs, at most 16 running
 * at once, each killed after 60 s; a script that exits with 1 or dies by a
 * signal is retried up to 10 times, 30 s after its first try and twice as
 * long after each further one; any other exit code ends the job. What runs
 * and waits is what SENTINEL PENDING-SCRIPTS and INFO show.
 */
import type { ChildProcessHandle, HostInfo } from "../io.ts";

const MAX_RUNNING = 16;
const MAX_QUEUE = 256;
const MAX_RETRY = 10;
const MAX_RUNTIME = 60_000;
const RETRY_DELAY = 30_000;

export interface ScriptJob {
  /** The script's path, then its arguments. */
  readonly argv: string[];
  running: boolean;
  /** How many times it was started. */
  retryNum: number;
  /** When it started (running) or may start next (0: at once). */
  startTime: number;
  child: ChildProcessHandle | null;
}

export class ScriptQueue {
  readonly jobs: ScriptJob[] = [];
  running = 0;

  constructor(
    private readonly host: HostInfo,
    private readonly now: () => number,
    /** Reports -script-error and -script-timeout as Sentinel events. */
    private readonly event: (type: string, msg: string) => void,
  ) {}

  schedule(path: string, ...args: string[]): void {
    this.jobs.push({ argv: [path, ...args], running: false, retryNum: 0, startTime: 0, child: null });
    if (this.jobs.length > MAX_QUEUE) {
      const oldest = this.jobs.findIndex((j) => !j.running);
      if (oldest >= 0) this.jobs.splice(oldest, 1);
    }
  }

  /** Each timer tick: start what may start, kill what ran too long. */
  tick(): void {
    const now = this.now();
    for (const job of this.jobs) {
      if (this.running >= MAX_RUNNING) break;
      if (job.running || job.startTime > now) continue;
      this.start(job, now);
    }
    for (const job of this.jobs) {
      if (job.running && now - job.startTime > MAX_RUNTIME) {
        this.event("-script-timeout", `${job.argv[0]} ${job.child!.pid}`);
        job.child!.kill();
      }
    }
  }

  private start(job: ScriptJob, now: number): void {
    job.running = true;
    job.startTime = now;
    job.retryNum++;
    this.running++;
    let child: ChildProcessHandle;
    try {
      child = this.host.spawn(job.argv[0], job.argv.slice(1));
    } catch {
      return this.finished(job, 2, false);
    }
    job.child = child;
    child.onExit((code, bySignal) => this.finished(job, code, bySignal));
  }

  private finished(job: ScriptJob, code: number, bySignal: boolean): void {
    this.running--;
    job.running = false;
    job.child = null;
    if (bySignal || code !== 0) this.event("-script-error", `${job.argv[0]} ${bySignal ? 1 : 0} ${code}`);
    if ((bySignal || code === 1) && job.retryNum !== MAX_RETRY) {
      job.startTime = this.now() + RETRY_DELAY * 2 ** (job.retryNum - 1);
    } else {
      this.jobs.splice(this.jobs.indexOf(job), 1);
    }
  }
}
