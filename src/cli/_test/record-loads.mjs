/**
 * Preloaded with `--import` (through NODE_OPTIONS, so workers load it too): appends
 * "<pid> <url>" to $RECORD_LOADS_FILE for every module the process loads, so a test can
 * see what the real CLI imports, process by process.
 */
import { appendFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const file = process.env.RECORD_LOADS_FILE
if (file) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(file, `${process.pid} ${url}\n`)
      return nextLoad(url, context)
    },
  })
}
