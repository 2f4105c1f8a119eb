/**
 * The ordered index behind large sorted sets (what Redis keeps in a
 * skiplist): (score, member) pairs in sorted leaves of at most LEAF_MAX,
 * each leaf keeping its scores and its members' first 12 bytes as numbers
 * in one Float64Array, beside a flat directory of every leaf's first entry.
 * A lookup is a binary search of the directory and one of a leaf, over
 * contiguous numbers; a skiplist's ~30 dependent node loads per insert
 * (a cache miss each once the set outgrows the caches) cost 3-4 us at 300k
 * members, most of what redis-benchmark's GEOADD took. Ranks come from a
 * Fenwick tree over leaf sizes, rebuilt when a leaf splits, merges or goes.
 *
 * Members compare as binary strings, which for one-byte JS strings is
 * memcmp order (shorter first on a tie); scores compare as numbers, -0
 * equal to 0 as in Redis. A visit must not change the index it walks.
 */

const LEAF_MAX = 128;
/** Numbers per entry in a leaf's keys and per leaf in the directory: score, then the member's two prefix keys. */
const STRIDE = 3;
/** A prefix key's digits: one per member byte (byte + 1), 0 past the end, 257 for a char above 255. */
const BASE = 258;
const KEY_DIGITS = 6;

class Leaf {
  n = 0;
  /** score, key1, key2 of entry i at i * STRIDE. */
  readonly keys = new Float64Array(LEAF_MAX * STRIDE);
  readonly members: string[] = [];
}

/**
 * m's bytes from `at` as base-258 digits, so keys order as the bytes do. A
 * char above 255 (not a binary string's) ends the digits after its own:
 * what follows it is left to the string comparison.
 */
function prefixKey(m: string, at: number): number {
  let k = 0;
  let ended = false;
  for (let i = at; i < at + KEY_DIGITS; i++) {
    let d = 0;
    if (!ended && i < m.length) {
      const c = m.charCodeAt(i);
      d = c > 255 ? 257 : c + 1;
      ended = c > 255;
    }
    k = k * BASE + d;
  }
  return k;
}

/** True when m has a char above 255 before `end`: its digits after that char are 0. */
function hasWideChar(m: string, end: number): boolean {
  for (let i = 0; i < end && i < m.length; i++) if (m.charCodeAt(i) > 255) return true;
  return false;
}

/** The pair being looked for (module scope, so a search allocates nothing). */
let tScore = 0;
let tKey1 = 0;
let tKey2 = 0;
let tMember = "";

function setTarget(score: number, member: string): void {
  tScore = score;
  tMember = member;
  tKey1 = prefixKey(member, 0);
  // Digits past a wide char are 0 (see prefixKey), so the second key is too.
  tKey2 = hasWideChar(member, KEY_DIGITS) ? 0 : prefixKey(member, KEY_DIGITS);
}

/**
 * Sign of the numbers at i (a score and a member's prefix keys) against the
 * target's; 0 leaves the order to the members themselves (see compareMember),
 * which are only loaded then: most searches never touch a member string.
 */
function compareKeys(keys: Float64Array, i: number): number {
  const s = keys[i];
  if (s !== tScore) return s < tScore ? -1 : 1;
  const k1 = keys[i + 1];
  if (k1 !== tKey1) return k1 < tKey1 ? -1 : 1;
  const k2 = keys[i + 2];
  return k2 === tKey2 ? 0 : k2 < tKey2 ? -1 : 1;
}

function compareMember(member: string): number {
  return member === tMember ? 0 : member < tMember ? -1 : 1;
}

/** The first position in leaf whose entry is >= the target. */
function lowerBound(leaf: Leaf): number {
  let lo = 0;
  let hi = leaf.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(leaf.keys, mid * STRIDE);
    if (c < 0 || (c === 0 && compareMember(leaf.members[mid]) < 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first of the n entries of keys (a leaf's, or the directory's) whose score is >= score. */
function firstScoreFrom(keys: Float64Array, n: number, score: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid * STRIDE] < score) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ZsetIndex {
  length = 0;
  private leaves: Leaf[] = [];
  /** Leaf j's first entry (score, key1, key2) at j * STRIDE. */
  private heads = new Float64Array(16 * STRIDE);
  /** Fenwick tree over leaf sizes (1-based), valid while `fenwickValid`. */
  private fenwick = new Int32Array(17);
  private fenwickValid = false;

  /** Inserts a (score, member) pair not already present. */
  insert(score: number, member: string): void {
    setTarget(score, member);
    if (this.leaves.length === 0) this.addLeaf(0, new Leaf());
    let j = this.leafFor();
    let leaf = this.leaves[j];
    let p = lowerBound(leaf);
    if (leaf.n === LEAF_MAX) {
      // Sorted input (RDB loading, ZUNIONSTORE's result) goes past an end: a fresh leaf there keeps leaves full.
      if (p === LEAF_MAX && j === this.leaves.length - 1) {
        this.addLeaf(++j, leaf = new Leaf());
        p = 0;
      } else if (p === 0 && j === 0) {
        this.addLeaf(0, leaf = new Leaf());
      } else {
        const upper = this.split(j);
        if (p > LEAF_MAX / 2) {
          leaf = upper;
          j++;
          p -= LEAF_MAX / 2;
        }
      }
    }
    const k = leaf.keys;
    k.copyWithin((p + 1) * STRIDE, p * STRIDE, leaf.n * STRIDE);
    k[p * STRIDE] = score;
    k[p * STRIDE + 1] = tKey1;
    k[p * STRIDE + 2] = tKey2;
    const ms = leaf.members;
    ms.push(member);
    for (let i = leaf.n; i > p; i--) ms[i] = ms[i - 1];
    ms[p] = member;
    leaf.n++;
    if (p === 0) this.setHead(j);
    this.length++;
    if (this.fenwickValid) this.fenwickAdd(j, 1);
  }

  /** Removes the pair if present. */
  delete(score: number, member: string): boolean {
    if (this.length === 0) return false;
    setTarget(score, member);
    const j = this.leafFor();
    const leaf = this.leaves[j];
    const p = lowerBound(leaf);
    if (p === leaf.n || leaf.keys[p * STRIDE] !== score || leaf.members[p] !== member) return false;
    this.removeAt(j, p);
    return true;
  }

  /** How many leading pairs satisfy `inPrefix`, which must hold for a prefix of the order and fail after it. */
  countWhile(inPrefix: (score: number, member: string) => boolean): number {
    // The first leaf whose first pair fails: the prefix ends in the leaf before it.
    let lo = 0;
    let hi = this.leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const leaf = this.leaves[mid];
      if (inPrefix(leaf.keys[0], leaf.members[0])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    const j = lo - 1;
    const leaf = this.leaves[j];
    let a = 1;
    let b = leaf.n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (inPrefix(leaf.keys[mid * STRIDE], leaf.members[mid])) a = mid + 1;
      else b = mid;
    }
    return this.before(j) + a;
  }

  /** 0-based rank of a pair known to be present. */
  rankOf(score: number, member: string): number {
    setTarget(score, member);
    const j = this.leafFor();
    return this.before(j) + lowerBound(this.leaves[j]);
  }

  /** Visits up to count pairs from 0-based rank start, going up, or down when rev. */
  visitRange(start: number, count: number, rev: boolean, visit: (member: string, score: number) => void): void {
    if (start < 0 || start >= this.length || count <= 0) return;
    const leaves = this.leaves;
    const last = leaves.length - 1;
    // The ends need no Fenwick tree (a walk from the first pair is what MEMORY USAGE's sampling does after each write).
    let j = start < leaves[0].n ? 0 : start >= this.length - leaves[last].n ? last : this.leafAt(start);
    let p = j === 0 ? start : j === last ? start - (this.length - leaves[last].n) : start - this.before(j);
    while (count > 0) {
      const leaf = leaves[j];
      if (rev) {
        for (; p >= 0 && count > 0; p--, count--) visit(leaf.members[p], leaf.keys[p * STRIDE]);
        if (--j < 0) return;
        p = leaves[j].n - 1;
      } else {
        for (; p < leaf.n && count > 0; p++, count--) visit(leaf.members[p], leaf.keys[p * STRIDE]);
        if (++j === leaves.length) return;
        p = 0;
      }
    }
  }

  /** Visits pairs with score >= min in ascending order until visit returns true. */
  visitFromScore(min: number, visit: (member: string, score: number) => boolean): void {
    const leaves = this.leaves;
    // The last leaf whose first score is below min holds the first pair at or above it, or ends just before it.
    const after = firstScoreFrom(this.heads, leaves.length, min);
    let j = after === 0 ? 0 : after - 1;
    if (j >= leaves.length) return;
    let p = firstScoreFrom(leaves[j].keys, leaves[j].n, min);
    for (; j < leaves.length; j++, p = 0) {
      const leaf = leaves[j];
      for (; p < leaf.n; p++) if (visit(leaf.members[p], leaf.keys[p * STRIDE])) return;
    }
  }

  /** The last leaf whose first pair is <= the target, or 0. */
  private leafFor(): number {
    const heads = this.heads;
    const leaves = this.leaves;
    let lo = 1;
    let hi = leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareKeys(heads, mid * STRIDE);
      if (c < 0 || (c === 0 && compareMember(leaves[mid].members[0]) <= 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private setHead(j: number): void {
    const from = this.leaves[j].keys;
    this.heads.set(from.subarray(0, STRIDE), j * STRIDE);
  }

  /** Puts leaf at directory position j, moving the ones from j up. */
  private addLeaf(j: number, leaf: Leaf): void {
    const n = this.leaves.length;
    if ((n + 1) * STRIDE > this.heads.length) {
      const grown = new Float64Array(this.heads.length * 2);
      grown.set(this.heads);
      this.heads = grown;
    }
    this.heads.copyWithin((j + 1) * STRIDE, j * STRIDE, n * STRIDE);
    this.leaves.splice(j, 0, leaf);
    if (leaf.n > 0) this.setHead(j);
    this.fenwickValid = false;
  }

  private dropLeaf(j: number): void {
    const n = this.leaves.length;
    this.heads.copyWithin(j * STRIDE, (j + 1) * STRIDE, n * STRIDE);
    this.leaves.splice(j, 1);
    this.fenwickValid = false;
  }

  /** Moves the upper half of full leaf j into a new leaf after it; returns the new leaf. */
  private split(j: number): Leaf {
    const leaf = this.leaves[j];
    const half = LEAF_MAX / 2;
    const upper = new Leaf();
    upper.keys.set(leaf.keys.subarray(half * STRIDE, LEAF_MAX * STRIDE));
    for (let i = half; i < LEAF_MAX; i++) upper.members.push(leaf.members[i]);
    upper.n = LEAF_MAX - half;
    leaf.members.length = half;
    leaf.n = half;
    this.addLeaf(j + 1, upper);
    return upper;
  }

  private removeAt(j: number, p: number): void {
    const leaf = this.leaves[j];
    const n = leaf.n;
    leaf.keys.copyWithin(p * STRIDE, (p + 1) * STRIDE, n * STRIDE);
    const ms = leaf.members;
    for (let i = p; i < n - 1; i++) ms[i] = ms[i + 1];
    ms.pop();
    leaf.n--;
    this.length--;
    if (leaf.n === 0) return this.dropLeaf(j);
    if (p === 0) this.setHead(j);
    // A leaf emptied by scattered deletes takes in its neighbour, so the directory shrinks with the set.
    const next = this.leaves[j + 1];
    if (leaf.n < LEAF_MAX / 4 && next !== undefined && leaf.n + next.n <= LEAF_MAX / 2) {
      leaf.keys.set(next.keys.subarray(0, next.n * STRIDE), leaf.n * STRIDE);
      for (let i = 0; i < next.n; i++) ms.push(next.members[i]);
      leaf.n += next.n;
      return this.dropLeaf(j + 1);
    }
    if (this.fenwickValid) this.fenwickAdd(j, -1);
  }

  /** How many pairs the leaves before leaf j hold. */
  private before(j: number): number {
    if (!this.fenwickValid) this.rebuildFenwick();
    const f = this.fenwick;
    let sum = 0;
    for (let i = j; i > 0; i -= i & -i) sum += f[i];
    return sum;
  }

  /** The leaf holding 0-based rank r (< length). */
  private leafAt(r: number): number {
    if (!this.fenwickValid) this.rebuildFenwick();
    const f = this.fenwick;
    const n = this.leaves.length;
    let pos = 0;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      if (pos + step <= n && f[pos + step] <= r) {
        pos += step;
        r -= f[pos];
      }
    }
    return pos;
  }

  private fenwickAdd(j: number, delta: number): void {
    const f = this.fenwick;
    const n = this.leaves.length;
    for (let i = j + 1; i <= n; i += i & -i) f[i] += delta;
  }

  private rebuildFenwick(): void {
    const n = this.leaves.length;
    if (this.fenwick.length < n + 1) this.fenwick = new Int32Array(2 * n + 1);
    const f = this.fenwick;
    for (let i = 1; i <= n; i++) f[i] = this.leaves[i - 1].n;
    for (let i = 1; i <= n; i++) {
      const up = i + (i & -i);
      if (up <= n) f[up] += f[i];
    }
    this.fenwickValid = true;
  }
}
