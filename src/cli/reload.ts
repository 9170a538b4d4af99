import { parseArgs } from 'node:util'
import { loadSettingsOnly, reloadAndWait, settingForFlag } from '../server/index.js'
import type { Command } from '../types.js'

const pidfile = settingForFlag('pidfile')

export const command: Command = {
  help: `Usage: shipshape reload [--pidfile <path>] [--config <file>]

Tells the running \`shipshape serve\` to start fresh workers from the current code, wait until
they are ready, then drain the old ones: the same as sending SIGHUP to the primary process. Then
waits for the outcome, which the server writes beside its pidfile: exits 0 once the new workers
serve, and 1 with the reason when the reload failed (the new code did not start; the old workers
keep serving) or was refused (another reload was in progress, or the server is stopping).

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
    const pid = await reloadAndWait(path as string, (asked) =>
      process.stdout.write(`Asked shipshape (pid ${asked}) to reload; waiting for the new workers…\n`),
    )
    process.stdout.write(`Reload complete: pid ${pid} serves the new code; the old workers are draining.\n`)
    return 0
  },
}
