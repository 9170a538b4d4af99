/**
 * `shipshape init`: writes the deploy files a project lacks. An existing file is never
 * overwritten unless forced (it is the user's now); a dry run prints, as a unified diff, what
 * would change and writes nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createTwoFilesPatch } from 'diff'
import { shipshapeSources } from '../types.js'
import { type DeployOptions, deployFiles } from './_deploy-files.js'
import { inspectProject, type Project } from './_inspect.js'

export interface InitOptions extends DeployOptions {
  cwd: string
  force: boolean
  dryRun: boolean
}

export interface InitOutcome {
  project: Project
  files: Array<{ path: string; action: 'created' | 'overwritten' | 'kept' | 'unchanged' }>
  /** The dry run's unified diff ('' when nothing would change). */
  diff: string
}

export function initProject(options: InitOptions): InitOutcome {
  const project = inspectProject(options.cwd)
  const files: InitOutcome['files'] = []
  let diff = ''
  // The project's own config file, of whichever format: a shipshape.yaml beside a shipshape.json
  // would be read first (serve tries them in order) and hide it.
  const ownConfig = shipshapeSources.files.find((name) => existsSync(join(options.cwd, name)))
  for (const [path, text] of deployFiles(project, options)) {
    if (path === 'shipshape.yaml' && ownConfig !== undefined && ownConfig !== path) {
      files.push({ path: ownConfig, action: 'kept' })
      continue
    }
    const target = join(options.cwd, path)
    const existing = existsSync(target) ? readFileSync(target, 'utf8') : undefined
    if (existing === text) {
      files.push({ path, action: 'unchanged' })
      continue
    }
    if (existing !== undefined && !options.force) {
      files.push({ path, action: 'kept' })
      continue
    }
    files.push({ path, action: existing === undefined ? 'created' : 'overwritten' })
    if (options.dryRun) {
      diff += createTwoFilesPatch(
        existing === undefined ? '/dev/null' : `a/${path}`,
        `b/${path}`,
        existing ?? '',
        text,
        '',
        '',
        {
          context: 3,
        },
      ).replace(/^=+\n/, '')
      continue
    }
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, text)
  }
  return { project, files, diff }
}
