import { parseArgs } from 'node:util'
import { settingForFlag, signalPrimary } from '../server/index.js'
import type { Command } from '../types.js'

const pidfile = settingForFlag('pidfile')

export const reload: Command = {
  name: 'reload',
  summary: 'Reload a running `shipshape serve` with new code and no dropped request',
  help: `Usage: shipshape reload [--pidfile <path>]

Tells the running \`shipshape serve\` to start fresh workers from the current code, wait until
they are ready, then drain the old ones. The same as sending SIGHUP to the primary process.

Options:
  --pidfile <path>
      The pidfile \`shipshape serve\` wrote.
      env ${pidfile.env}; default ${pidfile.setting.options.default}
`,
  async run(args) {
    const { values } = parseArgs({ args, options: { pidfile: { type: 'string' } }, strict: true })
    const path = values.pidfile ?? process.env[pidfile.env] ?? (pidfile.setting.options.default as string)
    const pid = signalPrimary(path, 'SIGHUP')
    process.stdout.write(`Asked shipshape (pid ${pid}) to reload; its log shows the new workers starting.\n`)
    return 0
  },
}
