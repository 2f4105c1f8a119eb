/**
 * The access clock's arithmetic on its own, with a clock that moves at
 * will (the integration tests cannot wait minutes): Redis's LRU idle time
 * across the 24-bit wrap, the LFU counter's decay by lfu-decay-time and
 * its logarithmic increment, and the fields RDB IDLE/FREQ and RESTORE
 * IDLETIME/FREQ give a key.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AccessClock, LFU_INIT, LRU_CLOCK_MAX } from "../../core/db/access.ts";

const MINUTE = 60_000;

describe("AccessClock", () => {
  it("LRU: a key's idle time is the clock's distance from its field, across the wrap", () => {
    const clock = new AccessClock();
    clock.tick(1_000_000_000);
    const field = clock.fresh();
    clock.tick(1_000_000_000 + 7_500);
    assert.equal(clock.idleMs(field), 7_000);
    assert.equal(clock.accessed(field), clock.lruClock);
    // The seconds clock wraps at 2^24: a field just before the wrap is a few seconds old just after it.
    clock.tick((LRU_CLOCK_MAX + 3) * 1000);
    assert.equal(clock.lruClock, 2);
    assert.equal(clock.idleMs(LRU_CLOCK_MAX - 1), 3_000);
  });

  it("LRU: IDLETIME gives the field that many seconds back, half-way round when that is before the clock's start", () => {
    const clock = new AccessClock();
    clock.tick(5_000_000);
    assert.equal(clock.idleMs(clock.restored(1000, -1)!), 1_000_000);
    assert.equal(clock.restored(-1, 50), null);
    assert.equal(clock.restored(10_000, -1), (clock.lruClock + Math.floor(LRU_CLOCK_MAX / 2)) % LRU_CLOCK_MAX);
  });

  it("LFU: new keys start at 5; at lfu-log-factor 0 every access counts, up to 255", () => {
    const clock = new AccessClock();
    clock.setPolicy("allkeys-lfu");
    clock.logFactor = 0;
    clock.tick(10 * MINUTE);
    let field = clock.fresh();
    assert.equal(clock.freq(field), LFU_INIT);
    for (let i = 0; i < 300; i++) field = clock.accessed(field);
    assert.equal(clock.freq(field), 255);
  });

  it("LFU: at the default factor the counter grows logarithmically", () => {
    const clock = new AccessClock();
    clock.setPolicy("volatile-lfu");
    clock.tick(10 * MINUTE);
    // redis.conf's table: 1000 hits at factor 10 reach about 18 (a mean over 50 keys, the counter being random).
    let sum = 0;
    for (let key = 0; key < 50; key++) {
      let field = clock.fresh();
      for (let i = 0; i < 1000; i++) field = clock.accessed(field);
      sum += clock.freq(field);
    }
    assert.ok(sum / 50 >= 16 && sum / 50 <= 22, `mean counter ${sum / 50}`);
  });

  it("LFU: the counter decays by one per lfu-decay-time minutes without access, and not at all with 0", () => {
    const clock = new AccessClock();
    clock.setPolicy("allkeys-lfu");
    clock.logFactor = 0;
    clock.tick(100 * MINUTE);
    let field = clock.fresh();
    for (let i = 0; i < 20; i++) field = clock.accessed(field);
    assert.equal(clock.freq(field), 25);
    clock.tick(107 * MINUTE);
    assert.equal(clock.freq(field), 18);
    clock.decayTime = 3;
    assert.equal(clock.freq(field), 23);
    clock.decayTime = 0;
    assert.equal(clock.freq(field), 25);
    clock.decayTime = 1;
    clock.tick(200 * MINUTE);
    assert.equal(clock.freq(field), 0);
    // An access stores the decayed counter (plus its increment) with the current minutes.
    assert.equal(clock.freq(clock.accessed(field)), 1);
    assert.equal(clock.restored(-1, 77)! & 255, 77);
    assert.equal(clock.restored(1000, -1), null);
  });
});
