import { parseArgs } from 'node:util'
import { loadSettingsOnly, settingForFlag, signalPrimary } from '../server/index.js'
import type { Command } from '../types.js'

const pidfile = settingForFlag('pidfile')

export const reload: Command = {
  name: 'reload',
  summary: 'Reload a running `shipshape serve` with new code and no dropped request',
  help: `Usage: shipshape reload [--pidfile <path>] [--config <file>]

Tells the running \`shipshape serve\` to start fresh workers from the current code, wait until
they are ready, then drain the old ones. The same as sending SIGHUP to the primary process.

Options:
  --pidfile <path>
      The pidfile \`shipshape serve\` wrote.
      env ${pidfile.env}; default ${pidfile.setting.options.default}
  --config <file>
      The config file \`shipshape serve\` read, if its server.pidfile is set there.
      env SHIPSHAPE_CONFIG; default the first of shipshape.{yaml,yml,json,toml} that exists
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { pidfile: { type: 'string' }, config: { type: 'string' } },
      strict: true,
    })
    // The same sources as `serve`, so a pidfile set in the config file or .env is found too.
    const { 'server.pidfile': path } = loadSettingsOnly(['server.pidfile'], {
      flags: values.pidfile === undefined ? {} : { pidfile: values.pidfile },
      configFile: values.config,
    })
    const pid = signalPrimary(path as string, 'SIGHUP')
    process.stdout.write(`Asked shipshape (pid ${pid}) to reload; its log shows the new workers starting.\n`)
    return 0
  },
}
