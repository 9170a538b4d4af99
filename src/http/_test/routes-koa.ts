/** Koa with @koa/router: the route names come from ctx._matchedRoute. */
import Router from '@koa/router'
import Koa from 'koa'

const app = new Koa()
const router = new Router()
router.get('/users/:id', (ctx) => {
  ctx.body = 'user'
})
const api = new Router({ prefix: '/api' })
api.get('/posts/:postId', (ctx) => {
  ctx.body = 'post'
})
app.use(router.routes()).use(api.routes())
export default app
