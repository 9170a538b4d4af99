/**
 * Every lockfile format an npm project may have, read into one list of locked packages: where
 * each came from (resolved URL, integrity), what it depends on, and whether only dev dependencies
 * reach it. Each format is read with its own well-kept parser (JSON, `yaml`, @yarnpkg/lockfile,
 * jsonc-parser); the dependency graph and the dev/prod split are computed here, the same way for
 * all, from the roots the project's package.json and the lockfile name.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import { type Graph, type Manifest, readers } from './_lock-formats.js'

export type LockFormat = 'npm' | 'pnpm' | 'yarn-v1' | 'yarn-berry' | 'bun'

/** In the order a project's lockfile is looked for: npm-shrinkwrap.json wins over package-lock.json, as npm does. */
const lockfileNames: ReadonlyArray<[string, LockFormat]> = [
  ['npm-shrinkwrap.json', 'npm'],
  ['package-lock.json', 'npm'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn-v1'],
  ['bun.lock', 'bun'],
]

export interface LockedPackage {
  name: string
  version: string
  /** Where it is downloaded from; undefined when the lockfile leaves it to the configured registry. */
  resolved: string | undefined
  /** An SRI string (`sha512-…`), or yarn berry's checksum (`10c0/<hex>`, a sha512 too). */
  integrity: string | undefined
  /** What the lockfile's own notation says it is (a `git+`, `https:`, `file:` specifier), before the URL is judged. */
  specifier: string | undefined
  /** A workspace or linked folder of the project: nothing is downloaded. */
  local: boolean
  /** Only where the lockfile records it (package-lock's hasInstallScript, pnpm 6's requiresBuild). */
  installScript: boolean | undefined
  /** Reached only through devDependencies. */
  dev: boolean
  /** The names from a direct dependency down to this package: one shortest path. */
  path: string[]
}

export interface Lockfile {
  file: string
  format: LockFormat
  packages: LockedPackage[]
}

/** Finds and reads the project's lockfile; throws SHIPSHAPE_E_LOCKFILE when there is none or it cannot be read. */
export function readProjectLockfile(cwd: string, file?: string): Lockfile {
  const found = file ? [file, formatOf(file)] : lockfileNames.find(([name]) => existsSync(join(cwd, name)))
  if (found === undefined)
    throw new ShipshapeError(
      'SHIPSHAPE_E_LOCKFILE',
      `no lockfile in ${cwd} (looked for ${lockfileNames.map(([name]) => name).join(', ')})`,
    )
  const [name, format] = found as [string, LockFormat]
  const path = join(cwd, name)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ShipshapeError('SHIPSHAPE_E_LOCKFILE', `${name} cannot be read: ${(error as Error).message}`)
  }
  // yarn.lock is one name for two formats: yarn 2 and later write a YAML __metadata block.
  const actual = format === 'yarn-v1' && /^__metadata:/m.test(text) ? 'yarn-berry' : format
  try {
    return { file: name, format: actual, packages: walk(readers[actual](text, readManifest(cwd))) }
  } catch (error) {
    if (error instanceof ShipshapeError) throw error
    throw new ShipshapeError('SHIPSHAPE_E_LOCKFILE', `${name} cannot be parsed: ${(error as Error).message}`)
  }
}

function formatOf(file: string): LockFormat {
  const base = file.split('/').pop() as string
  const known = lockfileNames.find(([name]) => name === base)
  if (known) return known[1]
  if (base.endsWith('.yaml')) return 'pnpm'
  if (base.endsWith('.lock')) return base.startsWith('bun') ? 'bun' : 'yarn-v1'
  return 'npm'
}

function readManifest(cwd: string): Manifest {
  const manifest: Manifest = { dependencies: [], devDependencies: [], ranges: new Map() }
  let pkg: Record<string, Record<string, string> | undefined>
  try {
    pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))
  } catch {
    return manifest
  }
  for (const field of ['dependencies', 'optionalDependencies', 'devDependencies'] as const) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      manifest[field === 'devDependencies' ? 'devDependencies' : 'dependencies'].push(name)
      manifest.ranges.set(name, range)
    }
  }
  return manifest
}

/**
 * Breadth-first from the production roots, then from the dev roots: a package reached from the
 * first is not dev, and each keeps the first (shortest) path found. A package no root reaches
 * (an extraneous entry) keeps its own name as its path and counts as production: unknown, so judged.
 */
function walk({ nodes, prodRoots, devRoots }: Graph): LockedPackage[] {
  const seen = new Map<string, { dev: boolean; path: string[] }>()
  for (const [roots, dev] of [
    [prodRoots, false],
    [devRoots, true],
  ] as const) {
    let frontier = roots.filter((id) => nodes.has(id) && !seen.has(id))
    for (const id of frontier) seen.set(id, { dev, path: [nodes.get(id)?.name as string] })
    while (frontier.length > 0) {
      const next: string[] = []
      for (const id of frontier) {
        const { path } = seen.get(id) as { path: string[] }
        for (const dep of nodes.get(id)?.deps ?? []) {
          if (seen.has(dep) || !nodes.has(dep)) continue
          seen.set(dep, { dev, path: [...path, nodes.get(dep)?.name as string] })
          next.push(dep)
        }
      }
      frontier = next
    }
  }
  const packages: LockedPackage[] = []
  for (const [id, { deps: _deps, ...node }] of nodes) {
    const reached = seen.get(id)
    packages.push({ ...node, dev: reached?.dev ?? false, path: reached?.path ?? [node.name] })
  }
  return packages
}
