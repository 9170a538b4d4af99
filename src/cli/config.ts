import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type Declaration,
  docsMarkdown,
  formatProblem,
  type Resolution,
  resolveConfig,
  type SampleFormat,
  sample,
  sampleFormats,
  showJson,
  showText,
} from '../config/index.js'
import { ShipshapeError } from '../errors/index.js'
import { loadShipshapeSettings, shipshapeConfig } from '../server/index.js'
import type { Command } from '../types.js'

const actions = ['show', 'check', 'docs', 'sample'] as const

/** docs/config-reference.md: shipshape's own settings, generated so the page and the code cannot disagree. */
export function shipshapeReference(): string {
  return docsMarkdown(
    shipshapeConfig,
    'shipshape settings reference',
    `Every setting of shipshape itself, generated from its declaration (\`src/server/_options.ts\`) by
\`shipshape config docs\`; run \`npm run docs\` after changing it. How to set them, and how the
sources combine, is in [config.md](config.md). Each can go in a config file under its section
(\`server:\`, \`static:\`), in its environment variable, or in its flag on \`shipshape serve\`.`,
  )
}

export const command: Command = {
  help: `Usage: shipshape config <show|check|docs|sample> [options]

  show     Every setting, its effective value (secrets masked) and the source it came from; with
           problems, the valid settings, then the problems (exit code 1).
  check    Loads the settings and lists every problem; exits 0 when they are valid, 1 when not.
  docs     A Markdown reference: key, environment variable, type, default, required, secret, description.
  sample   A config file with every setting and its default, required settings left empty.

Without --module these are shipshape's own settings (what \`shipshape serve\` reads). With
--module, the settings an app declares with defineConfig() from shipshape/config.

Options:
  --module <file>[#export]
      A module exporting the declaration: the named export, else \`declaration\`, else the default.
      default: shipshape's own settings
  --config <file>
      The config file to read (show, check).
      default: SHIPSHAPE_CONFIG (or the app's <PREFIX>CONFIG), then shipshape.{yaml,yml,json,toml}
  --set <key>=<value>
      A command-line value for a setting (show, check); repeat it for several.
  --format <format>
      sample: env, yaml, json or toml (default yaml); show: text or json (default text).
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        module: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        format: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    })
    const [action, ...extra] = positionals
    if (!actions.includes(action as (typeof actions)[number]) || extra.length > 0) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        `expected one of ${actions.join(', ')}, got ${positionals.length ? positionals.join(' ') : 'nothing'}`,
      )
    }
    const set: Record<string, string> = {}
    for (const pair of values.set ?? []) {
      const equals = pair.indexOf('=')
      if (equals < 1)
        throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `--set: expected key=value, got "${pair}"`)
      set[pair.slice(0, equals)] = pair.slice(equals + 1)
    }
    const declaration = values.module ? await importDeclaration(values.module) : shipshapeConfig
    const out = (text: string) => process.stdout.write(text)

    if (action === 'docs') {
      out(values.module ? docsMarkdown(declaration, 'Settings reference') : shipshapeReference())
      return 0
    }
    if (action === 'sample') {
      const format = (values.format ?? 'yaml') as SampleFormat
      if (!sampleFormats.includes(format)) {
        throw new ShipshapeError(
          'SHIPSHAPE_E_BAD_OPTION',
          `--format: expected ${sampleFormats.join(', ')}, got "${format}"`,
        )
      }
      out(sample(declaration, format))
      return 0
    }
    const resolution: Resolution<unknown> = values.module
      ? resolveConfig(declaration, { file: values.config, overrides: set })
      : loadShipshapeSettings({ configFile: values.config, set })
    const unknownKeys = Object.keys(set).filter((key) => !declaration.entry(key))
    const problems = [
      ...unknownKeys.map((key) => ({
        key,
        source: `--set ${key}`,
        expected: 'a known key',
        found: 'an unknown key',
      })),
      ...resolution.problems,
    ]
    for (const warning of resolution.warnings) process.stderr.write(`warning: ${formatProblem(warning)}\n`)
    if (action === 'show') {
      // Every setting that loaded is shown even when others did not; the problems follow.
      const format = values.format ?? 'text'
      if (format !== 'text' && format !== 'json') {
        throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `--format: expected text or json, got "${format}"`)
      }
      out(format === 'json' ? showJson(declaration, resolution) : showText(declaration, resolution))
      if (problems.length === 0) return 0
    }
    if (problems.length > 0) {
      process.stderr.write(
        `The settings have ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((problem) => `  - ${formatProblem(problem)}\n`).join('')}`,
      )
      return 1
    }
    out(
      `The settings are valid: ${declaration.entries.length} settings${resolution.file ? `, config file ${resolution.file}` : ', no config file'}.\n`,
    )
    return 0
  },
}

/** `path/to/settings.ts#name`: the named export, else `declaration`, else the default export. */
async function importDeclaration(specifier: string): Promise<Declaration> {
  const [path, name] = specifier.split('#') as [string, string | undefined]
  let module: Record<string, unknown>
  try {
    module = await import(pathToFileURL(resolve(path)).href)
  } catch (error) {
    // A module that loads its settings at import fails here with the same problems `check` reports.
    if ((error as { problems?: unknown }).problems) throw error
    throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `--module: ${path} could not be imported`, {
      cause: error,
    })
  }
  const candidate = name ? module[name] : (module.declaration ?? module.default)
  const looksLikeDeclaration =
    candidate !== null && typeof candidate === 'object' && Array.isArray((candidate as Declaration).entries)
  if (!looksLikeDeclaration) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `--module: ${path} exports no declaration as ${name ? `"${name}"` : '"declaration" or default'} (make one with defineConfig())`,
    )
  }
  return candidate as Declaration
}
