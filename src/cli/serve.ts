import { parseArgs } from 'node:util'
import { flagHelp, formatProblem } from '../config/index.js'
import { ShipshapeError } from '../errors/index.js'
import { loadServeOptions, serve as runServer, shipshapeConfig } from '../server/index.js'
import type { Command } from '../types.js'
import { checkAppModule } from './_app-module.js'

const flagOptions = {
  config: { type: 'string' as const },
  ...Object.fromEntries(
    shipshapeConfig.entries.flatMap((entry) =>
      entry.flag ? [[entry.flag, { type: 'string' as const }]] : [],
    ),
  ),
}

export const command: Command = {
  help: `Usage: shipshape serve [app] [options]

Runs the app exported by the module at [app] (default: $SHIPSHAPE_APP) in a pool of worker
processes. A primary process owns the socket, hands connections to healthy workers, kills a
worker whose event loop is blocked past --timeout, and replaces workers that crash.
NODE_ENV is set to production unless you set it.

Signals to the primary: SIGTERM/SIGINT finish in-flight requests and exit (a second one exits at
once); SIGHUP reloads the code with no dropped request (also \`shipshape reload\`).

Settings come from, lowest first: defaults < a config file < .env < environment variables <
secret files (<VARIABLE>_FILE, /run/secrets) < flags. The config file is --config, else
$SHIPSHAPE_CONFIG, else the first of shipshape.yaml, shipshape.yml, shipshape.json and
shipshape.toml in the working directory; each option goes in the section of its group
(\`server:\`, \`security:\`, \`static:\`, \`media:\`; \`shipshape config sample\` writes one).
See docs/config.md.

Options:
  --config <file>
      A YAML, JSON or TOML file of settings.
      env SHIPSHAPE_CONFIG; default the first of shipshape.{yaml,yml,json,toml} that exists
${flagHelp(shipshapeConfig.entries)}
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: flagOptions,
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length > 1)
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        `unexpected argument ${positionals[1]}: serve takes one app module, got ${positionals.join(' ')}`,
      )
    const { config, ...flags } = values
    const options = loadServeOptions(positionals[0], flags, process.env, {
      configFile: config,
      onWarning: (problem) => process.stderr.write(`shipshape serve: warning: ${formatProblem(problem)}\n`),
    })
    // A missing file, or ES module syntax that Node would load as CommonJS, would fail every
    // worker: say so before listening, as for any other bad option.
    await checkAppModule(options.app)
    return runServer(options)
  },
}
