/**
 * HeapRelease's schedule on its own, with a release that records its calls:
 * tries start 2 s after a burst, repeat every 500 ms until the host says it
 * is done, stop at 60, and a trickle of commands neither starts nor delays them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HeapRelease } from "../../core/server/heap-release.ts";

describe("heap release schedule", () => {
  it("tries from 2 s after the last burst, every 500 ms, until the host is done", () => {
    const calls: number[] = [];
    let now = 0;
    const h = new HeapRelease(() => (calls.push(now), calls.length === 4));
    const load = (t: number) => Math.min(t, 3000) * 10; // 10 commands a ms until 3 s, then nothing
    for (now = 0; now <= 20_000; now += 100) h.tick(now, load(now));
    assert.deepEqual(calls, [5000, 5500, 6000, 6500]);
  });

  it("loading a dataset (no commands) counts as a burst", () => {
    const calls: number[] = [];
    let now = 0;
    const h = new HeapRelease(() => (calls.push(now), true));
    for (now = 0; now <= 1000; now += 100) h.busy(now);
    for (; now <= 10_000; now += 100) h.tick(now, 3);
    assert.deepEqual(calls, [3000]);
  });

  it("a trickle of commands is quiet; a new burst starts the count again; 60 tries at most", () => {
    const calls: number[] = [];
    let now = 0;
    const h = new HeapRelease(() => (calls.push(now), false));
    let commands = 0;
    for (now = 0; now <= 60_000; now += 100) {
      if (now <= 1000) commands += 5000; // a burst until 1 s
      else if (now % 1000 === 0) commands += 5; // then a PING or five a second
      if (now === 10_000) commands += 2000; // and one more burst at 10 s
      h.tick(now, commands);
    }
    assert.equal(calls[0], 3000);
    assert.ok(calls.includes(9500) && !calls.includes(10_000) && !calls.includes(11_500) && calls.includes(12_000));
    assert.equal(calls.filter((t) => t >= 12_000).length, 60);
  });
});
