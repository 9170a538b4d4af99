/**
 * The manifest collectstatic writes into the output directory, and `staticUrl()`, which reads
 * it. The manifest is a dotfile, so the server never sends it to clients.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import { workerState } from '../http/index.js'

export const manifestName = '.shipshape-manifest.json'

/** Where collectstatic writes by default, relative to the working directory. */
export const defaultRoot = 'staticfiles'
/** The URL prefix static files are served under by default. */
export const defaultPrefix = '/static/'

export interface Manifest {
  version: 1
  /** Each collected name (and each bundler entry) → the name of its hashed copy, relative to the output directory. */
  paths: Record<string, string>
  /** Each content-hashed name → its content hash, which is its ETag. Exactly these files are immutable. */
  hashed: Record<string, string>
}

export function readManifest(root: string): Manifest | undefined {
  let text: string
  try {
    text = readFileSync(join(root, manifestName), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ShipshapeError('SHIPSHAPE_E_STATIC_MANIFEST', String(error), { cause: error })
  }
  try {
    const manifest = JSON.parse(text) as Manifest
    if (manifest.version !== 1 || typeof manifest.paths !== 'object' || typeof manifest.hashed !== 'object')
      throw new Error('not a version 1 manifest')
    return manifest
  } catch (error) {
    throw new ShipshapeError('SHIPSHAPE_E_STATIC_MANIFEST', `${join(root, manifestName)}: ${error}`, {
      cause: error,
    })
  }
}

/** What `staticUrl()` needs: where the files are, the URL they are served under, and the manifest. */
interface StaticLinks {
  readonly root: string
  readonly prefix: string
  readonly manifest: Manifest | undefined
}

declare module '../types.js' {
  interface WorkerState {
    /** The manifest and prefix of the worker's static files middleware. */
    readonly staticFiles?: StaticLinks
  }
}

/**
 * Outside a request (a script, a build step): the settings' links, read again only when the
 * working directory or a SHIPSHAPE_STATIC_* variable changes (the config file is read once).
 */
let outsideServe: (StaticLinks & { key: string }) | undefined

/**
 * The links in force: inside a request, those of the worker's static files middleware; without
 * one (a script, or a worker that serves no static files), the static settings, read from the
 * same sources as `serve` reads them. Those are required here, on first use, so that workers and
 * apps, which import this module, never load zod and the declarations (require() of an ES module:
 * Node 20.19 and 22.12 on).
 */
function linksInForce(): StaticLinks {
  const own = workerState()?.staticFiles
  if (own !== undefined) return own
  const variables = Object.entries(process.env).filter(([name]) => name.startsWith('SHIPSHAPE_STATIC_'))
  const key = JSON.stringify([process.cwd(), variables])
  if (outsideServe?.key !== key) {
    const settings = createRequire(import.meta.url)('./_settings.js') as typeof import('./_settings.js')
    const { root, url } = settings.loadStaticSettings()
    const directory = resolve(root)
    outsideServe = { key, root: directory, prefix: url, manifest: readManifest(directory) }
  }
  return outsideServe
}

/**
 * The URL of a static file by its collected name: `staticUrl('css/app.css')` →
 * `/static/css/app.3f2a9c1b7d4e.css`. In production (NODE_ENV=production) a name the manifest
 * does not list throws, so a typo fails the page that uses it instead of shipping a broken link;
 * in development it falls back to the unhashed URL.
 */
export function staticUrl(name: string): string {
  const { prefix, manifest, root } = linksInForce()
  const key = name.replace(/^\/+/, '')
  const hashed = manifest?.paths[key]
  if (hashed !== undefined) return prefix + encodePath(hashed)
  if (process.env.NODE_ENV === 'production') {
    if (manifest === undefined)
      throw new ShipshapeError('SHIPSHAPE_E_STATIC_MANIFEST', `no manifest in ${root}`)
    throw new ShipshapeError(
      'SHIPSHAPE_E_STATIC_UNKNOWN',
      `${JSON.stringify(name)} is not in ${join(root, manifestName)}`,
    )
  }
  return prefix + encodePath(key)
}

function encodePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/')
}

/** `/static` and `static/` both mean `/static/`; an absolute URL (a CDN) is kept as it is. */
export function normalisePrefix(prefix: string): string {
  let value = prefix.startsWith('/') || /^https?:\/\//.test(prefix) ? prefix : `/${prefix}`
  if (!value.endsWith('/')) value += '/'
  return value
}

/** The path part of a prefix: an absolute one (a CDN URL) is for staticUrl(); the server answers its path. */
export function prefixPath(prefix: string): string {
  return /^https?:\/\//.test(prefix) ? new URL(prefix).pathname : prefix
}
