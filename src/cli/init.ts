import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type Declaration, parseDuration, sample } from '../config/index.js'
import { ShipshapeError } from '../errors/index.js'
import { initProject } from '../hosting/index.js'
import { loadSettingsOnly } from '../server/index.js'
import type { Command } from '../types.js'

/** Where an app usually declares its settings with shipshape/config. */
const settingsModules = ['settings.ts', 'settings.js', 'settings.mjs', 'src/settings.ts', 'src/settings.js']

export const command: Command = {
  help: `Usage: shipshape init [--dry-run] [--force] [options]

Looks at the project in the working directory (its package manager from the lockfile,
workspaces, engines.node, the app entry from server.app, a framework's build output or
package.json main, its build script, its static folders, the settings it declares) and writes
the deploy files it lacks:

  shipshape.yaml, .env.example, Procfile (web: and release:, which runs \`shipshape db migrate\`
  first when database.migrate is set), Dockerfile and .dockerignore,
  deploy/<name>.service (a hardened systemd unit), deploy/kubernetes.yaml (Deployment and
  Service), fly.toml, config/deploy.yml (Kamal), .github/workflows/ci.yml

A file that exists is kept: init never overwrites without --force. \`shipshape check --deploy\`
re-reads them later and flags drift. docs/hosting.md explains each file and each platform's limits.

Options:
  --dry-run
      Print what would be written, as a unified diff; write nothing.
  --force
      Overwrite files that exist (their changes are lost: see them first with --dry-run).
  --port <port>
      The port inside the container and the unit (PORT). Default: 8000.
  --graceful-timeout <duration>
      serve's --graceful-timeout the files use and stay above. Default: server.gracefulTimeout (30s).
  --settings <file>[#export]
      The module declaring the app's settings with defineConfig(), for .env.example.
      Default: the first of ${settingsModules.join(', ')} that exports a declaration.
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        port: { type: 'string', default: '8000' },
        'graceful-timeout': { type: 'string' },
        settings: { type: 'string' },
      },
    })
    const port = Number(values.port)
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        `--port ${values.port}: expected a port number, 1 to 65535`,
      )
    const settled = loadSettingsOnly(['server.gracefulTimeout', 'database.migrate'])
    const gracefulMs =
      values['graceful-timeout'] === undefined
        ? (settled['server.gracefulTimeout'] as number)
        : parseDuration(values['graceful-timeout'], 's')
    if (gracefulMs === undefined)
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        `--graceful-timeout ${values['graceful-timeout']}: expected a duration such as 30s`,
      )
    const cwd = process.cwd()
    const declaration = await appSettings(cwd, values.settings)
    const outcome = initProject({
      cwd,
      force: values.force,
      dryRun: values['dry-run'],
      port,
      gracefulTimeoutS: Math.ceil(gracefulMs / 1000),
      envSample: declaration && sample(declaration, 'env'),
      migrate: typeof settled['database.migrate'] === 'string' && settled['database.migrate'] !== '',
    })
    const { project } = outcome
    const out: string[] = [
      `shipshape init: ${project.name}, ${project.packageManager}${project.lockfile ? ` (${project.lockfile})` : ' (no lockfile)'}, Node ${project.nodeMajor}, app ${project.entry} (${project.entrySource})`,
    ]
    if (values['dry-run']) out.push(outcome.diff || 'Nothing to write.')
    for (const file of outcome.files)
      out.push(
        `  ${file.action.padEnd(11)} ${file.path}${file.action === 'kept' ? ' (exists; --force overwrites)' : ''}`,
      )
    process.stdout.write(`${out.join('\n')}\n`)
    return 0
  },
}

async function appSettings(cwd: string, named: string | undefined): Promise<Declaration | undefined> {
  const [file, exportName] = (named ?? '').split('#')
  const candidates = file ? [file] : settingsModules.filter((path) => existsSync(resolve(cwd, path)))
  for (const path of candidates) {
    // Only a module that uses shipshape/config is imported: init does not run arbitrary app code.
    if (!file && !readFileSync(resolve(cwd, path), 'utf8').includes('shipshape/config')) continue
    let module: Record<string, unknown>
    try {
      module = await import(pathToFileURL(resolve(cwd, path)).href)
    } catch (error) {
      throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `--settings: ${path} could not be imported`, {
        cause: error,
      })
    }
    const declaration = exportName ? module[exportName] : (module.declaration ?? module.default)
    if (declaration && typeof declaration === 'object' && 'entries' in declaration)
      return declaration as Declaration
    if (file) throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `--settings: ${path} exports no declaration`)
  }
  return undefined
}
