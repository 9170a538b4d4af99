/**
 * The observe settings group: error tracking (identity, retention, notifications) and the
 * metrics listener, and the options they become for `shipshape serve`'s primary and workers.
 * See docs/observe.md.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { duration, group, type Infer, setting } from '../config/index.js'
import { parseDsn } from './_sentry.js'

const bindPattern = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\]]+)):(\d{1,5})$/

export const observeSettings = group(
  {
    metricsBind: setting(
      z.string().refine((value) => value === '' || parseMetricsBind(value) !== undefined, {
        error: 'host:port, such as 127.0.0.1:9464, or empty for none',
      }),
      {
        default: '',
        shownDefault: 'none: no metrics listener',
        description:
          'host:port where the primary serves Prometheus metrics for the whole server (all workers and the machine), on a listener of its own, never on the public port. 127.0.0.1:9464 is the usual choice; expose it only to your Prometheus.',
        example: '127.0.0.1:9464',
      },
    ),
    release: setting(z.string().min(1), {
      envFallback: { names: ['SENTRY_RELEASE'], read: ({ SENTRY_RELEASE: release }) => release },
      shownDefault: "the git commit checked out in the working directory, else package.json's version",
      description:
        'The release errors are recorded against: a regression is an error coming back in another release.',
      example: 'v1.4.2',
    }),
    environment: setting(z.string().min(1), {
      default: 'production',
      envFallback: { names: ['SENTRY_ENVIRONMENT'], read: ({ SENTRY_ENVIRONMENT: name }) => name },
      description: 'The environment named in error events and notifications (production, staging…).',
    }),
    serverName: setting(z.string().min(1), {
      default: () => hostname(),
      shownDefault: "the machine's host name",
      description: 'The server name in error events.',
    }),
    errorRetention: setting(duration(), {
      default: '30d',
      description:
        'Stored errors (issues and their events) not seen for this long are deleted. 30 days suits most privacy policies: events hold IP addresses and URLs.',
    }),
    errorEvents: setting(z.int().min(1), {
      default: 100,
      description:
        'Events kept per issue at most (the first 10 whole, then a sample biased to the latest); the count of every event is kept regardless. Bounds the table: about 64 KiB per event at most.',
    }),
    notifyInterval: setting(duration(), {
      default: '30m',
      description:
        'At most one notification per issue per interval. Notifications are sent only for a new issue, a regression, an unmuted issue or a spike, never per event.',
    }),
    notifyEmail: setting(z.array(z.email()), {
      default: [],
      description: 'Comma-separated addresses notified by e-mail (needs smtp-url).',
      example: ['ops@example.com'],
    }),
    notifyFrom: setting(z.string().min(3), {
      default: () => `shipshape@${hostname()}`,
      shownDefault: 'shipshape@<host name>',
      description: 'The From address of notification e-mails.',
    }),
    smtpUrl: setting(z.url({ protocol: /^smtps?$/ }), {
      secret: true,
      shownDefault: 'none: no e-mail',
      description:
        'The SMTP server notification e-mails go through: smtp://user:password@host:587 (STARTTLS) or smtps://…:465.',
      example: 'smtp://apikey:secret@smtp.example.com:587',
    }),
    notifyWebhook: setting(z.url({ protocol: /^https?$/ }), {
      secret: true,
      shownDefault: 'none',
      description: 'A URL notified with a JSON POST ({ title, text, fields, key }) per notification.',
      example: 'https://hooks.example.com/shipshape',
    }),
    notifySlack: setting(z.url({ protocol: /^https?$/ }), {
      secret: true,
      shownDefault: 'none',
      description: "A Slack incoming-webhook URL (Mattermost's and Rocket.Chat's take the same format).",
      example: 'https://hooks.slack.com/services/T000/B000/XXXX',
    }),
    sentryDsn: setting(
      z.string().refine((value) => parseDsn(value) !== undefined, {
        error: 'a DSN such as https://<key>@o1.ingest.sentry.io/<project id>',
      }),
      {
        env: 'SENTRY_DSN',
        secret: true,
        shownDefault: 'none: events stay here',
        description:
          'A Sentry-compatible server (Sentry, GlitchTip, Bugsink) every error event is also sent to, as the Sentry SDKs send them. Events are still grouped and stored here.',
        example: 'https://abc123@o1.ingest.sentry.io/42',
      },
    ),
    ingestKeys: setting(z.array(z.string().regex(/^\w{8,}$/)), {
      default: [],
      shownDefault: 'none: no envelope endpoint',
      description:
        'DSN public keys the envelope endpoint accepts (POST /api/<project>/envelope/), so Sentry SDKs (@sentry/browser on your pages, @sentry/node elsewhere) report to this app with the DSN https://<key>@<your host>/<project>. Each at least 8 letters, digits or underscores: the SDKs’ DSN parser takes nothing else. Off until one is set.',
      example: ['a1b2c3d4e5f6'],
    }),
    ingestRate: setting(z.int().min(1), {
      default: 600,
      description:
        'Events per DSN key per minute the envelope endpoint accepts, counted over all the workers of this server, and over every instance sharing REDIS_URL when it is set (else each instance counts its own); beyond, 429 with X-Sentry-Rate-Limits, as Sentry answers.',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_',
    flagPrefix: '',
    description: 'Observability: error tracking, notifications and metrics. See [observe.md](observe.md).',
    checks: [
      {
        uses: ['notifyEmail', 'smtpUrl'],
        problems: ({ notifyEmail, smtpUrl }) =>
          notifyEmail.length > 0 && smtpUrl === undefined
            ? [{ key: 'smtpUrl', expected: 'to be set when notify-email is (the server e-mails go through)' }]
            : [],
      },
    ],
  },
)

export type ObserveSettings = Infer<typeof observeSettings.shape>

/** What the observe settings become for the primary and every worker (plain values: sent as JSON). */
export interface ObserveOptions {
  metrics: { host: string; port: number } | undefined
  release: string | undefined
  environment: string
  serverName: string
  retentionMs: number
  maxEventsPerIssue: number
  notifyIntervalMs: number
  email: { url: string; from: string; to: string[] } | undefined
  webhook: string | undefined
  slack: string | undefined
  sentryDsn: string | undefined
  ingest: { keys: string[]; perMinute: number } | undefined
}

export function observeOptions(settings: ObserveSettings, cwd: string): { observe: ObserveOptions } {
  return {
    observe: {
      metrics: settings.metricsBind ? parseMetricsBind(settings.metricsBind) : undefined,
      release: settings.release ?? defaultRelease(cwd),
      environment: settings.environment,
      serverName: settings.serverName,
      retentionMs: settings.errorRetention,
      maxEventsPerIssue: settings.errorEvents,
      notifyIntervalMs: settings.notifyInterval,
      email:
        settings.smtpUrl && settings.notifyEmail.length > 0
          ? { url: settings.smtpUrl, from: settings.notifyFrom, to: [...settings.notifyEmail] }
          : undefined,
      webhook: settings.notifyWebhook,
      slack: settings.notifySlack,
      sentryDsn: settings.sentryDsn,
      ingest:
        settings.ingestKeys.length > 0
          ? { keys: [...settings.ingestKeys], perMinute: settings.ingestRate }
          : undefined,
    },
  }
}

function parseMetricsBind(value: string): { host: string; port: number } | undefined {
  const match = bindPattern.exec(value)
  const port = Number(match?.[3])
  if (!match || port > 65535) return undefined
  return { host: (match[1] ?? match[2]) as string, port }
}

/** The commit checked out (read from .git, no git process), else the package's version. */
function defaultRelease(cwd: string): string | undefined {
  try {
    const head = readFileSync(join(cwd, '.git', 'HEAD'), 'utf8').trim()
    if (!head.startsWith('ref: ')) return head.slice(0, 12)
    const ref = head.slice(5)
    try {
      return readFileSync(join(cwd, '.git', ref), 'utf8')
        .trim()
        .slice(0, 12)
    } catch {
      const packed = readFileSync(join(cwd, '.git', 'packed-refs'), 'utf8')
      const line = packed.split('\n').find((entry) => entry.endsWith(` ${ref}`))
      if (line) return line.slice(0, 12)
    }
  } catch {}
  try {
    const { name, version } = JSON.parse(readFileSync(resolve(cwd, 'package.json'), 'utf8')) as {
      name?: string
      version?: string
    }
    return version ? `${name ?? 'app'}@${version}` : undefined
  } catch {
    return undefined
  }
}
