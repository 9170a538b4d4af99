/**
 * The media middleware: serves local storages at `<urlPrefix><storage>/<key>`. Public files
 * are served to anyone; private files only with a valid, unexpired signature, checked before
 * the disk is touched. Ranges, conditional requests and HEAD come from static's sendEntity,
 * so media and static files answer every client the same way.
 */

import { create as contentDisposition } from 'content-disposition'
import { plainAnswer } from '../http/index.js'
import { contentTypeFor, fileEntity, sendEntity } from '../static/index.js'
import type { Middleware, Next, RequestContext } from '../types.js'
import { fallbackType, runsOrApplies, typeOfKey } from './_content-type.js'
import { pathToKey } from './_keys.js'
import { confinedPath } from './_local.js'
import { storages as registry, type Storages } from './_registry.js'

export interface MediaFilesOptions {
  /**
   * The storages to serve; they become the worker's, so `storage()` in the app returns them
   * during a request. Default: the process's (configureStorages), looked up per request.
   */
  storages?: Storages
  /**
   * Browser cache lifetime of public files, in seconds. Default 3600: keys are unique, but a
   * put with `overwrite` reuses one, and a changed file reaches browsers within the hour.
   */
  publicMaxAge?: number
}

/**
 * Sandboxes anything a browser might still render (a type the app allowed inline): no script,
 * no plugins, no requests, as GitHub does for user content.
 */
const sandbox = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

export function mediaFiles(options: MediaFilesOptions = {}): Middleware {
  const publicCache = `public, max-age=${options.publicMaxAge ?? 3600}`
  // Signed links are per person: no shared cache may keep them, and the browser revalidates
  // (conditional requests still save the body) so an expired link stops working.
  const privateCache = 'private, no-cache'

  const provides = options.storages === undefined ? {} : { storages: options.storages }
  return Object.assign(
    function mediaFiles(ctx: RequestContext, next: Next) {
      const served = options.storages ?? registry()
      // Most requests are not for media: they pass on without the cost of an async function.
      if (!ctx.path.startsWith(served.urlPrefix)) return next()
      return serveMedia(ctx, next, served)
    },
    { provides },
  )

  async function serveMedia(ctx: RequestContext, next: Next, served: Storages): Promise<void> {
    const rest = ctx.path.slice(served.urlPrefix.length)
    const slash = rest.indexOf('/')
    const local = slash > 0 ? served.local(rest.slice(0, slash)) : undefined
    if (!local) return next()

    const { storage, directory, signer } = local
    const key = pathToKey(rest.slice(slash + 1))
    if (storage.visibility === 'private') {
      const url = ctx.req.url ?? ''
      const question = url.indexOf('?')
      const query = question === -1 ? '' : url.slice(question + 1)
      // Unsigned, tampered, expired or for a bad key: the same 403, whether the file exists or
      // not, so a guess learns nothing.
      if (key === undefined || !signer.verify(storage.name, key, query)) {
        plainAnswer(ctx.res, 403, 'Forbidden\n')
        return
      }
    } else if (key === undefined) {
      plainAnswer(ctx.res, 404, 'Not Found\n')
      return
    }
    const type = typeOfKey(key)
    // Only on the separate media origin may a browser get a type it runs or applies.
    const onMediaOrigin =
      served.originHost !== undefined && ctx.req.headers.host?.toLowerCase() === served.originHost
    const path = await confinedPath(directory, key).catch(() => undefined)
    const entity =
      path === undefined
        ? undefined
        : await fileEntity(path, {
            contentType: onMediaOrigin || !runsOrApplies(type) ? contentTypeFor(key) : fallbackType,
            cacheControl: storage.visibility === 'private' ? privateCache : publicCache,
            headers: {
              // RFC 6266, with an RFC 8187 filename* for names beyond ASCII. The key rules keep
              // control, format and bidirectional characters out of the name.
              'Content-Disposition': contentDisposition(key.slice(key.lastIndexOf('/') + 1), {
                type: storage.disposition(type),
              }),
              'X-Content-Type-Options': 'nosniff',
              'Content-Security-Policy': sandbox,
              // The site's pages embed what its media origin serves; the security headers'
              // same-origin default would block every <img> there.
              ...(onMediaOrigin ? { 'Cross-Origin-Resource-Policy': 'cross-origin' } : {}),
            },
          }).catch(() => undefined)
    if (entity === undefined) {
      plainAnswer(ctx.res, 404, 'Not Found\n')
      return
    }
    sendEntity(ctx.req, ctx.res, entity)
  }
}
