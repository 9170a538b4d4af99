/** The known word nearest to `word` (edit distance at most a third of its length), for did-you-mean hints. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1
  for (const candidate of known) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/**
 * Edit distance counting an adjacent transposition as one edit (optimal string alignment), so
 * the commonest typo, two letters swapped (`sevre`), is as near as one wrong letter.
 */
function editDistance(a: string, b: string): number {
  const rows = [Array.from({ length: b.length + 1 }, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const above = rows[i - 1] as number[]
      const substitution = (above[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      let distance = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, substitution)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row.push(distance)
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] as number
}
