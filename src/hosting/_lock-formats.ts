/**
 * The five lockfile formats, each read with its own parser (JSON, `yaml`, @yarnpkg/lockfile,
 * jsonc-parser) into one dependency graph: nodes with their dependencies, and the roots the
 * project's dependencies and devDependencies are. _lockfiles.ts walks it.
 */
import { parse as parseYarnV1 } from '@yarnpkg/lockfile'
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser'
import { parse as parseYaml } from 'yaml'
import { ShipshapeError } from '../errors/index.js'
import type { LockedPackage, LockFormat } from './_lockfiles.js'

interface Node extends Omit<LockedPackage, 'dev' | 'path'> {
  deps: string[]
}

export interface Graph {
  nodes: Map<string, Node>
  prodRoots: string[]
  devRoots: string[]
}

export interface Manifest {
  dependencies: string[]
  devDependencies: string[]
  /** name → range, for yarn, whose lockfile keys are `name@range`. */
  ranges: Map<string, string>
}

type Reader = (text: string, manifest: Manifest) => Graph
type Json = Record<string, unknown>
const record = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {})
const depNames = (entry: Json) => [
  ...Object.keys(record(entry.dependencies)),
  ...Object.keys(record(entry.optionalDependencies)),
]

/** package-lock.json and npm-shrinkwrap.json, lockfileVersion 2 and 3 (`packages`, keyed by install path). */
const npm: Reader = (text) => {
  const lock = JSON.parse(text)
  const packages = record(lock.packages)
  if (Object.keys(packages).length === 0)
    throw new ShipshapeError(
      'SHIPSHAPE_E_LOCKFILE',
      'this package-lock.json has no "packages" (lockfileVersion 1, npm 6): run npm install with npm 7 or later to upgrade it',
    )
  const nodes = new Map<string, Node>()
  // Node's resolution: the nearest node_modules/<name> up from the dependent's own folder.
  const locate = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`
      if (candidate in packages) return candidate
      if (base === '') return undefined
      const cut = base.lastIndexOf('/node_modules/')
      base = cut === -1 ? '' : base.slice(0, cut)
    }
  }
  const rootsOf = (key: string, field: string) =>
    Object.keys(record(record(packages[key])[field])).flatMap((name) => locate(key, name) ?? [])
  const prodRoots: string[] = []
  const devRoots: string[] = []
  for (const [key, raw] of Object.entries(packages)) {
    const entry = record(raw)
    const local = !key.includes('node_modules/') || entry.link === true
    if (!key.includes('node_modules/')) {
      // The project, and each workspace folder: their dependencies are the roots.
      prodRoots.push(...rootsOf(key, 'dependencies'), ...rootsOf(key, 'optionalDependencies'))
      devRoots.push(...rootsOf(key, 'devDependencies'))
      if (key === '') continue
    }
    const name = (entry.name as string | undefined) ?? key.slice(key.lastIndexOf('node_modules/') + 13)
    const target = entry.link === true ? (entry.resolved as string) : key
    nodes.set(key, {
      name,
      version: String(entry.version ?? record(packages[target]).version ?? ''),
      resolved: local ? undefined : (entry.resolved as string | undefined),
      integrity: entry.integrity as string | undefined,
      specifier: entry.resolved as string | undefined,
      local,
      installScript: local ? false : entry.hasInstallScript === true,
      deps: entry.link === true ? [target] : depNames(entry).flatMap((dep) => locate(key, dep) ?? []),
    })
  }
  return { nodes, prodRoots, devRoots }
}

/** pnpm-lock.yaml: lockfile 6 (`/name@version` keys) and 9 (`packages` plus `snapshots`). */
const pnpm: Reader = (text) => {
  const lock = record(parseYaml(text))
  const packages = record(lock.packages)
  const snapshots = lock.snapshots ? record(lock.snapshots) : packages
  const nodes = new Map<string, Node>()
  const idOf = (name: string, version: string) => {
    if (version.startsWith('link:') || version.startsWith('file:')) return `${name}@${version}`
    if (`${name}@${version}` in snapshots) return `${name}@${version}`
    if (`/${name}@${version}` in snapshots) return `/${name}@${version}`
    // A dependency aliased or resolved elsewhere: the version field is then the full key.
    if (version in snapshots) return version
    return `/${version}` in snapshots ? `/${version}` : `${name}@${version}`
  }
  const edges = (entry: Json) =>
    Object.entries({ ...record(entry.dependencies), ...record(entry.optionalDependencies) }).map(([dep, v]) =>
      idOf(dep, String(v)),
    )
  for (const [key, raw] of Object.entries(snapshots)) {
    const snapshot = record(raw)
    const bare = key.replace(/\(.*$/, '')
    const meta = record(packages[bare] ?? packages[key] ?? snapshot)
    const resolution = record(meta.resolution)
    const at = bare.indexOf('@', bare.startsWith('/@') ? 2 : bare.startsWith('@') ? 1 : 0)
    const name = (meta.name as string | undefined) ?? bare.slice(bare.startsWith('/') ? 1 : 0, at)
    const tarball = resolution.tarball as string | undefined
    const git = resolution.type === 'git' ? `git+${resolution.repo}#${resolution.commit}` : undefined
    nodes.set(key, {
      name,
      version: (meta.version as string | undefined) ?? bare.slice(at + 1),
      resolved: git ?? tarball,
      integrity: resolution.integrity as string | undefined,
      specifier: git ?? tarball,
      local: resolution.type === 'directory',
      installScript: meta.requiresBuild === true ? true : undefined,
      deps: edges(snapshot),
    })
  }
  const prodRoots: string[] = []
  const devRoots: string[] = []
  const importers = lock.importers ? record(lock.importers) : { '.': lock }
  for (const importer of Object.values(importers).map(record)) {
    for (const field of ['dependencies', 'optionalDependencies', 'devDependencies']) {
      for (const [name, spec] of Object.entries(record(importer[field]))) {
        const version = typeof spec === 'string' ? spec : String(record(spec).version)
        if (version.startsWith('link:')) continue // a workspace package: its own importer lists its deps
        ;(field === 'devDependencies' ? devRoots : prodRoots).push(idOf(name, version))
      }
    }
  }
  return { nodes, prodRoots, devRoots }
}

/** Splits `name@range` (the name may be scoped) at the last `@` that is not the first character. */
function splitDescriptor(descriptor: string): [string, string] {
  const at = descriptor.indexOf('@', 1)
  return [descriptor.slice(0, at), descriptor.slice(at + 1)]
}

/** yarn.lock of yarn 1 (its own format, read by @yarnpkg/lockfile). */
const yarn1: Reader = (text, manifest) => {
  const parsed = parseYarnV1(text)
  if (parsed.type !== 'success') throw new Error(`yarn.lock has merge conflicts (${parsed.type})`)
  const entries = parsed.object as unknown as Record<string, Json>
  const ids = new Map<Json, string>()
  const nodes = new Map<string, Node>()
  for (const [descriptor, entry] of Object.entries(entries)) {
    const [name] = splitDescriptor(descriptor)
    let id = ids.get(entry)
    if (id === undefined) {
      id = `${name}@${entry.version}`
      ids.set(entry, id)
      const resolved = entry.resolved as string | undefined
      nodes.set(id, {
        name,
        version: String(entry.version),
        resolved,
        integrity: entry.integrity as string | undefined,
        specifier: resolved,
        local: resolved?.startsWith('file:') === true,
        installScript: undefined,
        deps: [],
      })
    }
  }
  for (const [entry, id] of ids) {
    const node = nodes.get(id) as Node
    node.deps = Object.entries({
      ...record(entry.dependencies),
      ...record(entry.optionalDependencies),
    }).flatMap(([dep, range]) => {
      const target = entries[`${dep}@${range}`]
      return target ? [ids.get(target) as string] : []
    })
  }
  const rootOf = (name: string) => {
    const target = entries[`${name}@${manifest.ranges.get(name)}`]
    return target ? [ids.get(target) as string] : []
  }
  return {
    nodes,
    prodRoots: manifest.dependencies.flatMap(rootOf),
    devRoots: manifest.devDependencies.flatMap(rootOf),
  }
}

/** yarn.lock of yarn 2 and later (berry): YAML, keyed by `name@npm:range, …`, workspaces included. */
const berry: Reader = (text, manifest) => {
  const lock = record(parseYaml(text))
  const byDescriptor = new Map<string, string>()
  const nodes = new Map<string, Node>()
  const workspaceIds: string[] = []
  for (const [key, raw] of Object.entries(lock)) {
    if (key === '__metadata') continue
    const entry = record(raw)
    const resolution = String(entry.resolution ?? key.split(', ')[0])
    const [name, reference] = splitDescriptor(resolution)
    for (const descriptor of key.split(/,\s*/)) byDescriptor.set(descriptor, resolution)
    const local = /^(workspace|portal|link|file):/.test(reference)
    if (reference.startsWith('workspace:')) workspaceIds.push(resolution)
    const remote = reference.startsWith('npm:') ? undefined : reference.replace(/^patch:.*$/, '')
    nodes.set(resolution, {
      name,
      version: String(entry.version),
      resolved: local || remote === '' ? undefined : remote,
      integrity: entry.checksum as string | undefined,
      specifier: reference,
      local,
      installScript: undefined,
      deps: Object.entries({ ...record(entry.dependencies), ...record(entry.optionalDependencies) }).map(
        ([dep, range]) => `${dep}@${range}`,
      ),
    })
  }
  for (const node of nodes.values()) node.deps = node.deps.flatMap((d) => byDescriptor.get(d) ?? [])
  // A workspace lists its dev dependencies with the others: package.json tells them apart.
  const rootDeps = workspaceIds.flatMap((id) => nodes.get(id)?.deps ?? [])
  const dev = new Set(manifest.devDependencies)
  return {
    nodes,
    prodRoots: rootDeps.filter((id) => !dev.has(nodes.get(id)?.name ?? '')),
    devRoots: rootDeps.filter((id) => dev.has(nodes.get(id)?.name ?? '')),
  }
}

/** bun.lock (text, JSON with comments and trailing commas): `packages` keyed by install path. */
const bun: Reader = (text) => {
  const errors: ParseError[] = []
  const lock = record(parseJsonc(text, errors, { allowTrailingComma: true }))
  if (errors.length > 0)
    throw new Error(`${printParseErrorCode(errors[0]?.error as number)} at offset ${errors[0]?.offset}`)
  const packages = record(lock.packages)
  const locate = (from: string, name: string): string | undefined => {
    for (let base = from; ; base = base.includes('/') ? base.slice(0, base.lastIndexOf('/')) : '') {
      const candidate = base === '' ? name : `${base}/${name}`
      if (candidate in packages) return candidate
      if (base === '') return undefined
    }
  }
  const nodes = new Map<string, Node>()
  for (const [key, raw] of Object.entries(packages)) {
    const tuple = Array.isArray(raw) ? raw : []
    const [name, reference] = splitDescriptor(String(tuple[0]))
    const local = /^(workspace|link|file):/.test(reference)
    // [descriptor, registry URL ('' for the default), info, integrity] for registry packages;
    // [descriptor, info] or [descriptor, info, commit] for tarballs and git.
    const fromRegistry = typeof tuple[1] === 'string'
    const info = record(fromRegistry ? tuple[2] : tuple[1])
    const registry = fromRegistry ? (tuple[1] as string) : ''
    nodes.set(key, {
      name,
      version: fromRegistry ? reference : String(info.version ?? reference),
      resolved: fromRegistry
        ? registry === ''
          ? undefined
          : `${registry.replace(/\/$/, '')}/${name}/-/${name.split('/').pop()}-${reference}.tgz`
        : local
          ? undefined
          : reference,
      integrity: fromRegistry ? (tuple[3] as string | undefined) : undefined,
      specifier: fromRegistry ? undefined : reference,
      local,
      // bun records it from the registry's manifest, as npm does.
      installScript: info.hasInstallScript === true,
      deps: depNames(info).flatMap((dep) => locate(key, dep) ?? []),
    })
  }
  const prodRoots: string[] = []
  const devRoots: string[] = []
  for (const workspace of Object.values(record(lock.workspaces)).map(record)) {
    prodRoots.push(...depNames(workspace).flatMap((name) => locate('', name) ?? []))
    devRoots.push(...Object.keys(record(workspace.devDependencies)).flatMap((name) => locate('', name) ?? []))
  }
  return { nodes, prodRoots, devRoots }
}

export const readers: Record<LockFormat, Reader> = {
  npm,
  pnpm,
  'yarn-v1': yarn1,
  'yarn-berry': berry,
  bun,
}
