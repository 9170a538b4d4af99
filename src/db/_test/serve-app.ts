/** An app for `shipshape serve` over the worker's pool: the post list with its N+1, and fixed. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pool } from 'shipshape/db'

export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const db = pool()
  if (req.url?.startsWith('/posts/fixed')) {
    const { rows } = await db.query(
      'SELECT p.title, a.name AS author FROM posts p JOIN authors a ON a.id = p.author_id ORDER BY p.id LIMIT 20',
    )
    res.end(JSON.stringify(rows))
    return
  }
  const { rows } = await db.query('SELECT title, author_id FROM posts ORDER BY id LIMIT 20')
  const listed = []
  for (const post of rows) {
    const author = await db.query('SELECT name FROM authors WHERE id = $1', [post.author_id])
    listed.push({ title: post.title, author: author.rows[0]?.name })
  }
  res.end(JSON.stringify(listed))
}
