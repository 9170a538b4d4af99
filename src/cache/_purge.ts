/**
 * Purge by tag on the CDN: Fastly (soft purge by surrogate key) and Cloudflare (purge by cache
 * tag), behind one purge(tags). Each adapter sends the request its API documents, in batches of
 * what one call accepts; base URLs are settable for tests and API proxies.
 */
import { ShipshapeError } from '../errors/index.js'
import { checkTags } from './_input.js'

export interface FastlyPurge {
  serviceId: string
  /** An API token with the purge_select scope, sent as Fastly-Key. */
  token: string
  /** Mark stale instead of evicting, so stale-while-revalidate and stale-if-error keep working. Default: true. */
  soft?: boolean
  /** Default: https://api.fastly.com. */
  baseUrl?: string
}

export interface CloudflarePurge {
  zoneId: string
  /** An API token with the Zone › Cache Purge permission, sent as a Bearer token. */
  token: string
  /** Default: https://api.cloudflare.com. */
  baseUrl?: string
}

export interface PurgeOptions {
  fastly?: FastlyPurge
  cloudflare?: CloudflarePurge
  /** Per HTTP call. Default: 10 s. */
  timeoutMs?: number
}

/** Fastly takes up to 256 surrogate keys per batch purge; Cloudflare 30 tags per call. */
const fastlyBatch = 256
const cloudflareBatch = 30

function batches(tags: readonly string[], size: number): string[][] {
  const out: string[][] = []
  for (let i = 0; i < tags.length; i += size) out.push(tags.slice(i, i + size))
  return out
}

async function send(cdn: string, url: string, init: RequestInit, timeoutMs: number): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    throw new ShipshapeError('SHIPSHAPE_E_CDN_PURGE', `${cdn}: ${(error as Error).message}`, { cause: error })
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {}
  const refused = cdn === 'cloudflare' && (body as { success?: unknown } | undefined)?.success !== true
  if (!response.ok || refused)
    throw new ShipshapeError(
      'SHIPSHAPE_E_CDN_PURGE',
      `${cdn} answered ${response.status}: ${text.slice(0, 300)}`,
    )
  return body
}

/** A purge(tags) function for the CDNs configured; each tag set goes to every one of them. */
export function purger(options: PurgeOptions): (tags: readonly string[]) => Promise<void> {
  const { fastly, cloudflare } = options
  const timeoutMs = options.timeoutMs ?? 10_000
  if (!fastly && !cloudflare)
    throw new ShipshapeError('SHIPSHAPE_E_ARGUMENT', 'purger(): configure fastly, cloudflare, or both')
  return async function purge(tags) {
    const list = [...new Set(checkTags('purge()', tags))]
    const calls: Promise<unknown>[] = []
    if (fastly) {
      const base = fastly.baseUrl ?? 'https://api.fastly.com'
      for (const batch of batches(list, fastlyBatch)) {
        const headers: Record<string, string> = {
          'Fastly-Key': fastly.token,
          'Surrogate-Key': batch.join(' '),
          Accept: 'application/json',
        }
        if (fastly.soft ?? true) headers['Fastly-Soft-Purge'] = '1'
        const url = `${base}/service/${encodeURIComponent(fastly.serviceId)}/purge`
        calls.push(send('fastly', url, { method: 'POST', headers }, timeoutMs))
      }
    }
    if (cloudflare) {
      const base = cloudflare.baseUrl ?? 'https://api.cloudflare.com'
      const url = `${base}/client/v4/zones/${encodeURIComponent(cloudflare.zoneId)}/purge_cache`
      for (const batch of batches(list, cloudflareBatch)) {
        const init = {
          method: 'POST',
          headers: { Authorization: `Bearer ${cloudflare.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ tags: batch }),
        }
        calls.push(send('cloudflare', url, init, timeoutMs))
      }
    }
    // Every call is made; the first failure is reported once all have settled.
    const failed = (await Promise.allSettled(calls)).find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
  }
}
