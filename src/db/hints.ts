/**
 * `shipshape db hints`: the index hints the APM stored (see docs/db-apm.md), most often seen
 * first. Apart from shipshape/db's index: only the db command loads it.
 */
import pg from 'pg'
import type { Logger } from '../observe/index.js'
import { hintsTable } from './_apm-store.js'
import type { DatabaseOptions } from './_url.js'
import { reachable } from './tools.js'

interface HintRow {
  table_name: string
  schema_name: string
  columns: string[]
  statement: string
  table_rows: string
  fingerprint: string
  seen: number
  last_seen: Date
}

/** The hints as the command prints them: one block per hint, or a line saying there is none yet. */
export async function listHints(options: DatabaseOptions, logger: Logger): Promise<string> {
  return reachable(options, logger, async () => {
    const client = new pg.Client(
      options.url === ''
        ? { host: options.socketDir, user: 'postgres', database: 'postgres' }
        : { connectionString: options.url },
    )
    await client.connect()
    try {
      const { rows } = await client.query<HintRow>(
        `SELECT * FROM ${hintsTable} ORDER BY seen DESC, last_seen DESC`,
      )
      if (rows.length === 0) return 'No index hints yet.\n'
      return rows
        .map(
          (row) =>
            `${row.schema_name}.${row.table_name} (${row.columns.join(', ')}): a sequential scan with a filter on ${Number(row.table_rows).toLocaleString('en')} rows, seen ${row.seen}× (last ${row.last_seen.toISOString()})\n` +
            `  query: ${row.fingerprint}\n` +
            `  ${row.statement}\n`,
        )
        .join('\n')
    } catch (error) {
      // The table is made with the first hint.
      if ((error as { code?: string }).code === '42P01') return 'No index hints yet.\n'
      throw error
    } finally {
      await client.end()
    }
  })
}
