/**
 * "Did you mean …?" for names a person typed: a misspelt setting that is silently ignored leaves a
 * default in force that nobody chose, so the error that refuses it should also name the fix.
 */

/**
 * Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`: the optimal string
 * alignment form of the Damerau-Levenshtein distance, which counts a swapped pair of letters, the
 * commonest typo, as one edit rather than two.
 */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const d = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Case, `-`, `_` and spaces do not make a different name: `observation_days` is `observationDays`. */
function folded(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * The candidate closest to `name` once case and separators are ignored, if it is at most
 * `maxDistance` edits away (the first of equally close ones); `undefined` otherwise.
 */
export function nearestName<T extends string>(
  name: string,
  candidates: readonly T[],
  maxDistance: number,
): T | undefined {
  const wanted = folded(name);
  let best: { readonly name: T; readonly distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, folded(candidate));
    if (distance <= maxDistance && (best === undefined || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

/**
 * How far a suggestion may be from a name that is certainly wrong (an unknown field): about one edit
 * in three characters, at least two, so `obsrvationDays` finds `observationDays` but `colour` does
 * not find `createTrail`.
 */
export function suggestionDistance(name: string): number {
  return Math.max(2, Math.floor(name.length / 3));
}
