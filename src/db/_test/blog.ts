/**
 * A small blog over raw pg and over Kysely: its post list page written twice, with an N+1
 * (one query for the posts, then one per post for its author) and fixed (one join).
 */
import { Kysely, PostgresDialect } from 'kysely'
import type pg from 'pg'

export async function seed(pool: pg.Pool, posts = 20): Promise<void> {
  await pool.query('CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL)')
  await pool.query(
    'CREATE TABLE posts (id serial PRIMARY KEY, author_id integer NOT NULL REFERENCES authors, title text NOT NULL)',
  )
  await pool.query("INSERT INTO authors (name) SELECT 'author ' || i FROM generate_series(1, 5) i")
  await pool.query(
    "INSERT INTO posts (author_id, title) SELECT 1 + i % 5, 'post ' || i FROM generate_series(1, $1::int) i",
    [posts],
  )
}

export interface Listed {
  title: string
  author: string
}

/** The N+1: 1 + one query per post. */
export async function postsWithAuthorsNPlusOne(pool: pg.Pool): Promise<Listed[]> {
  const { rows } = await pool.query<{ title: string; author_id: number }>(
    'SELECT title, author_id FROM posts ORDER BY id LIMIT 20',
  )
  const listed: Listed[] = []
  for (const post of rows) {
    const author = await pool.query<{ name: string }>('SELECT name FROM authors WHERE id = $1', [
      post.author_id,
    ])
    listed.push({ title: post.title, author: author.rows[0]?.name ?? '' })
  }
  return listed
}

/** The fix: one join. */
export async function postsWithAuthors(pool: pg.Pool): Promise<Listed[]> {
  const { rows } = await pool.query<Listed>(
    'SELECT p.title, a.name AS author FROM posts p JOIN authors a ON a.id = p.author_id ORDER BY p.id LIMIT 20',
  )
  return rows
}

interface Schema {
  authors: { id: number; name: string }
  posts: { id: number; author_id: number; title: string }
}

export function kyselyOver(pool: pg.Pool): Kysely<Schema> {
  return new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) })
}

/** The same N+1 through Kysely: its frames (in node_modules) lie between the query and this code. */
export async function kyselyNPlusOne(db: Kysely<Schema>): Promise<Listed[]> {
  const posts = await db.selectFrom('posts').select(['title', 'author_id']).orderBy('id').limit(20).execute()
  const listed: Listed[] = []
  for (const post of posts) {
    const author = await db
      .selectFrom('authors')
      .select('name')
      .where('id', '=', post.author_id)
      .executeTakeFirst()
    listed.push({ title: post.title, author: author?.name ?? '' })
  }
  return listed
}

export async function kyselyJoined(db: Kysely<Schema>): Promise<Listed[]> {
  return db
    .selectFrom('posts')
    .innerJoin('authors', 'authors.id', 'posts.author_id')
    .select(['posts.title', 'authors.name as author'])
    .orderBy('posts.id')
    .limit(20)
    .execute()
}
