/**
 * `shipshape audit` on a lockfile of 1,000 packages with a warm cache (every packument cached, the
 * advisories asked of a local registry, as every online run does), against `npm audit
 * --package-lock-only` on the same lockfile and registry, and a bare Node start. Each is timed
 * from spawn to exit; rounds alternate. The target: at most 5 s for shipshape audit.
 * Usage: npm run bench -- audit [--rounds 7] [--packages 1000]
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { median, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, packages: { type: 'string', default: '1000' } },
  allowPositionals: true,
})
const count = Number(values.packages)
const dir = mkdtempSync(join(tmpdir(), 'shipshape-audit-bench-'))
const names = Array.from({ length: count }, (_, i) => (i % 10 === 0 ? `@bench/pkg-${i}` : `bench-pkg-${i}`))
const packages: Record<string, object> = {
  '': {
    name: 'bench',
    version: '1.0.0',
    dependencies: Object.fromEntries(names.slice(0, 100).map((n) => [n, '1.0.0'])),
  },
}
names.forEach((name, i) => {
  const children = names.slice(100 + (i % 9) * 100, 100 + (i % 9) * 100 + 3).filter((child) => child !== name)
  packages[`node_modules/${name}`] = {
    version: '1.0.0',
    resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-1.0.0.tgz`,
    integrity: `sha512-${randomBytes(64).toString('base64')}`,
    ...(i < 100 ? {} : { dev: i % 2 === 0 }),
    ...(children.length && i < 100
      ? { dependencies: Object.fromEntries(children.map((c) => [c, '1.0.0'])) }
      : {}),
  }
})
writeFileSync(
  join(dir, 'package-lock.json'),
  JSON.stringify({ name: 'bench', lockfileVersion: 3, requires: true, packages }),
)
writeFileSync(
  join(dir, 'package.json'),
  JSON.stringify({
    name: 'bench',
    version: '1.0.0',
    dependencies: (packages[''] as { dependencies: object }).dependencies,
  }),
)

// The registry: an advisory for every 50th package, and a packument for each.
const advisories = Object.fromEntries(
  names
    .filter((_, i) => i % 50 === 0)
    .map((name, i) => [
      name,
      [
        {
          id: 1_000_000 + i,
          url: `https://github.com/advisories/GHSA-bench-${i}`,
          title: 'bench advisory',
          severity: 'high',
          vulnerable_versions: '<1.0.1',
        },
      ],
    ]),
)
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    if (req.method === 'POST') {
      const raw = Buffer.concat(chunks)
      const asked = JSON.parse(
        (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString(),
      )
      const answer = Object.fromEntries(
        Object.keys(asked).flatMap((n) => (advisories[n] ? [[n, advisories[n]]] : [])),
      )
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    }
    const name = decodeURIComponent((req.url ?? '/').slice(1))
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        name,
        time: { '1.0.0': '2020-01-01T00:00:00.000Z', '1.0.1': '2020-02-01T00:00:00.000Z' },
        versions: { '1.0.0': {}, '1.0.1': {} },
      }),
    )
  })
})
await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
const registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

const cacheDir = join(dir, 'cache')
const contenders = {
  'bare node start (anchor)': [process.execPath, '-e', '0'],
  'npm audit --package-lock-only (anchor)': [
    process.execPath,
    // The npm running the bench (npm run bench), else the system's.
    process.env.npm_execpath?.endsWith('npm-cli.js')
      ? process.env.npm_execpath
      : '/usr/lib/node_modules/npm/bin/npm-cli.js',
    'audit',
    '--package-lock-only',
    '--registry',
    registry,
    '--json',
  ],
  'shipshape audit, warm cache': [
    process.execPath,
    join(root, 'dist/cli/bin.js'),
    'audit',
    '--registry',
    registry,
    '--cache-dir',
    cacheDir,
    '--format',
    'json',
  ],
} as const
type Name = keyof typeof contenders

function time([command, ...args]: readonly string[]): Promise<number> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('exit', (code) => {
      // Both audits exit 1: the lockfile has advisories.
      if (code !== 0 && code !== 1) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))
      else resolve(performance.now() - started)
    })
  })
}

const available = Object.keys(contenders) as Name[]
const cold = await time(contenders['shipshape audit, warm cache']) // fills the packument cache
const times = Object.fromEntries(available.map((name) => [name, [] as number[]])) as Record<Name, number[]>
for (let round = 0; round < Number(values.rounds); round++) {
  for (const name of round % 2 ? [...available].reverse() : available)
    times[name].push(await time(contenders[name]))
}
server.close()
rmSync(dir, { recursive: true, force: true })
const shipshape = median(times['shipshape audit, warm cache'])
printTable(
  available.map((name) => ({
    contender: name,
    [`spawn to exit (median of ${values.rounds})`]: `${Math.round(median(times[name]))} ms`,
    'vs shipshape': `${(median(times[name]) / shipshape).toFixed(2)}×`,
  })),
)
console.log(
  `\n${count} packages; first (cold cache) shipshape run: ${Math.round(cold)} ms; target ≤ 5000 ms warm: ${shipshape <= 5000 ? 'met' : 'NOT met'}`,
)
