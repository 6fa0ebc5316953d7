/**
 * A store from a backend: the group-commit writer queue in front, the backend's queries behind.
 *
 * Group commit: records queue up; a flush takes everything queued (up to `maxBatch`) and commits
 * it in ONE transaction, then resolves each durable write. A callback that waits for its write is
 * answered only after the commit that holds it, and one fsync serves every callback that arrived
 * meanwhile — that is how "200 means on disk" stays fast.
 */
import type { WriteRow } from './records.js'
import { planWrites, type CallbackRecord } from './records.js'
import type { CommitReport, EventQuery, EventItem, MessageItem, MessageQuery, Page, Stats, Store } from './store.js'

/** What a database must do for `createStore`. */
export interface StoreBackend {
  readonly kind: Store['kind']
  /** Applies the rows in one transaction: all or nothing. */
  commit(rows: WriteRow[]): Promise<void> | void
  listMessages(query: MessageQuery): Promise<Page<MessageItem>> | Page<MessageItem>
  listEvents(query: EventQuery): Promise<Page<EventItem>> | Page<EventItem>
  stats(): Promise<Stats> | Stats
  ping(): Promise<void> | void
  close(): Promise<void> | void
}

export interface StoreOptions {
  /** Most records per transaction. Default 1000. */
  maxBatch?: number
  /** Most fire-and-forget records kept while commits fail (the database is down); beyond it new ones are dropped and counted. Default 100 000. */
  maxPending?: number
  /** Retry delay for kept records after a failed commit, ms (doubles up to 5 s). Default 200. */
  retryDelayMs?: number
}

interface Item {
  /** The rows to apply; planned from `record` when the batch is built. */
  rows: WriteRow[] | undefined
  record?: CallbackRecord
  durable: boolean
  resolve?: () => void
  reject?: (err: unknown) => void
}

/**
 * Wraps a backend with the writer queue.
 * @example const store = createStore(openSqliteBackend('./timhook.db'))
 */
export function createStore(backend: StoreBackend, options: StoreOptions = {}): Store & { readonly dropped: number } {
  const maxBatch = options.maxBatch ?? 1000
  const maxPending = options.maxPending ?? 100_000
  const baseDelay = options.retryDelayMs ?? 200
  let queue: Item[] = []
  let kept = 0 // fire-and-forget items in the queue
  let flushing = false
  let scheduled = false
  let retryTimer: NodeJS.Timeout | undefined
  let delay = baseDelay
  let dropped = 0
  let closed = false
  const listeners: Array<(report: CommitReport) => void> = []

  const schedule = () => {
    if (scheduled || flushing) return
    scheduled = true
    // setImmediate, not a microtask: every request whose body arrived in this turn of the event loop joins the batch.
    setImmediate(run)
  }

  const report = (r: CommitReport) => {
    for (const l of listeners) {
      try {
        l(r)
      } catch {
        // a metrics listener must not break commits
      }
    }
  }

  async function run(): Promise<void> {
    scheduled = false
    if (flushing) return
    flushing = true
    try {
      while (queue.length > 0) {
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch)
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch)
        const rows: WriteRow[] = []
        // Records are planned into rows here, in the batch loop, not per request: one tight loop
        // over a batch runs with warm caches, where planning each record as its request is
        // answered cost 2–3 times as much (it sits between HTTP work that evicts the caches).
        for (const item of batch) {
          const planned = item.rows ?? plan(item)
          for (const row of planned) rows.push(row)
        }
        const started = performance.now()
        let error: unknown
        try {
          if (rows.length > 0) await backend.commit(rows)
        } catch (err) {
          error = err ?? new Error('commit failed')
        }
        if (rows.length > 0) report({ size: batch.length, durationMs: performance.now() - started, error })
        if (error === undefined) {
          delay = baseDelay
          for (const item of batch) {
            if (!item.durable && item.rows!.length > 0) kept--
            item.resolve?.()
          }
          continue
        }
        // Durable writes fail now (their callback is answered FAIL, so Tencent may redeliver);
        // fire-and-forget records go back to the front of the queue and are retried.
        const keep: Item[] = []
        for (const item of batch) {
          if (item.durable) item.reject?.(error)
          else if (item.rows!.length > 0) keep.push(item)
        }
        queue = keep.concat(queue)
        if (queue.every((i) => !i.durable)) {
          if (!closed) {
            clearTimeout(retryTimer)
            retryTimer = setTimeout(schedule, delay)
            retryTimer.unref()
            delay = Math.min(delay * 2, 5000)
          }
          break
        }
      }
    } finally {
      flushing = false
      if (queue.some((i) => i.durable)) schedule()
    }
  }

  /** An item's rows, planned from its record once; a record that cannot be planned fails alone (never its batch). */
  function plan(item: Item): WriteRow[] {
    try {
      item.rows = planWrites(item.record!)
    } catch (err) {
      // Not seen from a parsed JSON body (planning is pure); a guard so one odd record cannot stop the writer.
      item.rows = []
      if (!item.durable) {
        kept--
        dropped++
      }
      item.reject?.(err)
      item.resolve = undefined
    }
    item.record = undefined
    return item.rows
  }

  function push(item: Item): void {
    queue.push(item)
    schedule()
  }

  function keep(item: Item): void {
    if (kept >= maxPending) {
      dropped++
      return
    }
    kept++
    push(item)
  }

  const store: Store & { readonly dropped: number } = {
    kind: backend.kind,
    write(record: CallbackRecord) {
      if (closed) return Promise.reject(new Error('the store is closed'))
      return new Promise<void>((resolve, reject) => push({ rows: undefined, record, durable: true, resolve, reject }))
    },
    enqueue(record) {
      if (!closed) keep({ rows: undefined, record, durable: false })
    },
    countRejection(cause) {
      if (!closed) keep({ rows: [{ kind: 'rejection', cause }], durable: false })
    },
    flush() {
      if (queue.length === 0 && !flushing) return Promise.resolve()
      // A marker: resolves when the batch holding it is done, whatever the outcome.
      return new Promise<void>((resolve) => push({ rows: [], durable: true, resolve, reject: () => resolve() }))
    },
    listMessages: async (q) => backend.listMessages(q),
    listEvents: async (q) => backend.listEvents(q),
    stats: async () => backend.stats(),
    ping: async () => backend.ping(),
    onCommit(listener) {
      listeners.push(listener)
    },
    get pending() {
      return queue.reduce((n, i) => n + (i.record !== undefined || (i.rows !== undefined && i.rows.length > 0) ? 1 : 0), 0)
    },
    get dropped() {
      return dropped
    },
    async close() {
      if (closed) return
      await store.flush()
      closed = true
      clearTimeout(retryTimer)
      await backend.close()
    },
  }
  return store
}
