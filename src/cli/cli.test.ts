import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cli, get, type Running, ready, runCli, startServe } from '../_test/cli.js'
import { tempDir } from '../_test/temp.js'
import { commands } from './_commands.js'
import { describeFailure } from './_failure.js'

const recorder = new URL('./_test/record-loads.mjs', import.meta.url).pathname
const dist = new URL('../../dist/', import.meta.url).href

let temp: ReturnType<typeof tempDir> | undefined
let server: Running | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
  temp?.remove()
  temp = undefined
})

/** Environment that makes the real CLI (and each worker it forks) record the modules it loads. */
function recording(): { env: Record<string, string>; loadedBy(pid?: number): string[] } {
  temp ??= tempDir()
  const file = join(temp.dir, 'loads.txt')
  writeFileSync(file, '')
  return {
    env: { NODE_OPTIONS: `--import=${recorder}`, RECORD_LOADS_FILE: file },
    loadedBy(pid) {
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line && (pid === undefined || line.startsWith(`${pid} `)))
        .map((line) => line.slice(line.indexOf(' ') + 1))
        .filter((url) => url.startsWith(dist))
        .map((url) => url.slice(dist.length))
    },
  }
}

const commandModules = commands.map((entry) => `cli/${entry.name}.js`)

describe('shipshape (the CLI)', () => {
  it('--version and --help import no command and no capability but the error catalogue', async () => {
    for (const args of [['--version'], ['--help']]) {
      const { env, loadedBy } = recording()
      const result = await runCli(args, { env: { ...process.env, ...env } })
      expect(result.status, result.stderr).toBe(0)
      expect(loadedBy().sort()).toEqual(
        ['cli/bin.js', 'cli/_main.js', 'cli/_commands.js', 'cli/_failure.js', 'errors/index.js'].sort(),
      )
    }
  })

  it('`<command> --help` imports that command only', async () => {
    const { env, loadedBy } = recording()
    const result = await runCli(['reload', '--help'], { env: { ...process.env, ...env } })
    expect(result.stdout).toContain('Usage: shipshape reload')
    const loaded = loadedBy()
    expect(loaded.filter((path) => commandModules.includes(path))).toEqual(['cli/reload.js'])
  })

  it('the registry loads every command, and each help names its own command', async () => {
    for (const entry of commands) {
      const { command } = await entry.load()
      expect(command.help).toContain(`Usage: shipshape ${entry.name}`)
    }
  })

  it('the primary of `serve` loads neither the deploy checks, the Observatory nor collectstatic', async () => {
    const { env, loadedBy } = recording()
    temp?.write('package.json', '{ "type": "module" }')
    const app = temp?.write('app.js', "export default (req, res) => res.end('ok')\n") as string
    server = await startServe([app, '--workers', '1'], env)
    await ready(server, 1)
    expect((await get(`${server.url}/readyz`)).status).toBe(200)
    const primary = loadedBy(server.child.pid)
    expect(primary).toContain('server/_primary.js') // the recording sees the primary's modules
    // checks/ declares a settings group the primary composes; its checks stay unloaded.
    const heavy = primary.filter((module) =>
      /^(checks\/(?!_?settings\.js$)|scan\/|static\/_collect\.js$)/.test(module),
    )
    expect(heavy).toEqual([])
    const all = loadedBy()
    expect(all.length).toBeGreaterThan(primary.length) // and the worker's, recorded under its own pid
  })

  it('a usage error exits 2 in every command, naming the argument, without a stack', async () => {
    const usage: [string[], string][] = [
      [['serve', 'a.js', 'b.js'], 'unexpected argument b.js'],
      [['check', 'a.js', 'b.js'], 'unexpected argument b.js'],
      [['scan', 'a.example', 'b.example'], 'unexpected argument b.example'],
      [['scan'], 'no URL or host name to scan'],
      [['config', 'shwo'], 'got shwo'],
      [['serve', '--workers'], "option '--workers <value>' argument missing"],
      ...commands.map((entry): [string[], string] => [
        [entry.name, '--no-such-option'],
        "unknown option '--no-such-option'",
      ]),
    ]
    const results = await Promise.all(usage.map(([args]) => runCli(args)))
    for (const [index, [args, named]] of usage.entries()) {
      const result = results[index] as Awaited<ReturnType<typeof runCli>>
      expect(result.status, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toContain('[SHIPSHAPE_E_USAGE]')
      expect(result.stderr, args.join(' ')).toContain(named)
      expect(result.stderr, args.join(' ')).toContain(`\`shipshape ${args[0]} --help\``)
      expect(result.stderr, args.join(' ')).not.toMatch(/^\s+at /m)
    }
    for (const typed of ['serv', 'sevre']) {
      const typo = await runCli([typed])
      expect(typo.stderr, typed).toContain('Did you mean "serve"?')
      expect(typo.status).toBe(2)
    }
    expect((await runCli([])).status).toBe(2)
  })

  it('an error of shipshape shows its cause and fix but no stack; any other error keeps its stack', async () => {
    temp = tempDir({ 'settings.mjs': "import 'no-such-package'\n" })
    const result = await runCli(['config', 'show', '--module', 'settings.mjs'], { cwd: temp.dir })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('--module: settings.mjs could not be imported')
    expect(result.stderr).toContain("because: Cannot find package 'no-such-package'")
    expect(result.stderr).not.toMatch(/^\s+at /m)
    expect(describeFailure('serve', new TypeError('a bug'))).toMatch(/^\s+at /m)
  })
})

/** The first `node` on PATH older than the supported minimum (the machine's own), if any. */
function oldNode(): string | undefined {
  const candidates = execFileSync('sh', ['-c', 'which -a node || true'], { encoding: 'utf8' }).split('\n')
  return candidates.find((path) => {
    if (!path) return false
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim()
    return /^v(\d+)\./.test(version) && Number(/^v(\d+)/.exec(version)?.[1]) < 22
  })
}

describe('shipshape on an unsupported Node', () => {
  it('says which Node it needs and exits 2, before loading anything else', () => {
    // This machine's own Node (Debian's, v20) is older than engines allows; the repo pins 24.
    const node = oldNode()
    expect(node, 'a Node older than 22 on PATH (the machine’s own)').toBeDefined()
    const { engines } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    const needed = String(engines.node).replace('>=', '')
    for (const args of [['--version'], ['serve', 'app.ts']]) {
      const result = spawnSync(node as string, [cli, ...args], { encoding: 'utf8' })
      expect(result.status).toBe(2)
      expect(result.stderr).toContain('[SHIPSHAPE_E_NODE_VERSION]')
      expect(result.stderr).toContain(`shipshape needs ${needed} or later`)
      expect(result.stdout).toBe('')
    }
  })
})

describe('shipshape serve, before it listens', () => {
  const app = "import { createServer } from 'node:http'\nexport default (req, res) => res.end('ok')\n"

  it('names the fix when an ES module app sits in a "type": "commonjs" package', async () => {
    for (const name of ['app.js', 'app.ts']) {
      temp = tempDir({
        // What `npm init -y` writes today.
        'package.json': JSON.stringify({ name: 'fresh', version: '1.0.0', type: 'commonjs' }),
        [name]: app,
      })
      const result = await runCli(['serve', name, '--bind', '127.0.0.1:0'], { cwd: temp.dir })
      expect(result.status, result.stderr).toBe(1)
      expect(result.stderr).toContain('[SHIPSHAPE_E_APP_FORMAT]')
      expect(result.stderr).toContain(`${join(temp.dir, 'package.json')} says "type": "commonjs"`)
      expect(result.stderr).toContain('"type": "module"')
      expect(result.stdout).not.toContain('listening')
      temp.remove()
      temp = undefined
    }
  })

  it('says a TypeScript app needs a Node.js that strips types, when this one does not', async () => {
    temp = tempDir({ 'package.json': '{ "type": "module" }', 'app.ts': app })
    const env = { ...process.env, NODE_OPTIONS: '--no-experimental-strip-types' }
    const result = await runCli(['serve', 'app.ts', '--bind', '127.0.0.1:0'], { cwd: temp.dir, env })
    expect(result.status, result.stderr).toBe(2)
    expect(result.stderr).toContain('[SHIPSHAPE_E_NODE_VERSION]')
    expect(result.stderr).toContain('that needs Node.js 22.18 or later')
    expect(result.stdout).not.toContain('listening')
  })

  it('starts the same app as .mjs, or in a package without "type" (Node detects the syntax)', async () => {
    for (const [name, pkg] of [
      ['app.mjs', { type: 'commonjs' }],
      ['app.js', {}],
    ] as const) {
      temp = tempDir({ 'package.json': JSON.stringify(pkg), [name]: app })
      server = await startServe([join(temp.dir, name), '--workers', '1'])
      await ready(server, 1)
      expect((await get(`${server.url}/`)).body).toBe('ok')
      await server.stop()
      server = undefined
      temp.remove()
      temp = undefined
    }
  })

  it('a CommonJS app in a "type": "commonjs" package passes the pre-flight', async () => {
    temp = tempDir({
      'package.json': '{ "type": "commonjs" }',
      'app.js': "module.exports = (req, res) => res.end('cjs')\n",
    })
    server = await startServe([join(temp.dir, 'app.js'), '--workers', '1'])
    await ready(server, 1)
    expect((await get(`${server.url}/`)).body).toBe('cjs')
  })
})
