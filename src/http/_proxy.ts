/**
 * Which proxies to believe. X-Forwarded-For and X-Forwarded-Proto are set by whoever sent the
 * request, so they are read only when the socket peer is a configured proxy; otherwise any
 * client could claim any address (and skip an IP allow-list) or claim HTTPS.
 */
import { BlockList, isIP } from 'node:net'
import { ShipshapeError } from '../errors/index.js'

/** Names for common address ranges, so `--trusted-proxies loopback` works without CIDR arithmetic. */
const namedRanges: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
}

export interface ProxyTrust {
  /** True when `address` (the socket peer or an X-Forwarded-For hop) is a configured proxy. */
  trusts(address: string): boolean
  /** Whether any proxy is configured; when none, the forwarded headers are never read. */
  readonly any: boolean
}

/**
 * Parses entries such as `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`, `loopback`, `private`,
 * `linklocal`, and `unix`: the peers on the Unix socket `serve --bind unix:PATH` listens on,
 * which have no address (the empty string here).
 */
export function proxyTrust(entries: readonly string[]): ProxyTrust {
  const list = new BlockList()
  let unixPeers = false
  for (const raw of entries) {
    const entry = raw.trim()
    if (entry === 'unix') unixPeers = true
    else if (entry !== '') for (const range of namedRanges[entry] ?? [entry]) addRange(list, range, entry)
  }
  const any = entries.some((entry) => entry.trim() !== '')
  return {
    any,
    trusts(address) {
      if (address === '') return unixPeers
      const family = isIP(address)
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
    },
  }
}

function addRange(list: BlockList, range: string, given: string): void {
  const [address = '', bits, ...rest] = range.split('/')
  const family = isIP(address)
  const prefix = bits === undefined ? undefined : Number(bits)
  const max = family === 6 ? 128 : 32
  if (
    family === 0 ||
    rest.length > 0 ||
    (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max || bits === ''))
  ) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `trusted proxy "${given}" is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or one of ${[...Object.keys(namedRanges), 'unix'].join(', ')}`,
    )
  }
  const type = family === 6 ? 'ipv6' : 'ipv4'
  if (prefix === undefined) list.addAddress(address, type)
  else list.addSubnet(address, prefix, type)
}

/**
 * The client's address: the socket peer, unless that peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For hop that is not itself a trusted proxy. Hops left of it were written
 * by the client and are not believed. An unparsable hop stops the walk at the last good one.
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, trust: ProxyTrust): string {
  if (!trust.any || forwardedFor === undefined || !trust.trusts(peer)) return plain(peer)
  let client = peer
  const hops = forwardedFor.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = (hops[i] as string).trim()
    if (isIP(hop) === 0) break
    client = hop
    if (!trust.trusts(hop)) break
  }
  return plain(client)
}

/** `https` or `http`: TLS on the socket, or the first X-Forwarded-Proto value when a trusted proxy sent it. */
export function forwardedProtocol(
  peer: string,
  encrypted: boolean,
  forwardedProto: string | undefined,
  trust: ProxyTrust,
): 'http' | 'https' {
  if (encrypted) return 'https'
  if (!trust.any || forwardedProto === undefined || !trust.trusts(peer)) return 'http'
  const comma = forwardedProto.indexOf(',')
  const first = (comma === -1 ? forwardedProto : forwardedProto.slice(0, comma)).trim().toLowerCase()
  return first === 'https' ? 'https' : 'http'
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is reported as `10.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}
