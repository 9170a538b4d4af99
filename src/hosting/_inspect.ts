/**
 * What `shipshape init` learns from a project before writing its deploy files: the package
 * manager (from the lockfile), the workspaces, the Node.js major to run (from engines.node), the
 * app entry (the config's server.app, a framework's build output, package.json main, or a usual
 * file name), whether there is a build script, and the static sources to collect.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import semver from 'semver'
import { parse as parseToml } from 'smol-toml'
import { parse as parseYaml } from 'yaml'
import { shipshapeSources } from '../types.js'

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'yarn-classic' | 'bun'

export interface Project {
  name: string
  packageManager: PackageManager
  lockfile: string | undefined
  workspaces: string[]
  /** The Node.js LTS major the image and unit run: the newest that engines.node allows. */
  nodeMajor: number
  /** The module `shipshape serve` runs, relative to the project, and where that was learned. */
  entry: string
  entrySource: string
  buildScript: boolean
  /** Folders of static files to collect (`shipshape collectstatic`). */
  staticSources: string[]
}

/** Current Node.js LTS lines, newest first (24 is Active LTS from October 2025, 22 maintenance). */
const ltsMajors = [24, 22]

/** Framework build outputs that export something `shipshape serve` runs, with the dependency that makes them. */
const builds: ReadonlyArray<{ dependency: string; entry: string; framework: string }> = [
  { dependency: 'next', entry: '.next/standalone/server.js', framework: 'Next.js (output: standalone)' },
  { dependency: '@sveltejs/adapter-node', entry: 'build/handler.js', framework: 'SvelteKit (adapter-node)' },
  {
    dependency: '@react-router/dev',
    entry: 'build/server/index.js',
    framework: 'React Router (framework mode)',
  },
  { dependency: '@nestjs/core', entry: 'dist/main.js', framework: 'NestJS' },
]

const usualEntries = [
  'app.js',
  'app.mjs',
  'app.ts',
  'server.js',
  'server.mjs',
  'server.ts',
  'src/app.ts',
  'src/server.ts',
  'index.js',
]

export function inspectProject(cwd: string): Project {
  const pkg = readJson(join(cwd, 'package.json'))
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) } as Record<string, string>
  const [packageManager, lockfile] = detectManager(cwd, pkg)
  const { entry, entrySource } = detectEntry(cwd, pkg, deps)
  return {
    name:
      String(pkg.name ?? 'app')
        .replace(/^@[^/]+\//, '')
        .replace(/[^a-z0-9-]/gi, '-')
        .toLowerCase() || 'app',
    packageManager,
    lockfile,
    workspaces: Array.isArray(pkg.workspaces) ? pkg.workspaces : (pkg.workspaces?.packages ?? []),
    nodeMajor:
      ltsMajors.find((major) => !pkg.engines?.node || semver.satisfies(`${major}.99.0`, pkg.engines.node)) ??
      24,
    entry,
    entrySource,
    buildScript: typeof pkg.scripts?.build === 'string',
    staticSources: ['static', 'assets'].filter((dir) => existsSync(join(cwd, dir))),
  }
}

/** The fields of package.json init reads; anything may be missing or of another type. */
interface PackageJson {
  name?: unknown
  main?: unknown
  packageManager?: unknown
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  scripts?: Record<string, unknown>
  engines?: { node?: string }
  workspaces?: string[] | { packages?: string[] }
}

function readJson(file: string): PackageJson {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return {}
  }
}

function detectManager(cwd: string, pkg: PackageJson): [PackageManager, string | undefined] {
  if (existsSync(join(cwd, 'pnpm-lock.yaml'))) return ['pnpm', 'pnpm-lock.yaml']
  if (existsSync(join(cwd, 'bun.lock'))) return ['bun', 'bun.lock']
  if (existsSync(join(cwd, 'yarn.lock'))) {
    const berry = /^__metadata:/m.test(readFileSync(join(cwd, 'yarn.lock'), 'utf8'))
    return [berry ? 'yarn' : 'yarn-classic', 'yarn.lock']
  }
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json'])
    if (existsSync(join(cwd, name))) return ['npm', name]
  // No lockfile: the packageManager field (corepack's), else npm.
  const declared = String(pkg.packageManager ?? '').split('@')[0]
  return [
    declared === 'pnpm' || declared === 'bun' ? declared : declared === 'yarn' ? 'yarn' : 'npm',
    undefined,
  ]
}

function detectEntry(
  cwd: string,
  pkg: PackageJson,
  deps: Record<string, string>,
): { entry: string; entrySource: string } {
  // The config file serve would read (the first that exists); a broken one names no entry.
  const config = shipshapeSources.files.find((file) => existsSync(join(cwd, file)))
  if (config) {
    const text = readFileSync(join(cwd, config), 'utf8')
    let app: unknown
    try {
      const parsed = config.endsWith('.json')
        ? JSON.parse(text)
        : config.endsWith('.toml')
          ? parseToml(text)
          : parseYaml(text)
      app = parsed?.server?.app
    } catch {}
    if (typeof app === 'string') return { entry: app, entrySource: `server.app in ${config}` }
  }
  const build = builds.find((candidate) => candidate.dependency in deps)
  if (build) return { entry: build.entry, entrySource: `${build.framework}'s build output` }
  if (typeof pkg.main === 'string')
    return { entry: pkg.main.replace(/^\.\//, ''), entrySource: 'package.json main' }
  const usual = usualEntries.find((file) => existsSync(join(cwd, file)))
  if (usual) return { entry: usual, entrySource: 'the usual file name' }
  return { entry: 'app.js', entrySource: 'a guess (no main, no app.js): set server.app in shipshape.yaml' }
}
