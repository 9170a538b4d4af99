/** Express with a route and a nested router: the route names come from req.route under baseUrl. */
import express from 'express'

const app = express()
app.get('/users/:id', (_req, res) => {
  res.send('user')
})
const api = express.Router()
api.get('/posts/:postId', (_req, res) => {
  res.send('post')
})
app.use('/api', api)
export default app
