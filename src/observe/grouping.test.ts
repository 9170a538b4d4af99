import { describe, expect, it } from 'vitest'
import { groupingOf, normaliseMessage } from './_fingerprint.js'
import { parseStack, SourceCache } from './_stack.js'
import { loadInvoice, loadOrder, loadUser } from './_test/throwers.js'

async function groupOf(error: Error, fingerprint?: string[]): Promise<string> {
  const frames = parseStack(error.stack)
  await new SourceCache().addContext(frames)
  return groupingOf({ type: error.name, message: error.message, frames, fingerprint }).issue
}

function caught(run: () => void): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('it did not throw')
}

describe('grouping', () => {
  it('puts the same throw site with 1,000 different ids in its message into 1 issue', async () => {
    const issues = new Set<string>()
    for (let id = 0; id < 1000; id++) issues.add(await groupOf(caught(() => loadUser(id))))
    expect(issues.size).toBe(1)
  })

  it('puts two throw sites with the same message into 2 issues', async () => {
    const order = await groupOf(caught(loadOrder))
    const invoice = await groupOf(caught(loadInvoice))
    expect(order).not.toBe(invoice)
    expect(await groupOf(caught(loadOrder))).toBe(order)
  })

  it('reads in-app frames with their source lines, and not line numbers', () => {
    const error = caught(loadOrder)
    const frames = parseStack(error.stack)
    const top = frames[frames.length - 1]
    expect(top).toMatchObject({
      function: 'loadOrder',
      in_app: true,
      filename: 'src/observe/_test/throwers.ts',
    })
    // Moving the throw down a line keeps the group: line numbers are not part of it.
    const shifted = (error.stack ?? '').replace(
      /throwers\.ts:(\d+)/g,
      (_all, line) => `throwers.ts:${Number(line) + 1}`,
    )
    expect(groupingOf({ type: 'Error', message: 'x', frames: parseStack(shifted) }).issue).toBe(
      groupingOf({ type: 'Error', message: 'x', frames }).issue,
    )
  })

  it('uses an explicit fingerprint, with {{ default }} extending the default grouping', async () => {
    const error = caught(loadOrder)
    expect(await groupOf(error, ['payments'])).toBe(await groupOf(caught(loadInvoice), ['payments']))
    const perTenant = await groupOf(error, ['{{ default }}', 'tenant-a'])
    expect(perTenant).not.toBe(await groupOf(error))
    expect(perTenant).not.toBe(await groupOf(error, ['{{ default }}', 'tenant-b']))
  })

  it('falls back to type and normalised message, then to the message', () => {
    const noStack = (message: string) => groupingOf({ type: 'TypeError', message, frames: [] })
    expect(noStack('id 42 failed for ann@example.com from 10.0.0.1').issue).toBe(
      noStack('id 7 failed for bob@example.org from 192.168.3.4').issue,
    )
    expect(noStack('x').issue).not.toBe(groupingOf({ type: 'RangeError', message: 'x', frames: [] }).issue)
    expect(groupingOf({ message: 'disk 91% full', frames: [] }).issue).toBe(
      groupingOf({ message: 'disk 97% full', frames: [] }).issue,
    )
  })

  it('normalises ids, UUIDs, numbers, e-mails, IPs, hex and quoted strings', () => {
    expect(
      normaliseMessage(
        `user 42 (6f1c2a3e-0b9d-4c5e-8f7a-123456789abc) ann@example.com 10.1.2.3 2001:db8::1 0xdeadbeef 3f2a9c1b77 'quoted' "double" at 2026-12-01T10:00:00Z`,
      ),
    ).toBe('user <int> (<uuid>) <email> <ip> <ip> <hex> <hex> <str> <str> at <date>')
  })
})
