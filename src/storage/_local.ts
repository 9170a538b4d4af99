/**
 * The local directory driver, shipshape's default: one directory per storage under the media
 * root, served by the media middleware at `<urlPrefix><storage>/<key>`. Files are written to a
 * hidden temporary file and moved into place only once complete, so a reader (or a crash)
 * never sees half a file.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ShipshapeError } from '../errors/index.js'
import { typeOfKey } from './_content-type.js'
import { keyToPath } from './_keys.js'
import type { Signer } from './_signing.js'
import type { Driver, FileInfo } from './_storage.js'

export interface LocalDriverOptions {
  /** The storage's name, part of its URLs and of every signature. */
  name: string
  /** Where the files live. */
  directory: string
  /** The URL path the media middleware serves storages under, ending in `/`. */
  urlPrefix: string
  /** Signs links (a public file's signed link works too, and is served like its plain URL). */
  signer: Signer
}

export function localDriver(options: LocalDriverOptions): Driver {
  const { name, directory, urlPrefix, signer } = options
  const pathOf = (key: string) => join(directory, ...key.split('/'))
  const urlOf = (key: string) => `${urlPrefix}${encodeURIComponent(name)}/${keyToPath(key)}`

  const info = async (key: string): Promise<FileInfo | undefined> => {
    try {
      const stats = await stat(pathOf(key))
      if (!stats.isFile()) return undefined
      return { key, size: stats.size, contentType: typeOfKey(key), lastModified: stats.mtime }
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }

  return {
    async write(key, body, { overwrite, signal }) {
      await mkdir(directory, { recursive: true })
      // In the storage's own directory, so the final rename/link never crosses file systems.
      const temporary = join(directory, `.upload-${randomBytes(12).toString('hex')}`)
      const target = pathOf(key)
      try {
        await pipeline(body, createWriteStream(temporary, { flags: 'wx', mode: 0o640 }), { signal })
        await mkdir(dirname(target), { recursive: true })
        if (overwrite) await rename(temporary, target)
        else {
          // link() fails if the target exists, atomically, even against another process.
          await link(temporary, target).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST')
              throw new ShipshapeError('SHIPSHAPE_E_STORAGE_EXISTS', `${name}: ${key}`)
            throw error
          })
        }
      } finally {
        await rm(temporary, { force: true })
      }
      return (await info(key)) as FileInfo
    },
    async read(key) {
      const found = await info(key)
      if (!found) return undefined
      return { body: createReadStream(pathOf(key)), info: found }
    },
    async remove(key) {
      await rm(pathOf(key), { force: true })
    },
    info,
    async *list(prefix) {
      // Walk only the deepest directory the prefix names; the rest of the prefix filters names.
      const base = prefix.slice(0, prefix.lastIndexOf('/') + 1)
      const found: FileInfo[] = []
      for (const relative of await walk(join(directory, ...base.split('/').filter(Boolean)))) {
        const key = base + relative
        if (!key.startsWith(prefix)) continue
        const file = await info(key)
        if (file) found.push(file)
      }
      found.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
      yield* found
    },
    url: urlOf,
    async signedUrl(key, expiresIn) {
      return `${urlOf(key)}?${signer.sign(name, key, expiresIn)}`
    },
  }
}

/** Paths of the files below `directory`, `/`-separated, skipping hidden (temporary) entries. */
async function walk(directory: string): Promise<string[]> {
  let entries: string[]
  try {
    entries = (await readdir(directory, { recursive: true })) as string[]
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
  return entries
    .filter((entry) => !entry.split(sep).some((segment) => segment.startsWith('.')))
    .map((entry) => entry.split(sep).join('/'))
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}
