/**
 * "Did you mean": the word of a list closest to a mistyped one, by edit distance. Used for
 * misspelt keys and values in config files (`lib/config/checker.ts`) and for a mistyped
 * operation on the client's command line (`lib/client/args.ts`).
 *
 * Owns: the distance and the choice of the closest word. Does not own the wording of the
 * suggestion: each caller puts it in its own message.
 *
 * @module
 */

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The closest of `choices` to `word`, case ignored, if it is at most `maxDistance` edits away
 * (by default a third of the word's length, at least 1). Of equally close ones, the one of the
 * nearest length wins (`stauts` is two edits from both `start` and `status`: a swap is more
 * likely than a wrong letter and a missing one), then the first.
 */
export function suggest(
  word: string,
  choices: readonly string[],
  maxDistance = Math.max(1, Math.floor(word.length / 3)),
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  let bestSkew = Infinity;
  for (const choice of choices) {
    const distance = editDistance(word.toLowerCase(), choice.toLowerCase());
    const skew = Math.abs(choice.length - word.length);
    if (distance < bestDistance || (distance === bestDistance && skew < bestSkew)) {
      best = choice;
      bestDistance = distance;
      bestSkew = skew;
    }
  }
  return bestDistance <= maxDistance ? best : undefined;
}
