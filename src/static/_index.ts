/**
 * The in-memory index of a static files directory, built once at start-up: every servable name
 * mapped to a ready-made entity (sizes, ETags, types, headers), so a request never touches the
 * filesystem to find its file.
 */
import { readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs'
import { ShipshapeError } from '../errors/index.js'
import { contentTypeFor, type Entity, httpDate, type Representation, statEtag } from './_entity.js'
import type { Manifest } from './_manifest.js'

/** What the per-file header hook is told about each file, once, at start-up. */
export interface StaticFile {
  /** The name relative to the directory, with `/` separators (`css/app.3f2a9c1b7d4e.css`). */
  readonly name: string
  /** The absolute path on disk. */
  readonly path: string
  /** True for content-hashed names, which are cached for a year as immutable. */
  readonly immutable: boolean
}

export interface IndexOptions {
  /** max-age in seconds for names that are not content-hashed. */
  maxAgeSeconds: number
  allowOrigin: string | undefined
  headers: ((file: StaticFile) => Record<string, string> | undefined) | undefined
  /** Names content-hashed by a framework's build, besides the manifest's. */
  immutable?: ((name: string) => boolean) | undefined
}

/** A name that is a directory with an index file: answered with a redirect to the name plus `/`. */
export interface DirectoryRedirect {
  readonly redirect: string
}

const immutableCacheControl = 'public, max-age=31536000, immutable'

/**
 * Dotfiles and dot-directories are never served (`.env`, `.git/`, the manifest), except under a
 * top-level `.well-known/`; collectstatic collects by the same rule.
 */
export function servable(name: string): boolean {
  const segments = name.split('/')
  for (let i = 0; i < segments.length; i++) {
    if ((segments[i] as string).startsWith('.') && !(i === 0 && segments[i] === '.well-known')) return false
  }
  return true
}

export function buildIndex(
  root: string,
  manifest: Manifest | undefined,
  options: IndexOptions,
): Map<string, Entity | DirectoryRedirect> {
  const names = new Set(listFiles(root, { followLinks: false }))
  // Files written by one collectstatic run share a handful of modification seconds.
  const dates = new Map<number, string>()
  const lastModified = (ms: number) => {
    const second = Math.floor(ms / 1000)
    let date = dates.get(second)
    if (date === undefined) {
      date = httpDate(ms)
      dates.set(second, date)
    }
    return date
  }
  const hashed = manifest?.hashed ?? {}
  const shortCache = `public, max-age=${options.maxAgeSeconds}`
  const shared =
    options.allowOrigin === undefined ? undefined : { 'Access-Control-Allow-Origin': options.allowOrigin }
  const index = new Map<string, Entity | DirectoryRedirect>()

  for (const name of names) {
    if (!servable(name)) continue
    // A .br or .gz next to the file it compresses is a copy of that file, never a file of its own.
    if ((name.endsWith('.br') || name.endsWith('.gz')) && names.has(name.slice(0, -3))) continue
    const path = `${root}/${name}`
    const info = statSync(path)
    const hash = hashed[name]
    const represent = (file: string, suffix: string): Representation | undefined => {
      const stats = suffix === '' ? info : statSync(file, { throwIfNoEntry: false })
      if (stats === undefined) return undefined
      return {
        path: file,
        size: stats.size,
        etag: hash === undefined ? statEtag(stats.size, stats.mtimeMs) : `"${hash}${suffix}"`,
      }
    }
    const immutable = hash !== undefined || options.immutable?.(name) === true
    const extra = options.headers?.({ name, path, immutable })
    const entity: Entity = {
      identity: represent(path, '') as Representation,
      br: names.has(`${name}.br`) ? represent(`${path}.br`, '-br') : undefined,
      gzip: names.has(`${name}.gz`) ? represent(`${path}.gz`, '-gz') : undefined,
      contentType: contentTypeFor(name),
      lastModified: lastModified(info.mtimeMs),
      cacheControl: immutable ? immutableCacheControl : shortCache,
      headers: extra === undefined ? shared : { ...shared, ...extra },
    }
    index.set(name, entity)
    if (name === 'index.html' || name.endsWith('/index.html')) {
      const directory = name.slice(0, -'index.html'.length)
      index.set(directory, entity)
      if (directory !== '') index.set(directory.slice(0, -1), { redirect: directory })
    }
  }
  return index
}

export interface ListOptions {
  /**
   * Follow symbolic links to files and directories. The server never does (nginx's
   * `disable_symlinks on`): a link in the static root to `/etc` would otherwise serve
   * `/etc/passwd`, and collectstatic writes copies, never links, so a link there was put by
   * someone else. collectstatic does, in its sources: they are your build inputs, and a
   * monorepo or pnpm links packages' assets in; a link back to a directory being listed (a
   * loop) is not entered.
   */
  followLinks: boolean
}

/**
 * The names of the files below `root`, `/`-separated. Written out instead of Node's recursive
 * readdir, which enters symbolic links to directories whatever `withFileTypes` says.
 */
export function listFiles(root: string, options: ListOptions): string[] {
  const names: string[] = []
  const broken: string[] = []
  const walk = (directory: string, prefix: string, ancestors: string[]) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const name = prefix + entry.name
      const path = `${directory}/${entry.name}`
      if (entry.isFile()) names.push(name)
      else if (!options.followLinks) {
        if (entry.isDirectory()) walk(path, `${name}/`, ancestors)
      } else {
        const target = entry.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : entry
        // A link to nothing is left to the caller; editors' lock links (`.#page.css`) are
        // dotfiles, never collected, so they must not stop a build.
        if (target === undefined) {
          if (servable(name)) broken.push(name)
        } else if (target.isFile()) names.push(name)
        else if (target.isDirectory()) {
          const real = realpathSync(path)
          if (!ancestors.includes(real)) walk(path, `${name}/`, [...ancestors, real])
        }
      }
    }
  }
  walk(root, '', options.followLinks ? [realpathSync(root)] : [])
  if (broken.length > 0) {
    const links = broken.map((name) => `${name} → ${readlinkSync(`${root}/${name}`)}`)
    throw new ShipshapeError('SHIPSHAPE_E_STATIC_LINK', `in ${root}: ${links.join(', ')}`)
  }
  return names
}
