/**
 * The two C sorts whose orders Redis replies show when elements compare
 * equal: glibc's qsort (a stable top-down merge sort in the glibc Redis
 * 7.0 ships with) and Redis 7.0's pqsort (NetBSD's Bentley-McIlroy
 * quicksort without its insertion-sort fallback, cut short to sort only
 * the positions lrange..rrange). Written over
 * indices with the same pivots, swaps and recursion as the C code, so ties
 * come out in the same places; the comparator may be inconsistent (NaN).
 */

export type Compare<T> = (a: T, b: T) => number;

/** glibc's msort: stable, takes the left element unless it compares greater. */
export function mergeSort<T>(a: T[], cmp: Compare<T>): void {
  const tmp: T[] = new Array(a.length);
  mergeRange(a, 0, a.length, cmp, tmp);
}

function mergeRange<T>(a: T[], lo: number, n: number, cmp: Compare<T>, tmp: T[]): void {
  if (n <= 1) return;
  const n1 = n >>> 1;
  const n2 = n - n1;
  mergeRange(a, lo, n1, cmp, tmp);
  mergeRange(a, lo + n1, n2, cmp, tmp);
  let i = lo, j = lo + n1, k = 0;
  const iEnd = lo + n1, jEnd = lo + n;
  while (i < iEnd && j < jEnd) tmp[k++] = cmp(a[i], a[j]) <= 0 ? a[i++] : a[j++];
  while (i < iEnd) tmp[k++] = a[i++];
  // What is left of the right run is already in place.
  for (let m = 0; m < k; m++) a[lo + m] = tmp[m];
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function vecswap<T>(a: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(a, i + k, j + k);
}

function med3<T>(a: T[], i: number, j: number, k: number, cmp: Compare<T>): number {
  return cmp(a[i], a[j]) < 0
    ? (cmp(a[j], a[k]) < 0 ? j : (cmp(a[i], a[k]) < 0 ? k : i))
    : (cmp(a[j], a[k]) > 0 ? j : (cmp(a[i], a[k]) < 0 ? i : k));
}

function insertionSort<T>(a: T[], base: number, n: number, cmp: Compare<T>): void {
  for (let m = base + 1; m < base + n; m++) {
    for (let l = m; l > base && cmp(a[l - 1], a[l]) > 0; l--) swap(a, l, l - 1);
  }
}

/** Redis's pqsort(a, n, cmp, lrange, rrange): positions lrange..rrange end up as a full sort would put them. */
export function partialSort<T>(a: T[], cmp: Compare<T>, lrange: number, rrange: number): void {
  sortPart(a, 0, a.length, cmp, lrange, rrange);
}

/** True when [lo, lo+n) holds neither end of the wanted range on the same side (the C code's pointer test). */
function wanted(lo: number, n: number, l: number, r: number): boolean {
  const last = lo + n - 1;
  return !((l < lo && r < lo) || (l > last && r > last));
}

function sortPart<T>(a: T[], base: number, n: number, cmp: Compare<T>, l: number, r: number): void {
  for (;;) {
    if (n < 7) return insertionSort(a, base, n, cmp);
    let pm = base + (n >>> 1);
    if (n > 7) {
      let pl = base;
      let pn = base + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(a, pm - d, pm, pm + d, cmp);
        pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(a, pl, pm, pn, cmp);
    }
    swap(a, base, pm);
    let pa = base + 1, pb = base + 1;
    let pc = base + n - 1, pd = base + n - 1;
    for (;;) {
      let c: number;
      while (pb <= pc && (c = cmp(a[pb], a[base])) <= 0) {
        if (c === 0) swap(a, pa++, pb);
        pb++;
      }
      while (pb <= pc && (c = cmp(a[pc], a[base])) >= 0) {
        if (c === 0) swap(a, pc, pd--);
        pc--;
      }
      if (pb > pc) break;
      swap(a, pb++, pc--);
    }
    const pn = base + n;
    let s = Math.min(pa - base, pb - pa);
    vecswap(a, base, pb - s, s);
    s = Math.min(pd - pc, pn - pd - 1);
    vecswap(a, pb, pn - s, s);
    s = pb - pa;
    if (s > 1 && wanted(base, s, l, r)) sortPart(a, base, s, cmp, l, r);
    s = pd - pc;
    if (s <= 1) return;
    base = pn - s;
    n = s;
    if (!wanted(base, n, l, r)) return;
  }
}
