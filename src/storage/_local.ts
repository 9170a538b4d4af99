/**
 * The local directory driver, shipshape's default: one directory per storage under the media
 * root, served by the media middleware at `<urlPrefix><storage>/<key>`. Files are written to a
 * hidden temporary file and moved into place only once complete, so a reader (or a crash)
 * never sees half a file.
 *
 * Nothing is read, written or removed through a symbolic link below the storage's directory:
 * shipshape never makes one there, so a link is someone else's (a link to `/etc` would
 * otherwise serve `/etc/passwd`, and a write through it would land outside the storage). The
 * storage's directory itself may be a link (a deploy's `shared/media`); it is resolved.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream, type Dirent } from 'node:fs'
import { link, lstat, mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ShipshapeError } from '../errors/index.js'
import { readNoFollow } from '../static/index.js'
import { typeOfKey } from './_content-type.js'
import { keyToPath } from './_keys.js'
import type { Signer } from './_signing.js'
import type { Driver, FileInfo, Visibility } from './_storage.js'

export interface LocalDriverOptions {
  /** The storage's name, part of its URLs and of every signature. */
  name: string
  /** Where the files live. */
  directory: string
  /** Private storages' directories are made 0700 and their files 0600; public ones 0755 and 0644. */
  visibility: Visibility
  /** The URL path the media middleware serves storages under, ending in `/`. */
  urlPrefix: string
  /** The origin links point at (`https://media.example-usercontent.com`); '' for the site's own. */
  origin: string
  /** Signs links (a public file's signed link works too, and is served like its plain URL). */
  signer: Signer
}

/**
 * Modes of what a storage creates, before the umask. Private files are for the app's user
 * only, as shipshape's own `private-storage` deploy check requires; public ones are readable
 * by a web server or backup job running as another user.
 */
const modes = {
  public: { directory: 0o755, file: 0o644 },
  private: { directory: 0o700, file: 0o600 },
} as const

/**
 * The path of `key` in `directory` when that file exists and neither it nor any directory
 * between it and `directory` is a symbolic link; undefined otherwise (missing, or reached
 * through a link). One realpath call: the real path of a path without links is itself.
 */
export async function confinedPath(directory: string, key: string): Promise<string | undefined> {
  try {
    const root = await realpath(directory)
    const path = join(root, ...key.split('/'))
    return (await realpath(path)) === path ? path : undefined
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

export function localDriver(options: LocalDriverOptions): Driver {
  const { name, directory, urlPrefix, origin, signer } = options
  const mode = modes[options.visibility]
  const urlOf = (key: string) => `${origin}${urlPrefix}${encodeURIComponent(name)}/${keyToPath(key)}`

  const infoAt = async (key: string, path: string): Promise<FileInfo | undefined> => {
    const stats = await stat(path)
    if (!stats.isFile()) return undefined
    return { key, size: stats.size, contentType: typeOfKey(key), lastModified: stats.mtime }
  }
  const info = async (key: string): Promise<FileInfo | undefined> => {
    const path = await confinedPath(directory, key)
    return path === undefined ? undefined : infoAt(key, path)
  }

  /** Makes the storage's directory with the storage's mode (its parents with the default); returns it resolved. */
  const makeRoot = async (): Promise<string> => {
    await mkdir(dirname(directory), { recursive: true })
    await mkdir(directory, { mode: mode.directory }).catch(ignoreExisting)
    return realpath(directory)
  }

  /**
   * Makes the key's directories below the resolved storage directory, one at a time, each with
   * the storage's mode, refusing a link (Node's recursive mkdir would walk through one).
   */
  const makeKeyDirectories = async (root: string, key: string): Promise<void> => {
    let path = root
    for (const segment of key.split('/').slice(0, -1)) {
      path = join(path, segment)
      await mkdir(path, { mode: mode.directory }).catch(ignoreExisting)
      const found = await lstat(path)
      if (found.isSymbolicLink()) throw new ShipshapeError('SHIPSHAPE_E_STORAGE_LINK', `${name}: ${path}`)
      if (!found.isDirectory())
        throw new ShipshapeError(
          'SHIPSHAPE_E_STORAGE_EXISTS',
          `${name}: ${key} (a file is where it needs a directory)`,
        )
    }
  }

  return {
    async write(key, body, { overwrite, signal }) {
      const root = await makeRoot()
      // In the storage's own directory, so the final rename/link never crosses file systems.
      const temporary = join(root, `.upload-${randomBytes(12).toString('hex')}`)
      const target = join(root, ...key.split('/'))
      try {
        await pipeline(body, createWriteStream(temporary, { flags: 'wx', mode: mode.file }), { signal })
        await makeKeyDirectories(root, key)
        // Neither follows a link at the target: rename replaces the link itself, link() fails.
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
      return (await infoAt(key, target)) as FileInfo
    },
    async read(key) {
      const path = await confinedPath(directory, key)
      const found = path === undefined ? undefined : await infoAt(key, path)
      if (!found) return undefined
      const file = await open(path as string, readNoFollow).catch((error: unknown) => {
        if (isMissing(error)) return undefined
        throw error
      })
      return file === undefined ? undefined : { body: file.createReadStream(), info: found }
    },
    async remove(key) {
      const path = await confinedPath(directory, key)
      if (path !== undefined) await rm(path, { force: true })
    },
    info,
    async *list(prefix) {
      // Walk only the deepest directory the prefix names; the rest of the prefix filters names.
      const base = prefix.slice(0, prefix.lastIndexOf('/') + 1)
      const root = base === '' ? directory : await confinedPath(directory, base.slice(0, -1))
      const found: FileInfo[] = []
      for (const relative of root === undefined ? [] : await walk(root)) {
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

/**
 * Paths of the files below `directory`, `/`-separated, skipping hidden (temporary) entries and
 * never entering a symbolic link (Node's recursive readdir would).
 */
async function walk(directory: string, prefix = ''): Promise<string[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(directory, { withFileTypes: true })
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
  const names: string[] = []
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue
    if (entry.isFile()) names.push(prefix + entry.name)
    else if (entry.isDirectory())
      names.push(...(await walk(join(directory, entry.name), `${prefix}${entry.name}/`)))
  }
  return names
}

function ignoreExisting(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EEXIST') throw error
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  // ELOOP: a link swapped in since the check, refused by O_NOFOLLOW; or a loop of links.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP'
}
