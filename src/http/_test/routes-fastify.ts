/** Fastify: the route names come from routeOptions.url. */
import Fastify from 'fastify'

const app = Fastify()
app.get('/users/:id', async () => 'user')
app.register(
  async (api) => {
    api.get('/posts/:postId', async () => 'post')
  },
  { prefix: '/api' },
)
export default app
