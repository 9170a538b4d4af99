/** Hono: the route names come from its router's match, past its all-methods middleware. */
import { Hono } from 'hono'

const app = new Hono()
app.use('*', async (_c, next) => {
  await next()
})
app.get('/users/:id', (c) => c.text('user'))
const api = new Hono()
api.get('/posts/:postId', (c) => c.text('post'))
app.route('/api', api)
export default app
