/** A bank on shipshape/db: transfers under a CHECK constraint, from any worker. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pool } from 'shipshape/db'

let ready: Promise<unknown> | undefined
// Made on first use, not at import: a worker starts while the database is down.
const schema = () =>
  (ready ??= pool()
    .query(
      `CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0));
       INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 4) g ON CONFLICT DO NOTHING`,
    )
    .catch((error: unknown) => {
      ready = undefined
      throw error
    }))

async function transfer(from: number, to: number, amount: number): Promise<string> {
  const client = await pool().connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE', [[from, to]])
    await client.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1', [from, amount])
    await client.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [to, amount])
    await client.query('COMMIT')
    return 'done'
  } catch (error) {
    await client.query('ROLLBACK')
    if ((error as { code?: string }).code === '23514') return 'refused'
    throw error
  } finally {
    client.release()
  }
}

/** `/transfer?from=1&to=2&amount=30`, `/total`, `/pid`. */
export default async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app')
  await schema()
  if (url.pathname === '/transfer') {
    const [from, to, amount] = ['from', 'to', 'amount'].map((name) => Number(url.searchParams.get(name)))
    return void res.end(await transfer(from as number, to as number, amount as number))
  }
  if (url.pathname === '/total') {
    const { rows } = await pool().query('SELECT sum(balance)::int AS total FROM accounts')
    return void res.end(String(rows[0].total))
  }
  res.end(String(process.pid))
}
