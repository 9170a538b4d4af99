/**
 * The process's named storages. `shipshape serve` configures them from its options in every
 * worker before the first request; an app (or a script) may configure them itself. Every
 * problem in the configuration is reported at once, before anything is served.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import { workerState } from '../http/index.js'
import { localDriver } from './_local.js'
import { type S3Settings, s3Driver } from './_s3.js'
import { createSigner, minSigningKeyLength, type Signer } from './_signing.js'
import { createStorage, type Storage, type Visibility } from './_storage.js'

export interface StorageDefinition {
  visibility: Visibility
  /** Default: the settings' `driver`. */
  driver?: 'local' | 's3'
  /** Local driver: where the files live. Default `<root>/<name>`. */
  directory?: string
  /** S3 driver: the key prefix in the bucket. Default `<name>/`. */
  prefix?: string
  /**
   * S3 driver, public storages only: the base URL of a CDN or custom domain in front of the
   * bucket, used by url(). Refused for a private storage, whose links must carry S3's signature.
   */
  publicUrl?: string
  /**
   * S3 driver, public storages only: write objects with the `public-read` ACL. Default false:
   * most buckets grant public reads through a bucket policy on the prefix (ACLs are disabled on
   * new AWS buckets). Never allowed on a private storage.
   */
  publicReadAcl?: boolean
  /** Types served inline although a browser could run them (say `image/svg+xml`). Default none. */
  inlineTypes?: string[]
}

export interface StorageSettings {
  /** Local driver: the directory holding one directory per storage. Default `media`. */
  root?: string
  /** The URL path local storages are served under. Default `/media/`. */
  urlPrefix?: string
  /**
   * The origin local storages are served from when it is not the site's own, such as
   * `https://media.example-usercontent.com` (a name of its own, pointing at this server). Links
   * then point there, and files a browser would run or apply (JavaScript, CSS, HTML, SVG, …)
   * keep their real type on requests for that host; on any other host they are served as
   * `application/octet-stream`. Default: none, the site's own origin, so those files are
   * always octet-stream.
   */
  origin?: string
  /**
   * Keys signing local private links (each ≥ 32 characters); the first signs, all verify.
   * Default: none, and a random key is generated once into `<root>/.signing-key` (see docs).
   */
  signingKeys?: string[]
  /** The driver of storages that do not name one. Default `local`. */
  driver?: 'local' | 's3'
  /** Required when any storage uses the S3 driver. */
  s3?: S3Settings
  /** Storages by name. Default `{ public: { visibility: 'public' }, private: { visibility: 'private' } }`. */
  storages?: Record<string, StorageDefinition>
}

export const defaultStorages: Record<string, StorageDefinition> = {
  public: { visibility: 'public' },
  private: { visibility: 'private' },
}

export interface Storages {
  /** The storage of this name; throws SHIPSHAPE_E_STORAGE_UNKNOWN for a name never declared. */
  get(name: string): Storage
  /** The storage of this name when it is on the local disk (what the media middleware serves). */
  local(name: string): { storage: Storage; directory: string; signer: Signer } | undefined
  readonly names: readonly string[]
  readonly urlPrefix: string
  /** The host of the separate media origin (`media.example-usercontent.com`), when one is set. */
  readonly originHost: string | undefined
}

const storageName = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** One problem with storage settings, by the field of StorageSettings it is about. */
export interface StorageProblem {
  field: keyof StorageSettings
  problem: string
}

/** Every problem with the settings, each with its field; empty when they are usable. */
export function storageProblems(settings: StorageSettings): StorageProblem[] {
  const problems: StorageProblem[] = []
  const urlPrefix = settings.urlPrefix ?? '/media/'
  if (!/^\/([^/?#\s]+\/)*$/.test(urlPrefix)) {
    problems.push({
      field: 'urlPrefix',
      problem: `urlPrefix must be a path starting and ending with /, got ${JSON.stringify(urlPrefix)}`,
    })
  }
  const definitions = settings.storages ?? defaultStorages
  const defaultDriver = settings.driver ?? 'local'
  if (defaultDriver !== 'local' && defaultDriver !== 's3') {
    problems.push({
      field: 'driver',
      problem: `driver must be local or s3, got ${JSON.stringify(defaultDriver)}`,
    })
  }
  for (const [name, definition] of Object.entries(definitions)) {
    const where = `storage ${JSON.stringify(name)}`
    if (!storageName.test(name))
      problems.push({
        field: 'storages',
        problem: `${where}: names are a-z, 0-9, _ and -, up to 63 characters`,
      })
    if (definition.visibility !== 'public' && definition.visibility !== 'private') {
      problems.push({ field: 'storages', problem: `${where}: visibility must be public or private` })
    }
    const driver = definition.driver ?? defaultDriver
    if (definition.visibility === 'private' && definition.publicUrl) {
      problems.push({
        field: 'storages',
        problem: `${where}: a private storage cannot use publicUrl (a CDN or custom domain would hand out links without S3's signature); serve private files through presigned S3 URLs, or set s3.endpoint to a domain that forwards requests to S3 unchanged`,
      })
    }
    if (definition.visibility === 'private' && definition.publicReadAcl) {
      problems.push({
        field: 'storages',
        problem: `${where}: a private storage cannot write objects with a public ACL`,
      })
    }
    if ((definition.publicUrl || definition.publicReadAcl) && driver !== 's3') {
      problems.push({
        field: 'storages',
        problem: `${where}: publicUrl and publicReadAcl apply to the S3 driver only`,
      })
    }
  }
  if (settings.origin !== undefined && !isOrigin(settings.origin)) {
    problems.push({
      field: 'origin',
      problem: `origin must be an origin (https://host or http://host:port, no path), got ${JSON.stringify(settings.origin)}`,
    })
  }
  const usesS3 = Object.values(definitions).some(
    (definition) => (definition.driver ?? defaultDriver) === 's3',
  )
  if (usesS3 && !settings.s3?.bucket) problems.push({ field: 's3', problem: 'the S3 driver needs s3.bucket' })
  for (const key of settings.signingKeys ?? []) {
    if (key.length < minSigningKeyLength) {
      problems.push({
        field: 'signingKeys',
        problem: `a media signing key is ${key.length} characters long; each needs at least ${minSigningKeyLength}`,
      })
    }
  }
  return problems
}

/** Where a storage keeps its files: a directory for the local driver, a key prefix for S3. */
export interface MediaDirectory {
  name: string
  visibility: Visibility
  driver: 'local' | 's3'
  /** Absolute; local storages only. */
  directory?: string
  /** S3 storages only. */
  prefix?: string
}

/**
 * Where every storage keeps its files, resolved exactly as the storages built from these settings
 * use them (relative paths against `cwd`), for callers that inspect a deployment without building
 * the storages, such as the `private-storage` deploy check.
 */
export function mediaDirectories(settings: StorageSettings = {}, cwd = process.cwd()): MediaDirectory[] {
  const root = resolve(cwd, settings.root ?? 'media')
  return Object.entries(settings.storages ?? defaultStorages).map(([name, definition]) => {
    const { visibility } = definition
    return (definition.driver ?? settings.driver ?? 'local') === 'local'
      ? {
          name,
          visibility,
          driver: 'local',
          directory: resolve(cwd, definition.directory ?? join(root, name)),
        }
      : { name, visibility, driver: 's3', prefix: definition.prefix ?? `${name}/` }
  })
}

/** `https://media.example.com` or `http://localhost:8081`: a scheme, a host, a port, nothing more. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return /^https?:$/.test(url.protocol) && `${url.origin}/` === url.href.replace(/\/?$/, '/')
  } catch {
    return false
  }
}

/** Checks the settings and builds every storage; throws one error listing every problem. */
export function buildStorages(settings: StorageSettings = {}): Storages {
  const problems = storageProblems(settings)
  if (problems.length > 0) {
    const list = problems.map(({ problem }) => problem)
    throw new ShipshapeError('SHIPSHAPE_E_STORAGE_CONFIG', `\n  - ${list.join('\n  - ')}`)
  }
  const root = resolve(settings.root ?? 'media')
  const urlPrefix = settings.urlPrefix ?? '/media/'
  const origin = settings.origin === undefined ? undefined : new URL(settings.origin)
  const definitions = settings.storages ?? defaultStorages
  const defaultDriver = settings.driver ?? 'local'
  const usesLocal = Object.values(definitions).some(
    (definition) => (definition.driver ?? defaultDriver) === 'local',
  )

  const signer = usesLocal ? signerFor(settings.signingKeys ?? [], root) : undefined
  const directories = new Map(mediaDirectories(settings).map((local) => [local.name, local.directory]))
  const storages = new Map<string, Storage>()
  const locals = new Map<string, { storage: Storage; directory: string; signer: Signer }>()
  for (const [name, definition] of Object.entries(definitions)) {
    if ((definition.driver ?? defaultDriver) === 'local') {
      const directory = directories.get(name) as string
      const driver = localDriver({
        name,
        directory,
        visibility: definition.visibility,
        urlPrefix,
        origin: origin?.origin ?? '',
        signer: signer as Signer,
      })
      const storage = createStorage(name, definition.visibility, driver, definition.inlineTypes)
      storages.set(name, storage)
      locals.set(name, { storage, directory, signer: signer as Signer })
    } else {
      const driver = s3Driver(settings.s3 as S3Settings, {
        prefix: definition.prefix ?? `${name}/`,
        visibility: definition.visibility,
        publicUrl: definition.publicUrl,
        publicReadAcl: definition.publicReadAcl === true,
      })
      storages.set(name, createStorage(name, definition.visibility, driver, definition.inlineTypes))
    }
  }
  return {
    get(name) {
      const storage = storages.get(name)
      if (!storage) {
        throw new ShipshapeError(
          'SHIPSHAPE_E_STORAGE_UNKNOWN',
          `${JSON.stringify(name)}; declared: ${[...storages.keys()].join(', ')}`,
        )
      }
      return storage
    },
    local: (name) => locals.get(name),
    names: [...storages.keys()],
    urlPrefix,
    originHost: origin?.host,
  }
}

/**
 * With no key configured, a random one is made on the first signature and kept in
 * `<root>/.signing-key` (mode 0600), so every worker and every restart on this machine signs
 * alike, and no key is ever written into the code. The file is outside every storage's
 * directory and never served. An app that never signs a link never creates it.
 */
function signerFor(keys: string[], root: string): Signer {
  if (keys.length > 0) return createSigner(keys)
  const file = join(root, '.signing-key')
  let loaded: Signer | undefined
  const load = (create: boolean): Signer | undefined => {
    if (loaded) return loaded
    let key = readKey(file)
    if (key === undefined && create) key = generateKey(root, file)
    if (key !== undefined) loaded = createSigner([key])
    return loaded
  }
  return {
    sign: (storage, key, expiresIn, now) => (load(true) as Signer).sign(storage, key, expiresIn, now),
    // No key file yet means nothing was ever signed here: every link is refused.
    verify: (storage, key, query, now) => load(false)?.verify(storage, key, query, now) ?? false,
  }
}

function readKey(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function generateKey(root: string, file: string): string {
  mkdirSync(root, { recursive: true })
  // Written aside, then linked into place: link() fails if another worker won the race, and
  // nobody ever reads a half-written key.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(temporary, randomBytes(32).toString('base64url'), { mode: 0o600 })
  try {
    linkSync(temporary, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    rmSync(temporary, { force: true })
  }
  return readFileSync(file, 'utf8').trim()
}

declare module '../types.js' {
  interface WorkerState {
    /** The storages the worker's media middleware serves, which `storage()` returns during a request. */
    readonly storages?: Storages
  }
}

// The process's storages, for code outside `serve` and for apps that configure their own: set
// by the app's (or script's) configureStorages() call, never by a middleware factory.
let settingsInUse: StorageSettings = {}
let current: Storages | undefined

/**
 * Configures the process's storages. Settings are merged over earlier ones, so an app can
 * declare its `storages` while `shipshape serve` supplies the root, URL, keys and S3 settings
 * from its options. Throws, listing every problem, when the result is unusable.
 */
export function configureStorages(settings: StorageSettings = {}): Storages {
  const merged = { ...settingsInUse, ...settings }
  current = buildStorages(merged)
  settingsInUse = merged
  return current
}

/** The process's storages; configured with the defaults on first use if nobody configured them. */
export function storages(): Storages {
  current ??= buildStorages(settingsInUse)
  return current
}

/**
 * Builds storages from `settings` over what the app declared with configureStorages(), without
 * changing the process's: how `serve` makes each worker's, so an app can declare its storages
 * while serve supplies the root, URL, keys and S3 settings.
 */
export function storagesOver(settings: StorageSettings): Storages {
  return buildStorages({ ...settingsInUse, ...settings })
}

/** The storages in force: the worker's during a request, otherwise the process's. */
function storagesInForce(): Storages {
  return workerState()?.storages ?? storages()
}

/**
 * The named storage: `storage()` is `public`, `storage('private')` the private one. It follows
 * the storages in force at each call: during a request the worker's (those `serve` built from
 * its options), elsewhere the process's (configureStorages), so a module may take it at import
 * time, before any request.
 */
export function storage(name = 'public'): Storage {
  ;(workerState()?.storages ?? current)?.get(name) // an unknown name fails here, not at first use
  const target = () => storagesInForce().get(name)
  return {
    name,
    get visibility() {
      return target().visibility
    },
    get inlineTypes() {
      return target().inlineTypes
    },
    put: (key, body, options) => target().put(key, body, options),
    get: (key) => target().get(key),
    delete: (key) => target().delete(key),
    exists: (key) => target().exists(key),
    stat: (key) => target().stat(key),
    list: (prefix) => target().list(prefix),
    url: (key) => target().url(key),
    signedUrl: (key, options) => target().signedUrl(key, options),
    presignedPost: (key, options) => target().presignedPost(key, options),
    disposition: (contentType) => target().disposition(contentType),
  }
}
