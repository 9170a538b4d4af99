/**
 * The ops console's settings group (docs/console.md): where it is mounted, who may reach it, how
 * long what it shows is kept, and the objective its overview measures latency against; and the
 * options each worker (and the primary's sampler) builds it from.
 */
import { z } from 'zod'
import { duration, group, type Infer, setting } from '../config/index.js'

export const consoleSettings = group(
  {
    enabled: setting(z.boolean(), {
      default: true,
      description:
        'Serve the ops console (errors, endpoints, database, uptime, servers, deploy checklist) under console.prefix, behind sign-in with MFA. A worker loads it on the first request to the prefix: an app whose console is never opened pays nothing but the per-minute server sample.',
    }),
    prefix: setting(z.string().regex(/^\/[\w./-]*[^/]$/, { error: 'a path prefix such as /_shipshape' }), {
      default: '/_shipshape',
      description:
        'The path the console lives under. The monitor endpoint keeps /_shipshape/monitor/ whatever this is.',
    }),
    allowIps: setting(z.array(z.string().min(1)), {
      default: [],
      shownDefault: 'none: every address may reach the sign-in page',
      description:
        'Comma-separated addresses or CIDR ranges that may reach the console; any other client gets a 404, as if it did not exist.',
      example: ['10.0.0.0/8'],
    }),
    mfa: setting(z.enum(['required', 'optional']), {
      default: 'required',
      description:
        '`required`: every sign-in to the console passes TOTP (or a recovery code). `optional` is for a laptop only: `check --deploy` fails on it in production.',
    }),
    retention: setting(duration(), {
      default: '14d',
      description:
        'How long the console keeps what it records itself: the server samples and the audit log. The other pages read what each capability keeps for its own retention: errors (observe.errorRetention), route figures and N+1/slow-query reports (apm.retentionDays), probe results and notifications (monitor.retention).',
    }),
    sampleInterval: setting(duration(), {
      default: '1m',
      description:
        'How often the primary records a sample of each instance (CPU, memory, disk, event-loop lag) for the Servers page; 0 turns it off. One small insert per interval, off the primary’s event loop.',
    }),
    latencyObjective: setting(duration(), {
      default: '500ms',
      description: 'The p95 latency the overview compares the last hour against.',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_CONSOLE_',
    flagPrefix: 'console-',
    description: 'The ops console behind sign-in with MFA. See [console.md](console.md).',
  },
)

export type ConsoleSettings = Infer<typeof consoleSettings.shape>

/** What the console settings become for the workers and the primary (plain values, sent as JSON). */
export interface ConsoleServeOptions {
  console: {
    enabled: boolean
    prefix: string
    allowIps: string[]
    mfa: 'required' | 'optional'
    retentionMs: number
    sampleIntervalMs: number
    latencyObjectiveMs: number
  }
}

export function consoleOptions(settings: ConsoleSettings): ConsoleServeOptions {
  return {
    console: {
      enabled: settings.enabled,
      prefix: settings.prefix,
      allowIps: [...settings.allowIps],
      mfa: settings.mfa,
      retentionMs: settings.retention,
      sampleIntervalMs: settings.sampleInterval,
      latencyObjectiveMs: settings.latencyObjective,
    },
  }
}
