/**
 * The release errors are recorded against, when no setting names it: the commit checked out in
 * the working directory (a real repository, made with git: a loose ref, then packed), else the
 * package's name and version; the setting, or SENTRY_RELEASE, wins over both.
 */
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../_test/temp.js'
import { loadServeOptions } from '../server/index.js'

const project = tempDir({
  'package.json': '{ "name": "shop", "version": "1.2.3", "type": "module" }',
  'app.js': 'export default (req, res) => res.end("ok")\n',
})
afterAll(() => project.remove())

const release = (env: NodeJS.ProcessEnv = {}) =>
  loadServeOptions('app.js', {}, { PATH: process.env.PATH, ...env }, { cwd: project.dir }).observe.release
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd: project.dir,
    encoding: 'utf8',
  }).trim()

describe('the default release', () => {
  it('is the checked-out commit, loose or packed, else the package version; the setting wins', () => {
    expect(release()).toBe('shop@1.2.3')
    git('init', '-q', '-b', 'main')
    git('add', '.')
    git('commit', '-q', '-m', 'first')
    const commit = git('rev-parse', 'HEAD').slice(0, 12)
    expect(release()).toBe(commit)
    git('pack-refs', '--all')
    expect(release()).toBe(commit)
    expect(release({ SENTRY_RELEASE: 'r-from-sentry' })).toBe('r-from-sentry')
    expect(release({ SHIPSHAPE_RELEASE: 'r-7' })).toBe('r-7')
  })
})
