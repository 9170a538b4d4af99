/**
 * What the deploy-check tests share: real temp projects (and git repositories), and a context
 * built from a real environment resolved by the serve options table, as `shipshape check` builds it.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadServeOptions } from '../../server/index.js'
import { type CheckContext, type DeployCheck, deployChecks, Skip } from '../index.js'

const directories: string[] = []

/** Removes the projects made since the last call; for afterEach. */
export function removeProjects(): void {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
}

export function project(files: Record<string, string> = {}): string {
  const directory = mkdtempSync(join(tmpdir(), 'shipshape-check-'))
  directories.push(directory)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(directory, name, '..'), { recursive: true })
    writeFileSync(join(directory, name), text)
  }
  return directory
}

/** A project whose files are all tracked by a real git repository. */
export function gitProject(files: Record<string, string>): string {
  const cwd = project(files)
  execFileSync('git', ['init', '-q'], { cwd })
  execFileSync('git', ['add', '-A'], { cwd })
  return cwd
}

/** The production environment a well-configured deploy has. */
export const production = {
  NODE_ENV: 'production',
  SHIPSHAPE_ALLOWED_HOSTS: 'shop.example.com',
  SHIPSHAPE_ERROR_DSN: 'https://public@errors.example.com/42',
}

export function context(
  env: NodeJS.ProcessEnv = production,
  cwd = project(),
  extra: Partial<CheckContext> = {},
): CheckContext {
  let settingsProblem: string | undefined
  let settings: CheckContext['settings']
  try {
    settings = loadServeOptions('app.js', {}, { ...env }, { cwd })
  } catch (error) {
    settingsProblem = (error as Error).message
  }
  return { cwd, env, settings, settingsProblem, site: undefined, cpus: 4, ...extra }
}

function byId(id: string): DeployCheck {
  const check = deployChecks.find((item) => item.id === id)
  if (check === undefined) throw new Error(`no check ${id}`)
  return check
}

export async function findings(id: string, checkContext: CheckContext): Promise<string[]> {
  const result = await byId(id).run(checkContext)
  if (result instanceof Skip) throw new Error(`${id} skipped: ${result.reason}`)
  return result
}

export async function skipped(id: string, checkContext: CheckContext): Promise<string> {
  const result = await byId(id).run(checkContext)
  if (!(result instanceof Skip)) throw new Error(`${id} ran: ${JSON.stringify(result)}`)
  return result.reason
}

/** A random-looking key built at run time, so no test file holds a secret-shaped literal. */
export const strongKey = Array.from(
  { length: 48 },
  (_, i) => 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[(i * 37) % 57],
).join('')
