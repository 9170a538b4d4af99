import { parseArgs } from 'node:util'
import {
  describeOptions,
  type FieldName,
  fields,
  resolveServeOptions,
  serve as runServer,
} from '../server/index.js'
import type { Command } from '../types.js'

const flagOptions = Object.fromEntries(
  Object.values(fields).map((field) => [field.flag, { type: 'string' as const }]),
)

export const serve: Command = {
  name: 'serve',
  summary: 'Run your app in production: supervised workers, timeouts, graceful reloads, health checks',
  help: `Usage: shipshape serve [app] [options]

Runs the app exported by the module at [app] (default: $SHIPSHAPE_APP) in a pool of worker
processes. A primary process owns the socket, hands connections to healthy workers, kills a
worker whose event loop is blocked past --timeout, and replaces workers that crash.
NODE_ENV is set to production unless you set it.

Signals to the primary: SIGTERM/SIGINT finish in-flight requests and exit (a second one exits at
once); SIGHUP reloads the code with no dropped request (also \`shipshape reload\`).

Options (flag, then environment variable; flags win):
${describeOptions()}
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: flagOptions,
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length > 1) throw new Error(`expected one app module, got ${positionals.join(' ')}`)
    const flags: Partial<Record<FieldName, string>> = {}
    for (const [name, field] of Object.entries(fields)) {
      const value = values[field.flag]
      if (typeof value === 'string') flags[name as FieldName] = value
    }
    const options = resolveServeOptions(positionals[0], flags)
    return runServer(options)
  },
}
