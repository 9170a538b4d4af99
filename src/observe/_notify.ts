/**
 * Notification channels: e-mail over SMTP (nodemailer), a JSON webhook, and Slack's incoming
 * webhook format. Made generic (a title, a text, some fields, a link) so that anything that
 * alerts, error tracking here and the uptime monitor, sends through the same code. A failing
 * channel is retried a few times with backoff, then the failure is counted and logged: never
 * retried forever, never thrown at the caller.
 */
import { createRequire } from 'node:module'
import type { Logger } from 'pino'

export interface Notification {
  /** One line: the e-mail's subject, the message's headline. */
  title: string
  /** A few lines of plain text. */
  text: string
  /** Short labelled values (issue id, count, release), shown as a list or Slack fields. */
  fields?: Record<string, string>
  /** Where to see more, if anywhere. */
  url?: string
  /** A stable key for the thing notified about (an issue id, a monitor), for the receiver's grouping. */
  key?: string
}

export interface Notifier {
  /** `smtp`, `webhook` or `slack`, in logs and counts. */
  readonly channel: string
  send(notification: Notification): Promise<void>
}

/** A request to a channel gives up after this long, so a hung receiver cannot pile up sends. */
const sendTimeoutMs = 10_000

/** POSTs `body` as JSON, bounded by the send timeout; a status other than 2xx is an error. */
export async function postJson(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(sendTimeoutMs),
  })
  await response.body?.cancel()
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status}`)
}

/** POSTs the notification as JSON: `{ title, text, fields, url, key }`. */
export function webhookNotifier(url: string): Notifier {
  return { channel: 'webhook', send: (notification) => postJson(url, notification) }
}

/** Slack's limits: a section's text, the blocks of one message, and one message per second per webhook. */
const slackSectionChars = 3000
const slackBlocksPerMessage = 50
const slackGapMs = 1000

/**
 * POSTs to a Slack incoming webhook (Mattermost and Rocket.Chat accept the same format). A long
 * text is split into sections at line ends within Slack's block limit, and into several messages
 * past its blocks-per-message limit; messages to one webhook leave at most one per second, as
 * Slack asks (it answers 429 beyond), queued in order.
 */
export function slackNotifier(url: string): Notifier {
  let queue: Promise<unknown> = Promise.resolve()
  let lastSentAt = Number.NEGATIVE_INFINITY
  /** Posts one notification's messages in order, none sooner than a second after the last one was answered. */
  const paced = (bodies: unknown[]) => {
    const sent = queue.then(async () => {
      for (const body of bodies) {
        const wait = lastSentAt + slackGapMs - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        try {
          await postJson(url, body)
        } finally {
          // Counted from the answer: a slow answer must not let the next message arrive sooner.
          lastSentAt = performance.now()
        }
      }
    })
    queue = sent.catch(() => {})
    return sent
  }
  return {
    channel: 'slack',
    async send({ title, text, fields = {}, url: link }) {
      const blocks: unknown[] = [
        { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
        ...splitText(text, slackSectionChars).map((part) => ({
          type: 'section',
          text: { type: 'mrkdwn', text: part },
        })),
        ...(Object.keys(fields).length > 0
          ? [
              {
                type: 'section',
                fields: Object.entries(fields)
                  .slice(0, 10)
                  .map(([name, value]) => ({ type: 'mrkdwn', text: `*${name}*\n${value}`.slice(0, 2000) })),
              },
            ]
          : []),
        ...(link ? [{ type: 'section', text: { type: 'mrkdwn', text: `<${link}|Open>` } }] : []),
      ]
      const messages: unknown[] = []
      for (let start = 0; start < blocks.length; start += slackBlocksPerMessage) {
        const part = blocks.slice(start, start + slackBlocksPerMessage)
        messages.push({ text: start === 0 ? title : `${title} (continued)`, blocks: part })
      }
      await paced(messages)
    },
  }
}

/** Pieces of at most `limit` characters, cut at a line end where there is one. */
function splitText(text: string, limit: number): string[] {
  const parts: string[] = []
  let rest = text
  while (rest.length > limit) {
    const cut = rest.lastIndexOf('\n', limit)
    const at = cut > 0 ? cut : limit
    parts.push(rest.slice(0, at))
    rest = rest.slice(cut > 0 ? at + 1 : at)
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest)
  return parts
}

export interface SmtpOptions {
  /** `smtp://user:pass@host:587` or `smtps://…:465`; STARTTLS is used when the server offers it. */
  url: string
  from: string
  to: readonly string[]
}

/** Sends a plain-text e-mail through an SMTP server. nodemailer loads on the first send only. */
export function smtpNotifier(options: SmtpOptions): Notifier {
  let transport: import('nodemailer').Transporter | undefined
  return {
    channel: 'smtp',
    async send({ title, text, fields = {}, url }) {
      if (transport === undefined) {
        const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof import('nodemailer')
        transport = nodemailer.createTransport({
          url: options.url,
          connectionTimeout: sendTimeoutMs,
          socketTimeout: sendTimeoutMs,
        })
      }
      const lines = Object.entries(fields).map(([name, value]) => `${name}: ${value}`)
      await transport.sendMail({
        from: options.from,
        to: [...options.to],
        subject: title.slice(0, 200),
        text: [text, '', ...lines, ...(url ? ['', url] : [])].join('\n'),
      })
    },
  }
}

export interface DeliveryOptions {
  /** Attempts per channel, the first included. Default 3. */
  attempts?: number
  /** Wait before the second attempt, doubled for each further one. Default 1 s. */
  backoffMs?: number
}

/** Counts of what was delivered and what failed for good, per channel: read by the metrics. */
export interface DeliveryCounts {
  sent: Record<string, number>
  failed: Record<string, number>
}

/** How one channel's delivery ended: the monitor keeps these as its notification history. */
export interface Delivery {
  channel: string
  ok: boolean
  /** Why it failed for good. */
  error?: string
}

/**
 * Sends to every channel at once, each retried with backoff; resolves, with each channel's
 * outcome, when all have succeeded or given up. A channel that gives up is logged at error level and counted, and the others still send.
 */
export async function deliver(
  notifiers: readonly Notifier[],
  notification: Notification,
  logger: Logger,
  counts: DeliveryCounts,
  options: DeliveryOptions = {},
): Promise<Delivery[]> {
  const attempts = Math.max(1, options.attempts ?? 3)
  const backoffMs = options.backoffMs ?? 1000
  return Promise.all(
    notifiers.map(async (notifier): Promise<Delivery> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await notifier.send(notification)
          counts.sent[notifier.channel] = (counts.sent[notifier.channel] ?? 0) + 1
          return { channel: notifier.channel, ok: true }
        } catch (error) {
          if (attempt >= attempts) {
            counts.failed[notifier.channel] = (counts.failed[notifier.channel] ?? 0) + 1
            logger.error(
              { err: error, channel: notifier.channel, attempts, key: notification.key },
              `notification not delivered: the ${notifier.channel} channel failed ${attempts} times`,
            )
            return { channel: notifier.channel, ok: false, error: String((error as Error)?.message ?? error) }
          }
          await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** (attempt - 1)))
        }
      }
    }),
  )
}
