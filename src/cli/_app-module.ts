/**
 * `serve`'s pre-flight for the app module. The primary never imports the app, so what would
 * fail every worker at start-up (and then again in a crash loop) is named here, once, with its
 * fix, before the server listens.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'

export async function checkAppModule(app: string): Promise<void> {
  const entry = resolve(app)
  if (!existsSync(entry)) throw new ShipshapeError('SHIPSHAPE_E_APP_NOT_FOUND', `no file at ${entry}`)
  // Node strips types by default from 22.18 (and 23.6); before, a .ts app fails in every worker
  // with "Unknown file extension". The workers run with the primary's flags, so this is theirs too.
  if (/\.[cm]?ts$/.test(entry) && !process.features.typescript)
    throw new ShipshapeError(
      'SHIPSHAPE_E_NODE_VERSION',
      `${entry} is TypeScript, and this Node.js ${process.versions.node} runs no TypeScript: that needs Node.js 22.18 or later (or NODE_OPTIONS=--experimental-strip-types), or compile the app to JavaScript`,
    )
  const commonJs = whyCommonJs(entry)
  if (commonJs === undefined) return
  // Loaded only here: most apps are ES modules in a "type": "module" package and never need it.
  const { init, parse } = await import('es-module-lexer')
  await init
  let hasModuleSyntax: boolean
  try {
    hasModuleSyntax = parse(readFileSync(entry, 'utf8'))[3]
  } catch {
    return // a file the lexer cannot read: the worker's own error will say where it fails
  }
  if (hasModuleSyntax)
    throw new ShipshapeError('SHIPSHAPE_E_APP_FORMAT', `${entry} uses import or export, and ${commonJs}`)
}

/**
 * Why Node.js loads `file` as CommonJS, or undefined when it loads it as an ES module or detects
 * the format from the syntax (a package.json without "type").
 */
function whyCommonJs(file: string): string | undefined {
  const extension = extname(file)
  if (extension === '.cjs' || extension === '.cts') return `its extension ${extension} makes it CommonJS`
  if (extension !== '.js' && extension !== '.ts' && extension !== '') return undefined
  const packageJson = nearestPackageJson(dirname(file))
  if (packageJson === undefined) return undefined
  let type: unknown
  try {
    type = JSON.parse(readFileSync(packageJson, 'utf8')).type
  } catch {
    return undefined // Node reports an unreadable package.json itself
  }
  return type === 'commonjs' ? `${packageJson} says "type": "commonjs"` : undefined
}

/** The package.json Node.js reads for `dir`: the first one found walking up. */
function nearestPackageJson(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, 'package.json')
    if (existsSync(candidate)) return candidate
    if (dirname(current) === current) return undefined
  }
}
