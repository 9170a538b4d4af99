/**
 * `npm run bench [-- name [options]]`: runs bench/<name>.bench.ts, or every benchmark in turn.
 * Each prints a table of ratios against the anchors it measures in the same run.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const [only, ...options] = process.argv.slice(2)
const dir = new URL('.', import.meta.url).pathname
const names = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.slice(0, -'.bench.ts'.length))
  .filter((name) => !only || name === only)

if (names.length === 0) {
  console.error(
    `No benchmark named "${only}". Available: ${readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .join(', ')}`,
  )
  process.exit(2)
}
let failed = false
for (const name of names) {
  console.log(`\n## ${name}\n`)
  const { status } = spawnSync(process.execPath, [`${dir}${name}.bench.ts`, ...options], { stdio: 'inherit' })
  failed ||= status !== 0
}
process.exit(failed ? 1 : 0)
