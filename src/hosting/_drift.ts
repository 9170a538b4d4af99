/**
 * The deploy files as they are now (init wrote them, people edited them): the ways they drift
 * into losing requests on a deploy. A start command through npm or npx (SIGTERM may not reach
 * the server), a unit without a user of its own or with MemoryDenyWriteExecute (Node aborts), and
 * a platform stop timeout at or below the graceful timeout (the platform SIGKILLs a drain that was
 * on time). Each finding names the file and the line to change.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { shipshapeBin } from './_deploy-files.js'

const throughRunner = /(^|[\s"'[,])(npm|npx|pnpm|yarn|bun|bunx)(["'\s,\]]|$)/

/** Platform stop timeouts, when a file leaves them unset. */
const defaults = { kubernetesGraceS: 30, flyKillS: 5, kamalDrainS: 30, herokuKillS: 30 }

export function deployFileDrift(cwd: string, gracefulTimeoutMs: number): string[] {
  const graceful = gracefulTimeoutMs / 1000
  const findings: string[] = []
  const read = (path: string) =>
    existsSync(join(cwd, path)) ? readFileSync(join(cwd, path), 'utf8') : undefined
  const above = (file: string, what: string, seconds: number, margin = 0) => {
    if (seconds <= graceful + margin)
      findings.push(
        `${file}: ${what} is ${seconds} s, not above the graceful timeout (${graceful} s${margin ? ` + ${margin} s` : ''}): the platform kills a drain that is on time`,
      )
  }

  const dockerfile = read('Dockerfile')
  if (dockerfile !== undefined) {
    const start = [...dockerfile.matchAll(/^(CMD|ENTRYPOINT)\s+(.*)$/gim)].at(-1)
    if (start && throughRunner.test(start[2] as string))
      findings.push(
        `Dockerfile: ${start[1]} runs the server through a package manager (${start[2]}): run ["node", "${shipshapeBin}", "serve", …] so that docker stop's SIGTERM reaches it`,
      )
    else if (start && !(start[2] as string).trim().startsWith('['))
      findings.push(
        `Dockerfile: ${start[1]} is in shell form: /bin/sh becomes PID 1 and does not pass SIGTERM on; use the exec form ["node", …]`,
      )
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gim)].map((match) => match[1])
    if (users.length === 0 || users.at(-1) === 'root' || users.at(-1) === '0')
      findings.push('Dockerfile: the server runs as root (no USER in the last stage): add USER node')
  }

  const procfile = read('Procfile')
  const web = procfile && /^web:\s*(.*)$/m.exec(procfile)?.[1]
  if (web) {
    if (throughRunner.test(web))
      findings.push(
        `Procfile: web: goes through a package manager (${web}): run node ${shipshapeBin} serve … directly`,
      )
    const flag = /--graceful-timeout[= ](\d+)s?\b/.exec(web)?.[1]
    const seconds = flag === undefined ? graceful : Number(flag)
    if (seconds >= defaults.herokuKillS)
      findings.push(
        `Procfile: the graceful timeout (${seconds} s) is not below Heroku's 30 s between SIGTERM and SIGKILL: pass --graceful-timeout 25s`,
      )
  }

  for (const dir of ['.', 'deploy']) {
    if (!existsSync(join(cwd, dir))) continue
    for (const name of readdirSync(join(cwd, dir)).filter((file) => file.endsWith('.service'))) {
      const file = join(dir, name).replace(/^\.\//, '')
      const unit = read(file) as string
      if (!/^User=\S+/m.test(unit) && !/^DynamicUser=(yes|true|1)/m.test(unit))
        findings.push(
          `${file}: no User=: the server runs as root; give it a user of its own (User=, or DynamicUser=yes)`,
        )
      if (/^MemoryDenyWriteExecute=(yes|true|1)/m.test(unit))
        findings.push(
          `${file}: MemoryDenyWriteExecute=yes stops Node.js at start-up (V8's JIT writes code it then runs): remove it`,
        )
      if (throughRunner.test(/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? ''))
        findings.push(
          `${file}: ExecStart goes through a package manager: run /usr/bin/node …/${shipshapeBin} serve directly`,
        )
      // systemd's default (DefaultTimeoutStopSec) is 90 s.
      above(file, 'TimeoutStopSec', Number(/^TimeoutStopSec=(\d+)s?$/m.exec(unit)?.[1] ?? 90))
    }
    for (const name of readdirSync(join(cwd, dir)).filter((file) => /\.ya?ml$/.test(file))) {
      const file = join(dir, name).replace(/^\.\//, '')
      for (const doc of safeDocuments(read(file) as string)) {
        if (doc?.kind !== 'Deployment' && doc?.kind !== 'StatefulSet') continue
        const pod = doc.spec?.template?.spec ?? {}
        const preStop = /sleep\D+(\d+)/.exec(
          JSON.stringify(pod.containers?.[0]?.lifecycle?.preStop ?? ''),
        )?.[1]
        above(
          file,
          `${doc.kind} ${doc.metadata?.name}'s terminationGracePeriodSeconds`,
          pod.terminationGracePeriodSeconds ?? defaults.kubernetesGraceS,
          Number(preStop ?? 0),
        )
      }
    }
  }

  const fly = read('fly.toml')
  if (fly !== undefined) {
    try {
      above(
        'fly.toml',
        'kill_timeout',
        Number((parseToml(fly) as { kill_timeout?: number }).kill_timeout ?? defaults.flyKillS),
      )
    } catch {
      findings.push('fly.toml is not valid TOML')
    }
  }

  const kamal = read('config/deploy.yml')
  if (kamal !== undefined) {
    const config = safeDocuments(kamal)[0] ?? {}
    above('config/deploy.yml', 'drain_timeout', Number(config.drain_timeout ?? defaults.kamalDrainS))
    const path = config.proxy?.healthcheck?.path ?? '/up'
    if (path !== '/livez' && path !== '/readyz')
      findings.push(
        `config/deploy.yml: kamal-proxy checks ${path}, which shipshape does not answer: set proxy.healthcheck.path to /livez`,
      )
  }
  return findings
}

/** A generated YAML file's documents, read for the few fields the drift checks compare. */
interface YamlDocument {
  kind?: string
  metadata?: { name?: string }
  spec?: {
    template?: {
      spec?: {
        terminationGracePeriodSeconds?: number
        containers?: { lifecycle?: { preStop?: unknown } }[]
      }
    }
  }
  drain_timeout?: number
  proxy?: { healthcheck?: { path?: string } }
}

function safeDocuments(text: string): YamlDocument[] {
  try {
    return parseAllDocuments(text).map((doc) => doc.toJS())
  } catch {
    return [parseYaml(text)]
  }
}
