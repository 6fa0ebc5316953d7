/** Why the store answered a write with an error at once: the caller is answered FAIL naming the code. */

/** Too much is waiting for the store already (the database is slow or unreachable): the write was not queued. */
export class StoreBacklogError extends Error {
  readonly code = 'TIMHOOK_STORE_BACKLOG'

  constructor(records: number, bytes: number, maxRecords: number, maxBytes: number) {
    super(
      `TIMHOOK_STORE_BACKLOG: ${records} records (${bytes} bytes) already wait for the store (limits: ${maxRecords} records, ${maxBytes} bytes); not queued — the database is slow or unreachable, see /readyz`,
    )
    this.name = 'StoreBacklogError'
  }
}

/** The database refused this record itself (a data error, found by splitting its batch); the records committed with it are stored. */
export class StoreRefusedError extends Error {
  readonly code = 'TIMHOOK_STORE_REFUSED'

  constructor(cause: unknown) {
    super(`TIMHOOK_STORE_REFUSED: the database refused this record: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'StoreRefusedError'
  }
}

/** The cause under which a refused record is counted in the stats' rejections. */
export const REFUSED_CAUSE = 'TIMHOOK_STORE_REFUSED'
