/**
 * Where an event says an error came from: a compiled app's frames name its TypeScript source
 * through the source map (under the real `shipshape serve`), and an error thrown by middleware in
 * the pipeline, in front of the app, is captured as the app's own are. Both stored in the real
 * Postgres.
 */
import pino from 'pino'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, ready, startServe } from '../_test/cli.js'
import { eventuallyPasses, serve } from '../_test/pipeline.js'
import { tempDir } from '../_test/temp.js'
import type { Middleware } from '../types.js'
import { ErrorStore } from './_store.js'
import { ownDatabase } from './_test/db.js'
import { createTracker } from './_tracker.js'

let db: Awaited<ReturnType<typeof ownDatabase>>
const project = tempDir()
beforeAll(async () => {
  db = await ownDatabase()
})
afterAll(async () => {
  await db.drop()
  project.remove()
})

// The types and the interface vanish from the JavaScript: the throw moves up by several lines.
const source = `import type { IncomingMessage, ServerResponse } from 'node:http'

interface Invoice {
  id: number
  total: number
}

function total(invoice: Invoice): number {
  if (invoice.total < 0) throw new Error(\`invoice \${invoice.id} has a negative total\`)
  return invoice.total
}

export default function app(_req: IncomingMessage, res: ServerResponse): void {
  res.end(String(total({ id: 4, total: -1 })))
}
`
const throwLine = source.split('\n').findIndex((line) => line.includes('throw new Error')) + 1

describe('error sources', () => {
  it('name the TypeScript file, line and source line of a compiled app, through its source map', async () => {
    const { outputText, sourceMapText } = ts.transpileModule(source, {
      fileName: 'app.ts',
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: true },
    })
    project.write('app.ts', source)
    project.write('app.js', outputText)
    project.write('app.js.map', sourceMapText as string)
    project.write('package.json', '{ "type": "module" }')
    const compiledLine = outputText.split('\n').findIndex((line) => line.includes('throw new Error')) + 1
    expect(compiledLine).toBeLessThan(throwLine)

    const server = await startServe([`${project.dir}/app.js`, '--workers', '1'], { DATABASE_URL: db.url })
    const store = new ErrorStore(db.pool)
    try {
      await ready(server, 1)
      expect((await get(server.url)).status).toBe(500)
      const event = await eventuallyPasses(async () => {
        const found = (await store.issues()).find((i) => i.title.includes('negative total'))
        const [stored] = found ? await store.events(found.id) : []
        if (!stored) throw new Error('not yet')
        return stored
      })
      const frame = event?.exception?.values[0]?.stacktrace?.frames.at(-1)
      expect(frame?.filename).toMatch(/app\.ts$/)
      expect(frame).toMatchObject({ function: 'total', lineno: throwLine, in_app: true })
      expect(frame?.context_line).toContain('if (invoice.total < 0) throw new Error(')
      expect(frame?.pre_context?.at(-1)).toContain('function total(invoice: Invoice): number {')
    } finally {
      await server.stop()
    }
  })

  it('capture an error thrown by middleware in front of the app, with its request', async () => {
    const store = new ErrorStore(db.pool)
    const errors = createTracker({ logger: pino({ level: 'silent' }), store, notifiers: [], identity: {} })
    const failing: Middleware = async function checkQuota() {
      throw new Error('the quota store is unreachable')
    }
    const server = await serve(
      async (ctx) => {
        ctx.res.end('never')
      },
      { worker: { errors } },
      [failing],
    )
    try {
      expect((await fetch(`${server.url}/reports/3`)).status).toBe(500)
      await errors.flush()
    } finally {
      await server.close()
    }
    const issue = (await store.issues()).find((i) => i.title.includes('quota store'))
    const [event] = await store.events(issue?.id as string)
    expect(event).toMatchObject({ tags: { kind: 'request' }, request: { method: 'GET' } })
    expect(event?.request?.url).toMatch(/\/reports\/3$/)
    expect(event?.exception?.values[0]?.stacktrace?.frames.at(-1)?.function).toBe('checkQuota')
  })
})
