/**
 * The `migrate()` of a capability's own tables (auth's users, the monitor's results): its schema,
 * idempotent DDL, runs on the first call, and every later call shares that run. A failed run is
 * tried again on the next call: the database may come up after the worker does.
 */
export function schemaOnce(
  pool: { query(text: string): Promise<unknown> },
  schema: string,
): () => Promise<void> {
  let ready: Promise<void> | undefined
  return () => {
    ready ??= pool.query(schema).then(
      () => undefined,
      (error: unknown) => {
        ready = undefined
        throw error
      },
    )
    return ready
  }
}
