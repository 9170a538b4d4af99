/**
 * `collectStatic`: copies the source directories into one output directory, gives every file a
 * content-hashed name, rewrites the references between files to those names, precompresses
 * with brotli and gzip, and writes the manifest last, so a failed run leaves the last good
 * manifest in place.
 */
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises'
import { dirname, join, posix, relative, resolve, sep } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import { ShipshapeError } from '../errors/index.js'
import { atomicCopy, atomicLink, atomicWrite } from './_atomic.js'
import { digest, hashInOrder, type SourceFile } from './_hashing.js'
import { listFiles, servable } from './_index.js'
import { defaultPrefix, type Manifest, manifestName, normalisePrefix, prefixPath } from './_manifest.js'
import { findReferences, ready, referenceKind } from './_references.js'

export interface CollectOptions {
  /** Directories to collect, in order: a name found in several is taken from the first. */
  sources: string[]
  /** The output directory. Default: `staticfiles`. */
  output?: string
  /** The URL prefix, for references written as absolute URLs (`/static/img/a.png`). Default: `/static/`. */
  prefix?: string
  /** What a missing source map is: `error` (default, the build fails) or `warn`. */
  missingMaps?: 'error' | 'warn'
  /** Write brotli and gzip copies. Default: true. */
  compress?: boolean
  /**
   * Empty the output directory first. Default: false, so pages rendered before a deploy can
   * still load the hashed files they name while new workers take over.
   */
  clear?: boolean
  /** Called as files are written, for a progress bar. */
  onProgress?: (done: number, total: number) => void
}

export interface CollectResult {
  /** Files collected from the sources. */
  files: number
  /** Files given a content-hashed name here (bundler-hashed files are not counted). */
  hashed: number
  /** Files a bundler had already hashed, recognised from its manifest. */
  bundlerHashed: number
  /** Compressed copies kept (each at most 95% of the original). */
  compressed: number
  warnings: string[]
  manifest: Manifest
}

/**
 * Types that are compressed already: another pass costs time and saves nothing. Everything else
 * is tried, and a copy is kept only when it is at most 95% of the original.
 */
const precompressed = new Set(
  (
    'png jpg jpeg gif webp avif heic ico cur woff woff2 zip gz tgz bz2 tbz xz zst br 7z rar ' +
    'mp3 mp4 m4a m4v mov webm ogg ogv oga opus flac aac avi wmv flv swf 3gp pdf jar'
  ).split(' '),
)
const keepRatio = 0.95
/** Files written at once: enough to keep the disk and the compression threads busy, few enough to bound memory. */
const concurrency = 32

const brotli = promisify(brotliCompress)
const gzipAsync = promisify(gzip)

export async function collectStatic(options: CollectOptions): Promise<CollectResult> {
  const output = resolve(options.output ?? 'staticfiles')
  const prefix = normalisePrefix(options.prefix ?? defaultPrefix)
  const pathPrefix = prefixPath(prefix)
  const sources = options.sources.map((source) => resolve(source))
  checkDirectories(sources, output)

  const warnings: string[] = []
  const files = new Map<string, SourceFile>()
  const bundlerPaths: Record<string, string> = {}
  for (const source of sources) gather(source, files, bundlerPaths)

  await ready
  const list = [...files.values()]
  await inParallel(list, readSource)
  const problems: string[] = []
  for (const file of list) {
    if (file.text === undefined) continue
    const found = findReferences(file.kind as 'css' | 'js', file.text)
    if (found.problem !== undefined) warnings.push(`${file.name}: ${found.problem}`)
    for (const reference of found.references) {
      const target = resolveReference(file.name, reference.value, pathPrefix)
      if (target === undefined) continue
      if (files.has(target)) {
        file.references.push(reference)
        file.targets.push(target)
      } else if (reference.sourceMap && options.missingMaps === 'warn') {
        warnings.push(
          `${file.name} names the source map ${target}, which is missing; the reference is left as it is`,
        )
      } else {
        problems.push(
          `${file.name} references ${target} (written "${reference.value}"), which does not exist`,
        )
      }
    }
  }
  if (problems.length > 0) {
    throw new ShipshapeError('SHIPSHAPE_E_STATIC_REFERENCE', `\n  - ${problems.join('\n  - ')}`)
  }

  hashInOrder(files)

  if (options.clear) await rm(output, { recursive: true, force: true })
  await mkdir(output, { recursive: true })
  const manifest: Manifest = { version: 1, paths: { ...bundlerPaths }, hashed: {} }
  let compressed = 0
  let hashed = 0
  let done = 0
  const directories = new Set<string>()
  for (const file of list) directories.add(dirname(join(output, file.hashedName as string)))
  await Promise.all([...directories].map((directory) => mkdir(directory, { recursive: true })))
  // What the output holds already, listed once: a stale compressed copy or temporary file is
  // removed only where one exists, instead of an unlink that fails for most files of a fresh
  // output (8,501 of them for 5,000 files, on a disk where each costs 0.2 ms: bench/README.md).
  const listed = new Set(await readdir(output, { recursive: true }))
  const present = (path: string) => listed.has(relative(output, path))

  const compress = options.compress !== false
  async function place(file: SourceFile): Promise<void> {
    const hashedPath = join(output, file.hashedName as string)
    manifest.paths[file.name] = file.hashedName as string
    manifest.hashed[file.hashedName as string] = file.hash as string
    if (!file.bundlerHashed) hashed++
    const paths = file.bundlerHashed ? [hashedPath] : [hashedPath, join(output, file.name)]
    // `compressed += await …` would read the count before the await and lose the other
    // files' additions made meanwhile (32 run at once): each result is added after it arrives.
    let kept: number
    const contentNamed = !file.bundlerHashed
    if (file.rewritten === undefined) {
      kept = await writeCopies(file, paths, { compress, present, contentNamed })
    } else {
      const hashedCopy = { ...file, data: Buffer.from(file.rewritten) }
      kept = await writeCopies(hashedCopy, [hashedPath], { compress, present, contentNamed })
      // The original, whose references still name unhashed files, is reachable only by its
      // unhashed URL, which pages linking through staticUrl() never use: it is not compressed.
      // That halves the compression work for CSS and JS, the slowest part of a run.
      kept += await writeCopies(file, [join(output, file.name)], {
        compress: false,
        present,
        contentNamed: false,
      })
    }
    compressed += kept
  }
  await inParallel(list, async (file) => {
    await place(file)
    file.data = undefined
    options.onProgress?.(++done, list.length)
  })
  await atomicWrite(join(output, manifestName), `${JSON.stringify(manifest, null, 1)}\n`)
  return {
    files: list.length,
    hashed,
    bundlerHashed: list.length - hashed,
    compressed,
    warnings,
    manifest,
  }
}

/** Reads a file: CSS and JS as text to scan, anything to compress as bytes; hashes what is not rewritten. */
async function readSource(file: SourceFile): Promise<void> {
  const scanned = file.kind !== undefined && !file.bundlerHashed
  if (!scanned && precompressed.has(extensionOf(file.name))) {
    file.hash = await digestFile(file.path)
    return
  }
  file.data = await readFile(file.path)
  if (scanned) file.text = file.data.toString('utf8')
  else file.hash = digest(file.data)
}

async function digestFile(path: string): Promise<string> {
  const hash = createHash('md5')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex').slice(0, 12)
}

/** Runs `work` over `items`, a bounded number at once. */
async function inParallel<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T)
    }),
  )
}

function extensionOf(name: string): string {
  return posix.extname(name).slice(1).toLowerCase()
}

function checkDirectories(sources: string[], output: string): void {
  const problems: string[] = []
  if (sources.length === 0) problems.push('no source directory given')
  for (const source of sources) {
    let isDirectory = false
    try {
      isDirectory = statSync(source).isDirectory()
    } catch {}
    if (!isDirectory) problems.push(`the source ${source} is not a directory`)
    const inside = (child: string, parent: string) => child === parent || child.startsWith(parent + sep)
    if (inside(output, source) || inside(source, output))
      problems.push(`the output ${output} and the source ${source} must not contain each other`)
  }
  if (problems.length > 0) throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', problems.join('; '))
}

/**
 * Lists one source directory, recognising bundler output from its manifest: Vite's
 * `.vite/manifest.json`, or a webpack-manifest-plugin `manifest.json` (name → emitted file).
 * Dotfiles are not collected (except `.well-known/`). Symbolic links are followed.
 */
function gather(source: string, files: Map<string, SourceFile>, bundlerPaths: Record<string, string>): void {
  // Links are followed here, and what they point at is copied: see listFiles.
  const names = listFiles(source, { followLinks: true })
  const present = new Set(names)
  const bundled = new Set<string>()
  for (const name of names) {
    if (name === '.vite/manifest.json' || name.endsWith('/.vite/manifest.json')) {
      readViteManifest(source, name, present, bundled, bundlerPaths)
    } else if (name === 'manifest.json' || name.endsWith('/manifest.json')) {
      readWebpackManifest(source, name, present, bundled, bundlerPaths)
    }
  }
  for (const name of names) {
    if (files.has(name) || !servable(name)) continue
    files.set(name, {
      name,
      path: join(source, name),
      bundlerHashed: bundled.has(name),
      kind: referenceKind(name),
      references: [],
      targets: [],
    })
  }
}

interface ViteChunk {
  file?: string
  css?: string[]
  assets?: string[]
}

function readViteManifest(
  source: string,
  name: string,
  present: Set<string>,
  bundled: Set<string>,
  bundlerPaths: Record<string, string>,
): void {
  const base = name.slice(0, -'.vite/manifest.json'.length)
  const chunks = JSON.parse(readFileSync(join(source, name), 'utf8')) as Record<string, ViteChunk>
  for (const [key, chunk] of Object.entries(chunks)) {
    for (const file of [chunk.file, ...(chunk.css ?? []), ...(chunk.assets ?? [])]) {
      if (file !== undefined && present.has(base + file)) bundled.add(base + file)
    }
    // An entry is named by its source path under the bundle's directory: `build/src/main.ts`.
    if (chunk.file !== undefined && present.has(base + chunk.file))
      bundlerPaths[base + key] = base + chunk.file
  }
}

function readWebpackManifest(
  source: string,
  name: string,
  present: Set<string>,
  bundled: Set<string>,
  bundlerPaths: Record<string, string>,
): void {
  let entries: unknown
  try {
    entries = JSON.parse(readFileSync(join(source, name), 'utf8'))
  } catch {
    return
  }
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return
  if (!Object.values(entries).every((value) => typeof value === 'string')) return
  const base = name.slice(0, -'manifest.json'.length)
  for (const [key, value] of Object.entries(entries as Record<string, string>)) {
    // Emitted paths carry webpack's publicPath (`/static/`, `auto/`): drop leading segments until a file matches.
    const segments =
      value
        .replace(/^[a-z]+:\/\/[^/]+/i, '')
        .split(/[?#]/)[0]
        ?.split('/') ?? []
    for (let i = 0; i < segments.length; i++) {
      const candidate = base + segments.slice(i).join('/')
      if (present.has(candidate)) {
        if (base + key !== candidate) {
          bundled.add(candidate)
          bundlerPaths[base + key] = candidate
        }
        break
      }
    }
  }
}

/** The collected name a reference points at, or `undefined` for references left alone. */
function resolveReference(from: string, value: string, pathPrefix: string): string | undefined {
  const path = value.split(/[?#]/, 1)[0] as string
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    decoded = path
  }
  if (decoded.startsWith('/')) {
    // An absolute URL under the static prefix is a collected file; any other is the app's.
    if (!decoded.startsWith(pathPrefix)) return undefined
    return posix.normalize(decoded.slice(pathPrefix.length))
  }
  return posix.normalize(posix.join(posix.dirname(from), decoded))
}

interface CopyOptions {
  compress: boolean
  /** Whether a path was in the output when the run began. */
  present: (path: string) => boolean
  /** The first path is named after this content: an earlier build's file there holds the same bytes. */
  contentNamed: boolean
}

/**
 * Writes the file's bytes to the first path (and hard links to the others: same bytes, one
 * write), with brotli and gzip copies beside each. Returns the number of compressed copies kept.
 */
async function writeCopies(file: SourceFile, paths: string[], options: CopyOptions): Promise<number> {
  const { present } = options
  const remove = async (path: string) => {
    if (present(path)) await unlink(path).catch(() => {})
  }
  const [path, ...links] = paths as [string, ...string[]]
  const data = file.data
  const compressible = data !== undefined && options.compress && data.length > 0
  // A content-hashed file an earlier build left, with both compressed copies where they are due,
  // is these very bytes (each was written whole, by rename): a rebuild after a small change
  // rewrites and recompresses only what changed. Brotli at its best quality is most of a run.
  const reused =
    options.contentNamed &&
    present(path) &&
    (!compressible || (present(`${path}.br`) && present(`${path}.gz`)))
  if (!reused) {
    if (data === undefined) await atomicCopy(file.path, path)
    else await atomicWrite(path, data)
  }
  // Not compressing a compressible file still removes the copies an earlier build left beside it.
  const encoded: Record<string, Buffer | 'present' | undefined> =
    data === undefined
      ? {}
      : !compressible
        ? { '.br': undefined, '.gz': undefined }
        : reused
          ? { '.br': 'present', '.gz': 'present' }
          : await compressed(data)
  let kept = 0
  for (const [suffix, bytes] of Object.entries(encoded)) {
    if (bytes === undefined) await remove(path + suffix)
    else {
      if (bytes !== 'present') await atomicWrite(path + suffix, bytes)
      kept++
    }
  }
  for (const other of links) {
    await atomicLink(path, other, remove)
    for (const [suffix, bytes] of Object.entries(encoded)) {
      if (bytes === undefined) await remove(other + suffix)
      else await atomicLink(path + suffix, other + suffix, remove)
    }
  }
  return kept * paths.length
}

/** Brotli (best quality) and gzip (level 9) copies, each only when at most 95% of the original. */
async function compressed(data: Buffer): Promise<Record<'.br' | '.gz', Buffer | undefined>> {
  const limit = data.length * keepRatio
  const [br, gz] = await Promise.all([
    brotli(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
    // No name and no time in the header: the same input gives the same bytes in every build.
    gzipAsync(data, { level: 9 }),
  ])
  return { '.br': br.length <= limit ? br : undefined, '.gz': gz.length <= limit ? gz : undefined }
}
