/**
 * Glob matching with Redis's rules (stringmatchlen), on binary strings:
 * `*`, `?`, `[...]` with `^` negation, ranges in either order and `\`
 * escapes. Its quirks are kept on purpose, since KEYS and SCAN MATCH must
 * select the same keys as Redis: "*" does not match an empty string, an
 * unclosed `[` ends the class at the end of the pattern, a trailing `\` is
 * a literal, and range bounds compare as C's signed chars (bytes >= 0x80
 * sort below 0x00).
 */

/** Redis gives up (no match) past this recursion depth, against hostile patterns. */
const MAX_NESTING = 1000;

export function globMatch(pattern: string, subject: string, nocase = false): boolean {
  return new Matcher(pattern, subject, nocase).match(0, 0, 0);
}

/** A byte as C's signed `char`. */
function signed(c: number): number {
  return c >= 128 ? c - 256 : c;
}

/** tolower() in the C locale: ASCII letters only. */
function lowerChar(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

class Matcher {
  /** Set once the rest of the pattern after some `*` failed everywhere: earlier stars need not try longer spans. */
  private skipLonger = false;

  constructor(private p: string, private s: string, private nocase: boolean) {}

  private same(a: number, b: number): boolean {
    return this.nocase ? lowerChar(a) === lowerChar(b) : a === b;
  }

  match(pi: number, si: number, nesting: number): boolean {
    if (nesting > MAX_NESTING) return false;
    const { p, s } = this;
    const plen = p.length;
    const slen = s.length;
    while (pi < plen && si < slen) {
      const pc = p.charCodeAt(pi);
      if (pc === 42 /* * */) {
        while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
        if (pi + 1 === plen) return true;
        for (; si < slen; si++) {
          if (this.match(pi + 1, si, nesting + 1)) return true;
          if (this.skipLonger) return false;
        }
        this.skipLonger = true;
        return false;
      } else if (pc === 63 /* ? */) {
        si++;
      } else if (pc === 91 /* [ */) {
        const end = this.matchClass(pi + 1, s.charCodeAt(si));
        if (end < 0) return false;
        pi = end;
        si++;
      } else {
        if (pc === 92 /* \ */ && pi + 1 < plen) pi++;
        if (!this.same(p.charCodeAt(pi), s.charCodeAt(si))) return false;
        si++;
      }
      pi++;
      if (si === slen) {
        while (pi < plen && p.charCodeAt(pi) === 42) pi++;
        break;
      }
    }
    return pi === plen && si === slen;
  }

  /**
   * Matches one subject byte against the class starting at pi (just past
   * `[`). Returns the index of the class's closing `]` (or of its last
   * byte when unclosed), or -1 when the byte is not in the class.
   */
  private matchClass(pi: number, c: number): number {
    const p = this.p;
    const plen = p.length;
    const negate = pi < plen && p.charCodeAt(pi) === 94; /* ^ */
    if (negate) pi++;
    let matched = false;
    for (;; pi++) {
      const pc = pi < plen ? p.charCodeAt(pi) : -1;
      if (pc === 92 /* \ */ && pi + 1 < plen) {
        // An escaped byte is compared exactly, even under nocase, as Redis does.
        pi++;
        if (p.charCodeAt(pi) === c) matched = true;
      } else if (pc === 93 /* ] */) {
        break;
      } else if (pi >= plen) {
        pi--;
        break;
      } else if (pi + 2 < plen && p.charCodeAt(pi + 1) === 45 /* - */) {
        let start = signed(pc);
        let end = signed(p.charCodeAt(pi + 2));
        let x = signed(c);
        if (start > end) [start, end] = [end, start];
        if (this.nocase) {
          start = lowerChar(start);
          end = lowerChar(end);
          x = lowerChar(x);
        }
        pi += 2;
        if (x >= start && x <= end) matched = true;
      } else if (this.same(pc, c)) {
        matched = true;
      }
    }
    return matched !== negate ? pi : -1;
  }
}
