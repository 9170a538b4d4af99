/**
 * The media middleware: serves local storages at `<urlPrefix><storage>/<key>`. Public files
 * are served to anyone; private files only with a valid, unexpired signature, checked before
 * the disk is touched. Ranges, conditional requests and HEAD come from static's sendEntity,
 * so media and static files answer every client the same way.
 */

import { join } from 'node:path'
import { plainAnswer } from '../http/index.js'
import { contentTypeFor, fileEntity, sendEntity } from '../static/index.js'
import type { Middleware, Next, RequestContext } from '../types.js'
import { typeOfKey } from './_content-type.js'
import { pathToKey } from './_keys.js'
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
    async function mediaFiles(ctx: RequestContext, next: Next) {
      const served = options.storages ?? registry()
      const prefix = served.urlPrefix
      if (!ctx.path.startsWith(prefix)) return next()
      const rest = ctx.path.slice(prefix.length)
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
      const contentType = contentTypeFor(key)
      const shown = storage.disposition(typeOfKey(key))
      let entity: Awaited<ReturnType<typeof fileEntity>>
      try {
        entity = await fileEntity(join(directory, ...key.split('/')), {
          contentType,
          cacheControl: storage.visibility === 'private' ? privateCache : publicCache,
          headers: {
            'Content-Disposition': contentDisposition(shown, key),
            'X-Content-Type-Options': 'nosniff',
            'Content-Security-Policy': sandbox,
          },
        })
      } catch {
        plainAnswer(ctx.res, 404, 'Not Found\n')
        return
      }
      sendEntity(ctx.req, ctx.res, entity)
    },
    { provides },
  )
}

/** `inline` or `attachment`, with the file's name in both forms browsers read (RFC 6266). */
function contentDisposition(kind: 'inline' | 'attachment', key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1)
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`
}
