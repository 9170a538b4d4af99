import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { shownDefault } from '../config/index.js'
import { ShipshapeError } from '../errors/index.js'
import { loadSettingsOnly, settingForFlag } from '../server/index.js'
import { collectStatic } from '../static/collect.js'
import type { Command } from '../types.js'

const root = settingForFlag('static-root')
const url = settingForFlag('static-url')

export const command: Command = {
  help: `Usage: shipshape collectstatic [source ...] [options]

Copies the source directories into the static root, gives every file a content-hashed name
(app.css → app.3f2a9c1b7d4e.css), rewrites CSS url()/@import and JS import specifiers and
source map comments to those names, writes brotli and gzip copies, and a manifest that
\`shipshape serve\` and staticUrl() read. Vite and webpack output is recognised from its
manifest: files the bundler hashed keep their names and are still cached as immutable.

Arguments:
  source ...
      Directories to collect, in order (a name found in several comes from the first).
      env SHIPSHAPE_STATIC_SOURCES (comma-separated), or static.sources in the config file; default static

Options:
  --${root.flag} <dir>
      Where to write; \`shipshape serve\` serves it.
      env ${root.env}; default ${root.setting.options.default}
  --${url.flag} <path>
      The URL prefix: references written as absolute URLs under it (/static/img/a.png) are collected files.
      env ${url.env}; default ${shownDefault(url)}
  --config <file>
      The config file \`shipshape serve\` reads: its static.root and static.url are used too.
      env SHIPSHAPE_CONFIG; default the first of shipshape.{yaml,yml,json,toml} that exists
  --missing-maps <error|warn>
      A sourceMappingURL naming a missing file fails the run (error) or is reported and left as it is (warn).
      default error
  --no-compress
      Skip the brotli and gzip copies (faster; the server then sends every file uncompressed).
  --clear
      Empty the static root first. By default old hashed files stay, so pages rendered before a
      deploy still find their assets while new workers take over.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        [root.flag as string]: { type: 'string' },
        [url.flag as string]: { type: 'string' },
        config: { type: 'string' },
        'missing-maps': { type: 'string', default: 'error' },
        'no-compress': { type: 'boolean', default: false },
        clear: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    })
    const missingMaps = values['missing-maps']
    if (missingMaps !== 'error' && missingMaps !== 'warn') {
      throw new ShipshapeError(
        'SHIPSHAPE_E_BAD_OPTION',
        `--missing-maps: expected error or warn, got "${missingMaps}"`,
      )
    }
    // The same sources as `serve`, so collectstatic writes where the server reads.
    const flag = (entry: typeof root) => values[entry.flag as string] as string | undefined
    const settings = loadSettingsOnly(['static.root', 'static.url', 'static.sources'], {
      flags: Object.fromEntries(
        [root, url].flatMap((entry) => (flag(entry) ? [[entry.flag as string, flag(entry) as string]] : [])),
      ),
      configFile: values.config as string | undefined,
    })
    const sources = positionals.length > 0 ? positionals : (settings['static.sources'] as string[])
    const output = settings['static.root'] as string
    const prefix = settings['static.url'] as string
    const progress = process.stderr.isTTY ? progressBar() : undefined
    const started = performance.now()
    const result = await collectStatic({
      sources,
      output,
      prefix,
      missingMaps,
      compress: !values['no-compress'],
      clear: values.clear === true,
      onProgress: progress,
    })
    if (progress) process.stderr.write('\r\u001b[2K')
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    process.stdout.write(
      `Collected ${result.files} files into ${relative(process.cwd(), output) || '.'} in ${seconds}s: ` +
        `${result.hashed} hashed, ${result.bundlerHashed} already hashed by a bundler, ${result.compressed} compressed copies.\n`,
    )
    return 0
  },
}

/** A one-line bar on the terminal, redrawn at most every 50 ms. */
function progressBar(): (done: number, total: number) => void {
  let drawnAt = 0
  return (done, total) => {
    const now = performance.now()
    if (now - drawnAt < 50 && done < total) return
    drawnAt = now
    const width = 30
    const filled = Math.round((done / total) * width)
    process.stderr.write(
      `\r  collecting [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`,
    )
  }
}
