import { nearestName, suggestionDistance } from '../nearest-name.js';

/**
 * The command or option a person most likely meant by a word the CLI does not know, for the
 * "did you mean" of a usage error; null when nothing is a plausible typo of it.
 *
 * On top of the shared edit distance: a known name that `typed` begins (three characters or more)
 * comes first, since `stat` means `status` more likely than `start`, one edit away; and fewer edits
 * than `typed` has characters, so a one-letter option such as `-j` is not taken for `--by`.
 */
export function didYouMean(typed: string, names: readonly string[]): string | null {
  const word = typed.toLowerCase();
  const completed = word.length >= 3 ? names.find((name) => name.toLowerCase().startsWith(word)) : undefined;
  return (
    completed ?? nearestName(typed, names, Math.min(suggestionDistance(typed), typed.length - 1)) ?? null
  );
}
