/**
 * The skiplist behind large sorted sets: nodes ordered by (score, member),
 * each level link carrying a span (how many level-0 steps it jumps), so a
 * node's rank and the node at a rank are both found in O(log N). Members
 * compare as binary strings, which for one-byte JS strings is memcmp order.
 */

const MAX_LEVEL = 32;
/** Chance that a node reaching level i also reaches level i+1 (Redis's ZSKIPLIST_P). */
const P = 0.25;

export class SkipNode {
  /** Forward links per level. */
  next: (SkipNode | null)[];
  /** Level-0 steps each forward link jumps. */
  span: number[];
  backward: SkipNode | null = null;

  constructor(public member: string, public score: number, level: number) {
    // Built by push so the arrays stay packed (faster than holey ones).
    this.next = [];
    this.span = [];
    for (let i = 0; i < level; i++) {
      this.next.push(null);
      this.span.push(0);
    }
  }
}

/** True when the node sorts before (score, member). */
function precedes(n: SkipNode, score: number, member: string): boolean {
  return n.score < score || (n.score === score && n.member < member);
}

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < P) level++;
  return level;
}

/** Per-level scratch for insert and delete: the last node before the target, and its rank. */
const update: SkipNode[] = Array.from({ length: MAX_LEVEL }, () => new SkipNode("", 0, 0));
const rank: number[] = Array.from({ length: MAX_LEVEL }, () => 0);

export class SkipList {
  private readonly head = new SkipNode("", 0, MAX_LEVEL);
  tail: SkipNode | null = null;
  length = 0;
  private level = 1;

  get first(): SkipNode | null {
    return this.head.next[0];
  }

  /** Inserts a (score, member) pair not already present; returns its node. */
  insert(score: number, member: string): SkipNode {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1];
      for (let n = x.next[i]; n !== null && precedes(n, score, member); n = x.next[i]) {
        rank[i] += x.span[i];
        x = n;
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.head;
        this.head.span[i] = this.length;
      }
      this.level = level;
    }
    const node = new SkipNode(member, score, level);
    for (let i = 0; i < level; i++) {
      const prev = update[i];
      node.next[i] = prev.next[i];
      prev.next[i] = node;
      node.span[i] = prev.span[i] - (rank[0] - rank[i]);
      prev.span[i] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.level; i++) update[i].span[i]++;
    node.backward = update[0] === this.head ? null : update[0];
    if (node.next[0] !== null) node.next[0].backward = node;
    else this.tail = node;
    this.length++;
    return node;
  }

  /** Removes the pair if present. */
  delete(score: number, member: string): boolean {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n !== null && precedes(n, score, member); n = x.next[i]) {
        x = n;
      }
      update[i] = x;
    }
    const node = x.next[0];
    if (node === null || node.score !== score || node.member !== member) return false;
    for (let i = 0; i < this.level; i++) {
      if (update[i].next[i] === node) {
        update[i].span[i] += node.span[i] - 1;
        update[i].next[i] = node.next[i];
      } else update[i].span[i]--;
    }
    if (node.next[0] !== null) node.next[0].backward = node.backward;
    else this.tail = node.backward;
    while (this.level > 1 && this.head.next[this.level - 1] === null) this.level--;
    this.length--;
    return true;
  }

  /**
   * How many leading nodes satisfy `inPrefix`, which must hold for a prefix
   * of the order and fail after it (e.g. "score < min"). O(log N).
   */
  countWhile(inPrefix: (score: number, member: string) => boolean): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n !== null && inPrefix(n.score, n.member); n = x.next[i]) {
        rank += x.span[i];
        x = n;
      }
    }
    return rank;
  }

  /** The first node whose score is >= score (NaN-free scores), or null: a score-range walk's start. */
  firstFrom(score: number): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n !== null && n.score < score; n = x.next[i]) x = n;
    }
    return x.next[0];
  }

  /** 0-based rank of a pair known to be present. */
  rankOf(score: number, member: string): number {
    return this.countWhile((s, m) => s < score || (s === score && m < member));
  }

  /** The node at 0-based rank, or null when out of range. */
  at(rank: number): SkipNode | null {
    if (rank < 0 || rank >= this.length) return null;
    const target = rank + 1;
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.next[i] !== null && traversed + x.span[i] <= target) {
        traversed += x.span[i];
        x = x.next[i]!;
      }
      if (traversed === target) return x;
    }
    return null;
  }
}
