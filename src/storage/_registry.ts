/**
 * The process's named storages. `shipshape serve` configures them from its options in every
 * worker before the first request; an app (or a script) may configure them itself. Every
 * problem in the configuration is reported at once, before anything is served.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import { getContext } from '../http/index.js'
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
}

const storageName = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** Every problem with the settings, as sentences; empty when they are usable. */
export function storageProblems(settings: StorageSettings): string[] {
  const problems: string[] = []
  const urlPrefix = settings.urlPrefix ?? '/media/'
  if (!/^\/([^/?#\s]+\/)*$/.test(urlPrefix)) {
    problems.push(`urlPrefix must be a path starting and ending with /, got ${JSON.stringify(urlPrefix)}`)
  }
  const definitions = settings.storages ?? defaultStorages
  const defaultDriver = settings.driver ?? 'local'
  if (defaultDriver !== 'local' && defaultDriver !== 's3') {
    problems.push(`driver must be local or s3, got ${JSON.stringify(defaultDriver)}`)
  }
  for (const [name, definition] of Object.entries(definitions)) {
    const where = `storage ${JSON.stringify(name)}`
    if (!storageName.test(name)) problems.push(`${where}: names are a-z, 0-9, _ and -, up to 63 characters`)
    if (definition.visibility !== 'public' && definition.visibility !== 'private') {
      problems.push(`${where}: visibility must be public or private`)
    }
    const driver = definition.driver ?? defaultDriver
    if (definition.visibility === 'private' && definition.publicUrl) {
      problems.push(
        `${where}: a private storage cannot use publicUrl (a CDN or custom domain would hand out links without S3's signature); serve private files through presigned S3 URLs, or set s3.endpoint to a domain that forwards requests to S3 unchanged`,
      )
    }
    if (definition.visibility === 'private' && definition.publicReadAcl) {
      problems.push(`${where}: a private storage cannot write objects with a public ACL`)
    }
    if ((definition.publicUrl || definition.publicReadAcl) && driver !== 's3') {
      problems.push(`${where}: publicUrl and publicReadAcl apply to the S3 driver only`)
    }
  }
  const usesS3 = Object.values(definitions).some(
    (definition) => (definition.driver ?? defaultDriver) === 's3',
  )
  if (usesS3 && !settings.s3?.bucket) problems.push('the S3 driver needs s3.bucket')
  for (const key of settings.signingKeys ?? []) {
    if (key.length < minSigningKeyLength) {
      problems.push(
        `a media signing key is ${key.length} characters long; each needs at least ${minSigningKeyLength}`,
      )
    }
  }
  return problems
}

/** Checks the settings and builds every storage; throws one error listing every problem. */
export function buildStorages(settings: StorageSettings = {}): Storages {
  const problems = storageProblems(settings)
  if (problems.length > 0) {
    throw new ShipshapeError('SHIPSHAPE_E_STORAGE_CONFIG', `\n  - ${problems.join('\n  - ')}`)
  }
  const root = resolve(settings.root ?? 'media')
  const urlPrefix = settings.urlPrefix ?? '/media/'
  const definitions = settings.storages ?? defaultStorages
  const defaultDriver = settings.driver ?? 'local'
  const usesLocal = Object.values(definitions).some(
    (definition) => (definition.driver ?? defaultDriver) === 'local',
  )

  const signer = usesLocal ? signerFor(settings.signingKeys ?? [], root) : undefined
  const storages = new Map<string, Storage>()
  const locals = new Map<string, { storage: Storage; directory: string; signer: Signer }>()
  for (const [name, definition] of Object.entries(definitions)) {
    if ((definition.driver ?? defaultDriver) === 'local') {
      const directory = resolve(definition.directory ?? join(root, name))
      const driver = localDriver({ name, directory, urlPrefix, signer: signer as Signer })
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
  return getContext()?.worker.storages ?? storages()
}

/**
 * The named storage: `storage()` is `public`, `storage('private')` the private one. It follows
 * the storages in force at each call: during a request the worker's (those `serve` built from
 * its options), elsewhere the process's (configureStorages), so a module may take it at import
 * time, before any request.
 */
export function storage(name = 'public'): Storage {
  ;(getContext()?.worker.storages ?? current)?.get(name) // an unknown name fails here, not at first use
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
