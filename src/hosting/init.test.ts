/**
 * `shipshape init` on fixture projects: what it detects, that it never overwrites, and that what
 * it writes works: the Procfile's web: command serves, the unit passes systemd-analyze verify, the
 * Dockerfile passes a real linter and its steps replay in a clean copy of the project, the
 * Kubernetes manifest validates against the Kubernetes OpenAPI schemas.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DockerfileParser } from 'dockerfile-ast'
import { validate as lintDockerfile } from 'dockerfile-utils'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Service } from 'kubernetes-models/v1'
import { parse as parseToml } from 'smol-toml'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { cli, get, runCli, sleep } from '../_test/cli.js'
import { closedPort } from '../_test/sites.js'
import { tempDir } from '../_test/temp.js'
import { inspectProject } from './_inspect.js'
import { app, initDefaults, project, removeLater, removeProjects } from './_test/projects.js'
import { deployFileDrift, initProject } from './index.js'

const root = new URL('../../', import.meta.url).pathname
const lockfiles = new URL('./_test/lockfiles/', import.meta.url).pathname
afterAll(removeProjects)

describe('inspection', () => {
  it('finds the package manager from each lockfile, yarn 1 apart from yarn 2+', () => {
    const managers = Object.fromEntries(
      ['npm', 'pnpm', 'yarn1', 'berry', 'bun'].map((name) => [
        name,
        inspectProject(join(lockfiles, name)).packageManager,
      ]),
    )
    expect(managers).toEqual({ npm: 'npm', pnpm: 'pnpm', yarn1: 'yarn-classic', berry: 'yarn', bun: 'bun' })
  })

  it('reads workspaces, engines.node, the build script, static folders, and each framework build as the entry', () => {
    const workspace = project(
      { 'static/site.css': 'body{}' },
      {
        workspaces: ['packages/*'],
        engines: { node: '^22.12' },
        scripts: { build: 'tsc' },
        main: './dist/server.js',
      },
    )
    expect(inspectProject(workspace.dir)).toMatchObject({
      workspaces: ['packages/*'],
      nodeMajor: 22,
      buildScript: true,
      staticSources: ['static'],
      entry: 'dist/server.js',
      entrySource: 'package.json main',
    })
    const entries = Object.fromEntries(
      ['next', '@sveltejs/adapter-node', '@react-router/dev', '@nestjs/core'].map((dependency) => [
        dependency,
        inspectProject(project({}, { dependencies: { [dependency]: '*' } }).dir).entry,
      ]),
    )
    expect(entries).toEqual({
      next: '.next/standalone/server.js',
      '@sveltejs/adapter-node': 'build/handler.js',
      '@react-router/dev': 'build/server/index.js',
      '@nestjs/core': 'dist/main.js',
    })
    const configured = project(
      { 'shipshape.yaml': 'server:\n  app: src/main.ts\n' },
      { dependencies: { next: '*' } },
    )
    expect(inspectProject(configured.dir)).toMatchObject({
      entry: 'src/main.ts',
      entrySource: 'server.app in shipshape.yaml',
    })
    expect(inspectProject(project({ 'server.js': app }).dir)).toMatchObject({
      entry: 'server.js',
      nodeMajor: 24,
    })
  })
})

describe('writing', () => {
  it('writes only what is missing; --force overwrites; --dry-run prints a diff and writes nothing', () => {
    const dir = project({ Dockerfile: 'FROM mine\n', 'app.js': app }, { main: 'app.js' })
    const dry = initProject({ ...initDefaults, cwd: dir.dir, dryRun: true })
    expect(existsSync(join(dir.dir, 'Procfile'))).toBe(false)
    expect(dry.diff).toMatch(
      /^\+\+\+ b\/Procfile\n@@ -0,0 \+1,2 @@\n\+web: node node_modules\/shipshape\/dist\/cli\/bin\.js serve app\.js/m,
    )
    expect(dry.diff).not.toMatch(/b\/Dockerfile/)
    const first = initProject({ ...initDefaults, cwd: dir.dir })
    expect(first.files.find((file) => file.path === 'Dockerfile')?.action).toBe('kept')
    expect(readFileSync(join(dir.dir, 'Dockerfile'), 'utf8')).toBe('FROM mine\n')
    expect(first.files.filter((file) => file.action === 'created')).toHaveLength(9)
    const again = initProject({ ...initDefaults, cwd: dir.dir })
    expect(again.files.filter((file) => file.action === 'created')).toEqual([])
    const forcedDry = initProject({ ...initDefaults, cwd: dir.dir, force: true, dryRun: true })
    expect(forcedDry.diff).toMatch(/^-FROM mine$/m)
    initProject({ ...initDefaults, cwd: dir.dir, force: true })
    expect(readFileSync(join(dir.dir, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:24-slim AS build$/m)
  })

  it("keeps the project's shipshape.json or .toml, adding no shipshape.yaml that would hide it, and reads its server.app", () => {
    const files = {
      'shipshape.json': '{ "server": { "app": "build/api.js" } }\n',
      'shipshape.toml': '[server]\napp = "build/web.js"\n',
    }
    for (const [name, text] of Object.entries(files)) {
      const dir = project({ [name]: text }, { main: 'app.js' })
      const outcome = initProject({ ...initDefaults, cwd: dir.dir })
      expect(outcome.files[0]).toEqual({ path: name, action: 'kept' })
      expect(existsSync(join(dir.dir, 'shipshape.yaml'))).toBe(false)
      expect(outcome.project.entrySource).toBe(`server.app in ${name}`)
      expect(readFileSync(join(dir.dir, 'Procfile'), 'utf8')).toContain(
        ` serve ${name.endsWith('json') ? 'build/api.js' : 'build/web.js'} `,
      )
    }
  })

  it('fills .env.example from the settings the app declares, secrets blank (the command)', async () => {
    const dir = project(
      {
        'settings.ts': `import { defineConfig, setting } from 'shipshape/config'\nimport { z } from 'zod'\nexport const declaration = defineConfig({ apiKey: setting(z.string(), { secret: true, default: 'not-this', description: 'The API key.' }), siteName: setting(z.string(), { default: 'Site', description: 'Its name.' }) }, { envPrefix: 'APP_' })\n`,
        'app.js': app,
      },
      { main: 'app.js' },
    )
    mkdirSync(join(dir.dir, 'node_modules'))
    symlinkSync(root, join(dir.dir, 'node_modules/shipshape'))
    symlinkSync(join(root, 'node_modules/zod'), join(dir.dir, 'node_modules/zod'))
    const run = await runCli(['init'], { cwd: dir.dir })
    expect(run.stderr).toBe('')
    const sample = readFileSync(join(dir.dir, '.env.example'), 'utf8')
    expect(sample).toMatch(/^APP_SITE_NAME=Site$/m)
    expect(sample).toMatch(/^# APP_API_KEY=$/m)
    expect(sample).not.toContain('not-this')
  })

  it('runs the migrations first in the release steps when the project declares its migration command (the command)', async () => {
    const releaseOf = (dir: string) =>
      /^release: (.*)$/m.exec(readFileSync(join(dir, 'Procfile'), 'utf8'))?.[1]
    const bin = 'node node_modules/shipshape/dist/cli/bin.js'
    const without = project({ 'app.js': app }, { main: 'app.js' })
    expect((await runCli(['init'], { cwd: without.dir })).stderr).toBe('')
    expect(releaseOf(without.dir)).toBe(`${bin} check --deploy`)
    const declared = project(
      { 'app.js': app, 'shipshape.yaml': 'server:\n  app: app.js\ndatabase:\n  migrate: node migrate.js\n' },
      { main: 'app.js' },
    )
    expect((await runCli(['init'], { cwd: declared.dir })).stderr).toBe('')
    expect(releaseOf(declared.dir)).toBe(`${bin} db migrate && ${bin} check --deploy`)
    expect(readFileSync(join(declared.dir, 'fly.toml'), 'utf8')).toContain(
      `release_command = "${bin} db migrate"`,
    )
    expect(deployFileDrift(declared.dir, 30_000)).toEqual([])
  })
})

/** A project as a user would have it: the app, a build step, static files, shipshape installed by npm from a lockfile. */
function realProject() {
  const dir = project(
    {
      'src/app.js': app,
      'build.mjs': `import { cpSync } from 'node:fs'\ncpSync('src', 'dist', { recursive: true })\n`,
      'static/site.css': 'body { color: navy }\n',
    },
    {
      main: 'dist/app.js',
      scripts: { build: 'node build.mjs' },
      dependencies: { shipshape: `file:${root}` },
    },
  )
  const npm = process.env.npm_execpath?.endsWith('npm-cli.js')
    ? process.env.npm_execpath
    : '/usr/lib/node_modules/npm/bin/npm-cli.js'
  execFileSync(
    process.execPath,
    [npm, 'install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'],
    {
      cwd: dir.dir,
      stdio: 'ignore',
    },
  )
  initProject({ ...initDefaults, cwd: dir.dir })
  return { dir: dir.dir, npm }
}

const env = (extra: Record<string, string>) => ({
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
  ...extra,
})

describe('validation', () => {
  it("the Procfile's web: command starts the app and answers on $PORT", async () => {
    const { dir } = realProject()
    execFileSync(
      process.execPath,
      [
        process.env.npm_execpath ?? '/usr/lib/node_modules/npm/bin/npm-cli.js',
        'ci',
        '--no-audit',
        '--no-fund',
      ],
      { cwd: dir, stdio: 'ignore', env: env({}) },
    )
    execFileSync(process.execPath, ['build.mjs'], { cwd: dir })
    execFileSync(process.execPath, [cli, 'collectstatic', 'static', '--static-root', 'staticfiles'], {
      cwd: dir,
      stdio: 'ignore',
    })
    const web = /^web: (.*)$/m.exec(readFileSync(join(dir, 'Procfile'), 'utf8'))?.[1] as string
    const port = await closedPort()
    const child = spawn('sh', ['-c', `exec ${web}`], {
      cwd: dir,
      env: env({ PORT: String(port) }),
      stdio: 'ignore',
    })
    try {
      let reply = await get(`http://127.0.0.1:${port}/livez`).catch(() => undefined)
      for (let i = 0; i < 200 && reply?.status !== 200; i++) {
        await sleep(100)
        reply = await get(`http://127.0.0.1:${port}/livez`).catch(() => undefined)
      }
      expect(reply?.status).toBe(200)
      expect((await get(`http://127.0.0.1:${port}/hi`)).body).toBe('hello from /hi')
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('the systemd unit passes systemd-analyze verify, with no warning', () => {
    const { dir } = realProject()
    const unit = join(dir, 'deploy/fixture-app.service')
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
    expect(verify.error, 'systemd-analyze is missing: apt-get install systemd').toBeUndefined()
    expect(verify.stderr).toBe('')
    expect(verify.status).toBe(0)
    const text = readFileSync(unit, 'utf8')
    expect(text).toMatch(/^User=fixture-app$/m)
    expect(text).toMatch(/^TimeoutStopSec=45$/m)
    expect(text).not.toMatch(/^MemoryDenyWriteExecute/m)
  })

  it('MemoryDenyWriteExecute would stop Node at start-up: the same W^X rule, set with prctl(PR_SET_MDWE), aborts V8', () => {
    const scratch = tempDir({
      'mdwe.c': `#include <sys/prctl.h>\n#include <unistd.h>\nint main(int argc, char **argv) { if (prctl(65, 1, 0, 0, 0) != 0) return 125; execv(argv[1], argv + 1); return 126; }\n`,
    })
    removeLater(scratch)
    const compiled = spawnSync('cc', ['-o', join(scratch.dir, 'mdwe'), join(scratch.dir, 'mdwe.c')])
    expect(compiled.error, 'a C compiler (apt-get install gcc)').toBeUndefined()
    const jit = spawnSync(join(scratch.dir, 'mdwe'), [process.execPath, '-e', 'console.log(1)'], {
      encoding: 'utf8',
    })
    expect(jit.status === 125 ? 'kernel without PR_SET_MDWE' : jit.signal).toBe('SIGTRAP')
    expect(jit.stderr).toMatch(/SetPermissions/)
    const jitless = spawnSync(
      join(scratch.dir, 'mdwe'),
      [process.execPath, '--jitless', '-e', 'console.log(1)'],
      { encoding: 'utf8' },
    )
    expect(jitless.stdout).toBe('1\n')
  })

  it('the Dockerfile passes dockerfile-utils, and its steps replay in a clean copy of the project: the image serves and its HEALTHCHECK passes', async () => {
    const { dir } = realProject()
    const text = readFileSync(join(dir, 'Dockerfile'), 'utf8')
    expect(lintDockerfile(text).map((problem) => problem.message)).toEqual([])
    const instructions = DockerfileParser.parse(text).getInstructions()
    const arg = (keyword: string) => instructions.filter((i) => i.getKeyword() === keyword)
    expect(arg('FROM').map((i) => i.getArgumentsContent())).toEqual(['node:24-slim AS build', 'node:24-slim'])
    // The build context is the project as .dockerignore leaves it. Stages are directories at the
    // project's depth, so that the lockfile's relative file: link to shipshape still resolves.
    const ignored = readFileSync(join(dir, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('!'))
    const kept = (path: string) => !ignored.some((pattern) => path === join(dir, pattern))
    const build = mkdtempSync(join(tmpdir(), 'shipshape-build-'))
    const runtime = mkdtempSync(join(tmpdir(), 'shipshape-runtime-'))
    removeLater({
      remove: () => {
        for (const path of [build, runtime]) rmSync(path, { recursive: true, force: true })
      },
    })
    const [, runtimeFrom] = arg('FROM')
    for (const instruction of instructions) {
      if (instruction.getRange().start.line >= (runtimeFrom?.getRange().start.line ?? 0)) break
      const content = instruction.getArgumentsContent() as string
      if (instruction.getKeyword() === 'COPY') {
        const sources = content.split(' ').slice(0, -1)
        for (const source of sources) {
          const name = source.replace(/\*$/, '')
          if (source === '.') cpSync(dir, build, { recursive: true, filter: kept })
          else if (existsSync(join(dir, name))) cpSync(join(dir, name), join(build, name))
        }
      } else if (instruction.getKeyword() === 'RUN') {
        const run = spawnSync('sh', ['-c', content], { cwd: build, env: env({}), encoding: 'utf8' })
        expect(run.status, `RUN ${content}\n${run.stderr}`).toBe(0)
      }
    }
    expect(existsSync(join(build, 'dist/app.js'))).toBe(true)
    expect(existsSync(join(build, 'staticfiles'))).toBe(true)
    // COPY --from=build /app ./ then CMD, with the ENV of the runtime stage.
    cpSync(build, runtime, { recursive: true, verbatimSymlinks: true })
    const cmd = JSON.parse(String(arg('CMD')[0]?.getArgumentsContent()).trim()) as string[]
    expect(cmd.slice(0, 3)).toEqual(['node', 'node_modules/shipshape/dist/cli/bin.js', 'serve'])
    const port = await closedPort()
    const server = spawn(process.execPath, cmd.slice(1), {
      cwd: runtime,
      env: env({ NODE_ENV: 'production', PORT: String(port) }),
      stdio: 'ignore',
    })
    try {
      const health = JSON.parse(/HEALTHCHECK .* CMD (\[.*\])$/m.exec(text)?.[1] as string) as string[]
      let code: number | null = 1
      for (let i = 0; i < 200 && code !== 0; i++) {
        await sleep(100)
        code = spawnSync(process.execPath, health.slice(1), { env: env({ PORT: String(port) }) }).status
      }
      expect(code).toBe(0)
      expect((await get(`http://127.0.0.1:${port}/x`)).body).toBe('hello from /x')
    } finally {
      server.kill('SIGTERM')
    }
  })

  it('each package manager gets its frozen-lockfile install and production prune, and a Dockerfile the linter passes', () => {
    const installs = Object.fromEntries(
      ['npm', 'pnpm', 'yarn1', 'berry', 'bun'].map((name) => {
        const copy = tempDir()
        removeLater(copy)
        cpSync(join(lockfiles, name), copy.dir, { recursive: true })
        initProject({ ...initDefaults, cwd: copy.dir })
        const text = readFileSync(join(copy.dir, 'Dockerfile'), 'utf8')
        expect(lintDockerfile(text).map((problem) => problem.message)).toEqual([])
        return [name, [...text.matchAll(/^RUN (.*)$/gm)].map((match) => match[1])]
      }),
    )
    expect(installs).toEqual({
      npm: ['npm ci', 'npm prune --omit=dev'],
      pnpm: ['corepack enable', 'pnpm install --frozen-lockfile', 'pnpm prune --prod'],
      yarn1: [
        'yarn install --frozen-lockfile',
        'yarn install --frozen-lockfile --production --ignore-scripts --prefer-offline',
      ],
      berry: ['corepack enable', 'yarn install --immutable', 'yarn workspaces focus --all --production'],
      bun: [
        'npm install --global bun@1',
        'bun install --frozen-lockfile',
        'rm -rf node_modules && bun install --frozen-lockfile --production',
      ],
    })
  })

  it('the Kubernetes manifest validates against the Kubernetes schemas; fly.toml, Kamal and the workflow parse and point at the health endpoints', () => {
    const { dir } = realProject()
    const [deployment, service] = parseAllDocuments(
      readFileSync(join(dir, 'deploy/kubernetes.yaml'), 'utf8'),
    ).map((doc) => doc.toJS())
    expect(() => new Deployment(deployment).validate()).not.toThrow()
    expect(() => new Service(service).validate()).not.toThrow()
    const pod = deployment.spec.template.spec
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30 + 5)
    expect(pod.containers[0].livenessProbe.httpGet.path).toBe('/livez')
    expect(pod.containers[0].readinessProbe.httpGet.path).toBe('/readyz')
    expect(() =>
      new Deployment({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } }).validate(),
    ).toThrow()
    const fly = parseToml(readFileSync(join(dir, 'fly.toml'), 'utf8')) as Record<string, unknown>
    expect(fly).toMatchObject({
      kill_signal: 'SIGTERM',
      kill_timeout: 35,
      http_service: { checks: [{ path: '/readyz' }] },
    })
    const kamal = parseYaml(readFileSync(join(dir, 'config/deploy.yml'), 'utf8'))
    expect(kamal.proxy.healthcheck).toEqual({ path: '/livez', interval: 1, timeout: 5 })
    const workflow = parseYaml(readFileSync(join(dir, '.github/workflows/ci.yml'), 'utf8'))
    const steps = workflow.jobs.test.steps.map((step: { run?: string }) => step.run).filter(Boolean)
    expect(steps).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/check --deploy/),
        expect.stringMatching(/audit --omit dev/),
      ]),
    )
  })
})
