/**
 * The static files middleware: answers every request under its URL prefix from the index built
 * at start-up. Hostile paths (malformed encodings, NUL, traversal, dotfiles) never reach the
 * filesystem: a name is served only if the index holds it.
 */
import { existsSync, readFile } from 'node:fs'
import { resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import { plainAnswer } from '../http/index.js'
import type { Middleware, Next, RequestContext } from '../types.js'
import { type Entity, type Representation, readNoFollow, sendEntity } from './_entity.js'
import { buildIndex, type DirectoryRedirect, type StaticFile } from './_index.js'
import { defaultPrefix, defaultRoot, normalisePrefix, prefixPath, readManifest } from './_manifest.js'

export interface StaticFilesOptions {
  /** The directory collectstatic wrote. Default: `staticfiles` in the working directory. */
  root?: string
  /** The URL path the files are served under. Default: `/static/`. */
  prefix?: string
  /**
   * max-age in seconds for files whose names are not content-hashed. Default: 60, so a changed
   * `robots.txt` reaches browsers within a minute. Hashed names are always cached for a year.
   */
  maxAge?: number
  /** `Access-Control-Allow-Origin` on every file, for fonts loaded from a CDN. Default: not sent. */
  allowOrigin?: string
  /** Extra headers per file, asked once per file at start-up. Default: none. */
  headers?: (file: StaticFile) => Record<string, string> | undefined
  /**
   * For a framework's build output (no manifest): the names it content-hashed, cached for a
   * year as immutable. Such a mount is not the one staticUrl() links to. Default: none.
   */
  immutable?: (name: string) => boolean
  /**
   * Bytes of small representations this middleware keeps in memory. Default 32 MiB. `shipshape
   * serve` gives each worker its share of the server's --static-memory, split between the mounts.
   */
  memoryBytes?: number
}

/**
 * Representations up to this size are kept in memory after their first request, up to the
 * middleware's budget (memoryBytes): small files are most requests, and reading them once saves
 * a file open and read per request. Larger files, and those past the budget, are streamed from
 * disk, where the kernel's page cache holds them once for every worker.
 */
const memoryFileLimit = 64 * 1024
const defaultMemoryBytes = 32 * 1024 * 1024

/** Paths longer than this are refused (400) before any work: no real asset has such a name. */
const maxPathLength = 1024

/** Characters a plain path can hold as is; anything else is checked and percent-decoded. */
const plainPath = /^[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/

export function staticFiles(options: StaticFilesOptions = {}): Middleware {
  const root = resolve(options.root ?? defaultRoot)
  if (!existsSync(root)) throw new ShipshapeError('SHIPSHAPE_E_STATIC_ROOT', root)
  const prefix = normalisePrefix(options.prefix ?? defaultPrefix)
  const manifest = readManifest(root)
  const pathPrefix = prefixPath(prefix)
  const index = buildIndex(root, manifest, {
    maxAgeSeconds: options.maxAge ?? 60,
    allowOrigin: options.allowOrigin,
    headers: options.headers,
    immutable: options.immutable,
  })
  const loaded = new WeakSet<Entity>()
  let memoryLeft = options.memoryBytes ?? defaultMemoryBytes

  /** Reads an entity's small representations into memory in the background, once. */
  function keepInMemory(entity: Entity): void {
    loaded.add(entity)
    for (const rep of [entity.identity, entity.br, entity.gzip]) {
      if (rep === undefined || rep.size > memoryFileLimit || rep.size > memoryLeft) continue
      memoryLeft -= rep.size
      readFile(rep.path, { flag: readNoFollow }, (error, data) => {
        if (error === null && data.length === rep.size) (rep as Representation).data = data
      })
    }
  }

  // The worker's state, not the process's: staticUrl() reads this manifest from the request.
  const provides = options.immutable === undefined ? { staticFiles: { root, prefix, manifest } } : {}
  return Object.assign(
    function serveStaticFiles(ctx: RequestContext, next: Next) {
      const path = ctx.path
      if (!path.startsWith(pathPrefix)) return next()
      let name = path.slice(pathPrefix.length)
      if (name.length > maxPathLength) return plainAnswer(ctx.res, 400, 'Bad Request: path too long\n')
      if (!plainPath.test(name)) {
        const decoded = decodePath(name)
        if (decoded === undefined) return plainAnswer(ctx.res, 400, 'Bad Request: malformed path\n')
        name = decoded
      }
      const found = index.get(name)
      if (found === undefined) {
        // At the root prefix the app owns every other URL; under a sub-path the prefix is ours.
        if (pathPrefix === '/') return next()
        return plainAnswer(ctx.res, 404, 'Not Found\n')
      }
      if ((found as DirectoryRedirect).redirect !== undefined) {
        const location = pathPrefix + encodeURI((found as DirectoryRedirect).redirect)
        return plainAnswer(ctx.res, 301, `Moved Permanently: ${location}\n`, { Location: location })
      }
      const entity = found as Entity
      if (!loaded.has(entity)) keepInMemory(entity)
      sendEntity(ctx.req, ctx.res, entity)
    },
    { provides },
  )
}

/** Percent-decodes a path; `undefined` for non-UTF-8, raw non-ASCII, control characters or backslashes. */
function decodePath(name: string): string | undefined {
  // Raw bytes outside printable ASCII (node hands them over as latin1 characters) are refused.
  if (/[^\u0021-\u007e]/.test(name)) return undefined
  let decoded: string
  try {
    decoded = decodeURIComponent(name)
  } catch {
    return undefined
  }
  for (let i = 0; i < decoded.length; i++) {
    const code = decoded.charCodeAt(i)
    if (code < 0x20 || code === 0x7f || code === 0x5c) return undefined
  }
  return decoded
}
