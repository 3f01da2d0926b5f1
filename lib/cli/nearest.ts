/**
 * The name a person most likely meant when they typed one that does not exist, for "did you mean"
 * hints on a misspelt command or option.
 */

/**
 * Edits between two words: insertions, deletions, substitutions, and a swap of two neighbouring
 * characters counted as one edit (the commonest typo, `stauts` for `status`).
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: edits between the first i characters of a and the first j characters of b.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i += 1) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate a person most likely meant by `typed` (ignoring case), or null when none is close
 * enough to be a plausible typo. A candidate that `typed` begins (three characters or more) comes
 * first: `stat` means `status` more likely than `start`, one edit away. Otherwise the fewest edits,
 * at most two or a third of the longer word when that is more, and fewer than the shorter word's
 * length, so `ls` is not taken for `list`. Ties go to the earlier candidate.
 */
export function nearestName(typed: string, candidates: Iterable<string>): string | null {
  const word = typed.toLowerCase();
  const names = [...candidates];
  const completed = word.length >= 3 ? names.find((name) => name.toLowerCase().startsWith(word)) : undefined;
  if (completed !== undefined) {
    return completed;
  }
  let best: { name: string; distance: number } | null = null;
  for (const name of names) {
    const distance = editDistance(word, name.toLowerCase());
    const allowed = Math.max(2, Math.floor(Math.max(word.length, name.length) / 3));
    if (distance <= allowed && distance < Math.min(word.length, name.length)) {
      if (best === null || distance < best.distance) {
        best = { name, distance };
      }
    }
  }
  return best?.name ?? null;
}
