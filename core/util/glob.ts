/**
 * Glob matching with Redis's rules (stringmatchlen): `*`, `?`, `[...]` with
 * `^` negation, ranges (either order) and `\` escapes, on binary strings.
 */

export function globMatch(pattern: string, subject: string, nocase = false): boolean {
  const skipLonger = { value: false };
  return match(pattern, 0, subject, 0, nocase, skipLonger, 0);
}

function fold(c: number, nocase: boolean): number {
  return nocase && c >= 65 && c <= 90 ? c + 32 : c;
}

function match(p: string, pi: number, s: string, si: number, nocase: boolean, skipLonger: { value: boolean }, depth: number): boolean {
  // Redis caps recursion so hostile patterns cannot blow the stack.
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    if (pc === 42 /* * */) {
      while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
      if (pi + 1 === plen) return true;
      for (let k = si; k < slen; k++) {
        if (match(p, pi + 1, s, k, nocase, skipLonger, depth + 1)) return true;
        // A later star failed on the whole rest: longer prefixes cannot help.
        if (skipLonger.value) return false;
      }
      skipLonger.value = true;
      return false;
    } else if (pc === 63 /* ? */) {
      si++;
    } else if (pc === 91 /* [ */) {
      pi++;
      const not = pi < plen && p.charCodeAt(pi) === 94; /* ^ */
      if (not) pi++;
      let matched = false;
      const c = fold(s.charCodeAt(si), nocase);
      for (;;) {
        if (pi < plen && p.charCodeAt(pi) === 92 && pi + 1 < plen) {
          pi++;
          if (fold(p.charCodeAt(pi), nocase) === c) matched = true;
        } else if (pi < plen && p.charCodeAt(pi) === 93 /* ] */) {
          break;
        } else if (pi >= plen) {
          pi--;
          break;
        } else if (pi + 2 < plen && p.charCodeAt(pi + 1) === 45 /* - */) {
          let start = fold(p.charCodeAt(pi), nocase);
          let end = fold(p.charCodeAt(pi + 2), nocase);
          if (start > end) [start, end] = [end, start];
          pi += 2;
          if (c >= start && c <= end) matched = true;
        } else if (fold(p.charCodeAt(pi), nocase) === c) {
          matched = true;
        }
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      si++;
    } else {
      let lit = pc;
      if (pc === 92 /* \ */ && pi + 1 < plen) {
        pi++;
        lit = p.charCodeAt(pi);
      }
      if (fold(lit, nocase) !== fold(s.charCodeAt(si), nocase)) return false;
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
