import Koa from 'koa'
import { getContext } from 'shipshape'
import {
  aborted,
  appendToPolicy,
  bigStream,
  clientError,
  endlessStream,
  gatedStream,
  hello,
  thrown,
} from './_shared.js'

const app = new Koa()
app.use(async (ctx) => {
  const id = String(ctx.get('x-request-id'))
  switch (ctx.path) {
    case '/':
      ctx.type = 'text/plain'
      ctx.set('X-App', 'koa')
      ctx.body = hello
      return
    case '/echo': {
      const chunks: Buffer[] = []
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
      ctx.type = ctx.get('content-type') || 'text/plain'
      ctx.body = Buffer.concat(chunks)
      return
    }
    case '/created':
      ctx.status = 201
      ctx.set('X-Custom', 'yes')
      ctx.cookies.set('a', '1', { httpOnly: false })
      ctx.cookies.set('b', '2', { httpOnly: false })
      ctx.body = 'made\n'
      return
    case '/stream':
      ctx.type = 'text/plain'
      ctx.body = gatedStream(id)
      return
    case '/big':
      ctx.type = 'application/octet-stream'
      ctx.body = bigStream()
      return
    case '/endless':
      ctx.type = 'application/octet-stream'
      ctx.body = endlessStream(id)
      return
    case '/append':
      appendToPolicy()
      ctx.type = 'text/plain'
      ctx.body = 'appended\n'
      return
    case '/context':
      ctx.body = { id: getContext()?.id }
      return
    case '/refuse':
      throw clientError()
    case '/throw':
      throw new Error(thrown)
    case '/hang':
      getContext()?.signal.addEventListener('abort', () => aborted.add(id))
      await new Promise(() => {})
  }
})

export default app
