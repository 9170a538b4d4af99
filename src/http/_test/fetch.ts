import { getContext } from 'shipshape'
import {
  aborted,
  appendToPolicy,
  bigWebStream,
  clientError,
  endlessWebStream,
  gatedWebStream,
  held,
  hello,
  thrown,
} from './_shared.js'

/** A bare fetch function: one parameter, so it is detected as a fetch handler. */
export default async function fetch(request: Request): Promise<Response> {
  const id = String(request.headers.get('x-request-id'))
  switch (new URL(request.url).pathname) {
    case '/':
      return new Response(hello, { headers: { 'Content-Type': 'text/plain', 'X-App': 'fetch' } })
    case '/echo':
      return new Response(await request.arrayBuffer(), {
        headers: { 'Content-Type': request.headers.get('content-type') ?? 'text/plain' },
      })
    case '/created': {
      const headers = new Headers({ 'X-Custom': 'yes' })
      headers.append('Set-Cookie', 'a=1')
      headers.append('Set-Cookie', 'b=2')
      return new Response('made\n', { status: 201, headers })
    }
    case '/stream':
      return new Response(gatedWebStream(id), { headers: { 'Content-Type': 'text/plain' } })
    case '/big':
      return new Response(bigWebStream(), { headers: { 'Content-Type': 'application/octet-stream' } })
    case '/endless':
      return new Response(endlessWebStream(id), { headers: { 'Content-Type': 'application/octet-stream' } })
    case '/append':
      appendToPolicy()
      return new Response('appended\n', { headers: { 'Content-Type': 'text/plain' } })
    case '/context':
      return Response.json({ id: getContext()?.id })
    case '/refuse':
      throw clientError()
    case '/throw':
      throw new Error(thrown)
    case '/hang':
      held.add(request)
      request.signal.addEventListener('abort', () => aborted.add(id))
      return new Promise(() => {})
    default:
      return new Response('Not Found\n', { status: 404 })
  }
}
