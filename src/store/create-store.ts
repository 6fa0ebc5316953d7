/**
 * A store from a backend: the group-commit writer queue in front, the backend's queries behind.
 *
 * Group commit: records queue up; a flush takes everything queued (up to `maxBatch`) and commits
 * it in ONE transaction, then resolves each durable write. A callback that waits for its write is
 * answered only after the commit that holds it, and one fsync serves every callback that arrived
 * meanwhile — that is how "200 means on disk" stays fast. A backend that can run several commits
 * at once (PostgreSQL: each on its own connection) gets up to `concurrentCommits` batches in
 * flight, a further one started only for a full batch or after a hold (see `pump`).
 *
 * Whatever the database does, memory stays bounded: everything waiting for the store (queued or
 * being committed) is capped in records and bytes; past the cap a durable write fails at once
 * (`TIMHOOK_STORE_BACKLOG`) and a fire-and-forget record is dropped and counted — nothing is queued.
 *
 * A batch the database refuses for its data (not an outage) is split in halves until the record
 * it refuses is alone: that record fails (`TIMHOOK_STORE_REFUSED`, counted in the stats'
 * rejections), the others are committed.
 */
import type { HeldPage } from './held-page.js'
import { pageJson } from './page-json.js'
import type { WriteRow } from './records.js'
import { planWrites, type CallbackRecord } from './records.js'
import { REFUSED_CAUSE, StoreBacklogError, StoreRefusedError } from './store-errors.js'
import type {
  BodyChunk,
  CommitReport,
  EventQuery,
  EventItem,
  MessageItem,
  MessageQuery,
  Page,
  StampShift,
  Stats,
  Store,
  StoreCounters,
} from './store.js'

/** What a database must do for `createStore`. */
export interface StoreBackend {
  readonly kind: Store['kind']
  /** Applies the rows in one transaction: all or nothing. May tell which rows it stored later than received. */
  commit(rows: WriteRow[]): Promise<StampShift | void> | StampShift | void
  /** How many commits may run at once. Default 1. */
  readonly concurrentCommits?: number
  /** True when the error refuses the rows themselves (the same rows would fail again), not an outage: the batch is split to find the record. */
  isDataError?(err: unknown): boolean
  /** A commit of nothing that matters, telling whether commits work (again). Default: `commit([])`. */
  probe?(): Promise<void> | void
  listMessages(query: MessageQuery): Promise<Page<MessageItem>> | Page<MessageItem>
  listEvents(query: EventQuery): Promise<Page<EventItem>> | Page<EventItem>
  /** A listing rendered as the admin API answers it (`pageJson`); without it, the page is rendered from `listMessages`/`listEvents`. */
  listMessagesJson?(query: MessageQuery): Promise<string | Uint8Array | HeldPage>
  listEventsJson?(query: EventQuery): Promise<string | Uint8Array | HeldPage>
  stats(): Promise<Stats> | Stats
  readBody(kind: 'event' | 'message', id: number, offset: number, length: number): Promise<BodyChunk | null> | BodyChunk | null
  ping(): Promise<void> | void
  close(): Promise<void> | void
}

export interface StoreOptions {
  /** Most records per transaction. Default 1000. */
  maxBatch?: number
  /** Most records waiting for the store (queued or being committed, durable and fire-and-forget together). Default 2000. */
  maxPendingRecords?: number
  /** Most bytes (raw callback bodies) waiting for the store. Default 16 MiB. */
  maxPendingBytes?: number
  /** Retry delay for kept records, and for readiness probes, after a failed commit, ms (doubles up to 5 s). Default 200. */
  retryDelayMs?: number
  /**
   * Group commit, for a backend that runs several commits at once: how long records wait for the
   * running commit to form the next batch before a further commit starts beside it, ms (a full
   * batch waiting starts at once). Default 20.
   */
  groupCommitHoldMs?: number
}

/**
 * SQLite result codes that refuse the rows themselves (a constraint or trigger, a value too big or
 * of the wrong type); busy, I/O, full, read-only and the like are outages.
 */
export function isSqliteDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH|RANGE)/.test(code)
}

export const DEFAULT_MAX_PENDING_RECORDS = 2000
export const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024

interface Item {
  /** The rows to apply; planned from `record` when the batch is built. */
  rows: WriteRow[] | undefined
  record?: CallbackRecord
  /** Counted against the cap (records; markers and rejection counts are not). */
  counted: boolean
  bytes: number
  durable: boolean
  resolve?: () => void
  reject?: (err: unknown) => void
}

/** The retry delay after failed commits: doubles from the base up to 5 s; the last error is what readiness reports. */
class Backoff {
  delay: number
  lastError: Error | undefined
  /** When the retry timer fires (0 when none is set). */
  retryAt = 0
  constructor(private readonly base: number) {
    this.delay = base
  }
  succeeded(): void {
    this.delay = this.base
    this.lastError = undefined
  }
  failed(err: unknown): void {
    this.lastError = err instanceof Error ? err : new Error(String(err))
  }
  /** The delay for the next retry, and the one after it doubled. */
  next(): number {
    const d = this.delay
    this.retryAt = Date.now() + d
    this.delay = Math.min(d * 2, 5000)
    return d
  }
}

/** What waits for the store, in records and bytes, against its cap. */
class Budget {
  records = 0
  bytes = 0
  constructor(
    readonly maxRecords: number,
    readonly maxBytes: number,
  ) {}
  /** Takes room for a record of `bytes`; false (nothing taken) past the cap. A record alone is admitted whatever its size. */
  take(bytes: number): boolean {
    if (this.records >= this.maxRecords || (this.records > 0 && this.bytes + bytes > this.maxBytes)) return false
    this.records++
    this.bytes += bytes
    return true
  }
  /** Gives back an item's room, once. */
  release(item: Item): void {
    if (!item.counted) return
    item.counted = false
    this.records--
    this.bytes -= item.bytes
  }
}

/** The reads of a store: the backend's, as promises (a listing's JSON rendered from its page when the backend cannot render it). */
function storeReads(
  backend: StoreBackend,
): Pick<Store, 'listMessages' | 'listEvents' | 'listMessagesJson' | 'listEventsJson' | 'stats' | 'readBody' | 'ping'> {
  return {
    listMessages: async (q) => backend.listMessages(q),
    listEvents: async (q) => backend.listEvents(q),
    listMessagesJson: async (q) =>
      backend.listMessagesJson === undefined ? pageJson(await backend.listMessages(q)) : backend.listMessagesJson(q),
    listEventsJson: async (q) => (backend.listEventsJson === undefined ? pageJson(await backend.listEvents(q)) : backend.listEventsJson(q)),
    stats: async () => backend.stats(),
    readBody: async (kind, id, offset, length) => backend.readBody(kind, id, offset, length),
    ping: async () => backend.ping(),
  }
}

/** A copy of a body that holds only its bytes: a body read in one piece is a slice of the socket's read buffer (64 KiB), which a waiting record would otherwise keep whole. */
function compact(record: CallbackRecord): CallbackRecord {
  const raw = record.rawBody
  return raw.buffer.byteLength > 2 * raw.length + 8192 ? { ...record, rawBody: Buffer.from(raw) } : record
}

/**
 * Wraps a backend with the writer queue.
 * @example const store = createStore(openSqliteBackend('./timhook.db'))
 */
export function createStore(backend: StoreBackend, options: StoreOptions = {}): Store & { readonly dropped: number } {
  const maxBatch = options.maxBatch ?? 1000
  const budget = new Budget(options.maxPendingRecords ?? DEFAULT_MAX_PENDING_RECORDS, options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES)
  const maxInFlight = Math.max(1, backend.concurrentCommits ?? 1)
  const backoff = new Backoff(options.retryDelayMs ?? 200)
  const holdMs = options.groupCommitHoldMs ?? 20
  const isDataError = (err: unknown) => (backend.isDataError ?? (backend.kind === 'sqlite' ? isSqliteDataError : undefined))?.(err) === true

  let queue: Item[] = []
  /** Rejected requests by cause, committed with the next batch: a map, not queued rows, so a flood of bad requests costs nothing while the database is down. */
  let rejections = new Map<string, number>()
  let inFlight = 0
  let scheduled = false
  let retryTimer: NodeJS.Timeout | undefined
  /** When the last batch started (Date.now()), and the timer that ends the group-commit hold. */
  let lastStart = 0
  let holdTimer: NodeJS.Timeout | undefined
  let closed = false
  const counters: StoreCounters = { dropped: 0, backlogRefused: 0, dataRefused: 0 }
  const listeners: Array<(report: CommitReport) => void> = []
  const idle: Array<() => void> = []

  const report = (r: CommitReport) => {
    for (const l of listeners) {
      try {
        l(r)
      } catch {
        // a metrics listener must not break commits
      }
    }
  }

  const schedule = () => {
    if (scheduled) return
    scheduled = true
    // setImmediate, not a microtask: every request whose body arrived in this turn of the event loop joins the batch.
    setImmediate(pump)
  }

  /** After an outage: retry kept records (or probe) later, backing off. */
  const retryLater = () => {
    if (closed || retryTimer !== undefined) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      backoff.retryAt = 0
      if (queue.length > 0 || rejections.size > 0) schedule()
      else if (backoff.lastError !== undefined) void probe()
    }, backoff.next())
    retryTimer.unref()
  }

  async function probe(): Promise<void> {
    if (closed || backoff.lastError === undefined || inFlight > 0) return
    inFlight++
    const started = performance.now()
    try {
      await (backend.probe !== undefined ? backend.probe() : backend.commit([]))
      backoff.succeeded()
      report({ size: 0, durationMs: performance.now() - started, error: undefined, probe: true })
    } catch (err) {
      backoff.failed(err)
      report({ size: 0, durationMs: performance.now() - started, error: err, probe: true })
      retryLater()
    } finally {
      inFlight--
      settle()
      // Records that arrived during the probe waited for it (see pump).
      if (queue.length > 0 || rejections.size > 0) schedule()
    }
  }

  /**
   * Starts batches while there is room in flight. Kept records alone wait for the retry timer after a failure.
   *
   * Group commit: records that arrive while a commit runs wait for it and form the next batch, so
   * batches grow with the load and one commit's fixed cost (its round trips, its fsync) is shared
   * by more records, while at low load a record is committed at once. A further commit starts
   * beside a running one when a full batch waits, or once the last one has run `groupCommitHoldMs`
   * (a slow commit does not hold the others up for long): on PostgreSQL, four commits of a few
   * records each in flight cost ~20 % more CPU per request than one of all of them
   * (bench/cpu-per-request.ts --target pg).
   */
  function pump(): void {
    scheduled = false
    while (inFlight < maxInFlight && (queue.length > 0 || rejections.size > 0)) {
      if (inFlight > 0 && queue.length < maxBatch) {
        const wait = lastStart + holdMs - Date.now()
        if (wait > 0) {
          holdTimer ??= setTimeout(() => {
            holdTimer = undefined
            schedule()
          }, wait)
          holdTimer.unref()
          break
        }
      }
      if (backoff.lastError !== undefined && Date.now() < backoff.retryAt && !queue.some((i) => i.durable)) break
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch)
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch)
      if (rejections.size > 0) {
        const rows: WriteRow[] = []
        for (const [cause, n] of rejections) for (let i = 0; i < n; i++) rows.push({ kind: 'rejection', cause })
        rejections = new Map()
        batch.push({ rows, counted: false, bytes: 0, durable: false })
      }
      inFlight++
      lastStart = Date.now()
      void commitBatch(batch).finally(() => {
        inFlight--
        settle()
        if (queue.length > 0 || rejections.size > 0) schedule()
      })
    }
    settle()
  }

  /** Wakes flush() callers once nothing is queued or in flight. */
  function settle(): void {
    if (inFlight > 0) return
    for (const f of idle.splice(0)) f()
  }

  /** One transaction for the batch; on a data error, halves until the refused record is alone. */
  async function commitBatch(batch: Item[]): Promise<void> {
    const rows = planBatch(batch)
    const live = batch.filter((i) => i.rows!.length > 0)
    for (const item of batch) if (item.rows!.length === 0) done(item)
    if (live.length === 0) return
    const started = performance.now()
    let error: unknown
    let stampShift: StampShift | void = undefined
    try {
      stampShift = await backend.commit(rows)
    } catch (err) {
      error = err ?? new Error('commit failed')
    }
    if (error !== undefined && isDataError(error)) {
      // Not an outage: the database works, and refuses something in this batch.
      backoff.succeeded()
      if (live.length > 1) {
        const half = Math.ceil(live.length / 2)
        await commitBatch(live.slice(0, half))
        await commitBatch(live.slice(half))
        return
      }
      report({ size: 1, durationMs: performance.now() - started, error, refused: 1 })
      refuse(live[0]!, error)
      return
    }
    report({ size: live.length, durationMs: performance.now() - started, error, stampShift: stampShift ?? undefined })
    if (error === undefined) {
      backoff.succeeded()
      for (const item of live) done(item)
      return
    }
    backoff.failed(error)
    keepForRetry(live, error)
    retryLater()
  }

  /**
   * The rows of a batch, in order. Records are planned into rows here, in the batch loop, not per
   * request: one tight loop over a batch runs with warm caches, where planning each record as its
   * request is answered cost 2–3 times as much (it sits between HTTP work that evicts the caches).
   */
  function planBatch(batch: Item[]): WriteRow[] {
    const rows: WriteRow[] = []
    for (const item of batch) {
      const planned = item.rows ?? plan(item)
      for (const row of planned) rows.push(row)
    }
    return rows
  }

  /**
   * After a failed commit: durable writes fail now (their callback is answered FAIL, so Tencent may
   * redeliver); fire-and-forget records go back to the front of the queue and are retried, and
   * rejection counts back to their map.
   */
  function keepForRetry(live: Item[], error: unknown): void {
    const keep: Item[] = []
    for (const item of live) {
      if (item.durable) fail(item, error)
      else {
        if (item.counted) keep.push(item)
        else for (const r of item.rows!) if (r.kind === 'rejection') rejections.set(r.cause, (rejections.get(r.cause) ?? 0) + 1)
      }
    }
    queue = keep.concat(queue)
  }

  // A writeWith callback that throws must not stop the others of its batch.
  function done(item: Item): void {
    budget.release(item)
    try {
      item.resolve?.()
    } catch {
      // ignored, as documented (Store.writeWith)
    }
  }

  function fail(item: Item, err: unknown): void {
    budget.release(item)
    try {
      item.reject?.(err)
    } catch {
      // ignored, as documented (Store.writeWith)
    }
  }

  function refuse(item: Item, err: unknown): void {
    if (item.counted) {
      counters.dataRefused++
      if (!item.durable) counters.dropped++
      rejections.set(REFUSED_CAUSE, (rejections.get(REFUSED_CAUSE) ?? 0) + 1)
    }
    fail(item, new StoreRefusedError(err))
  }

  /** An item's rows, planned from its record once; a record that cannot be planned fails alone (never its batch). */
  function plan(item: Item): WriteRow[] {
    try {
      item.rows = planWrites(item.record!)
    } catch (err) {
      // Not seen from a parsed JSON body (planning is pure); a guard so one odd record cannot stop the writer.
      item.rows = []
      if (!item.durable) counters.dropped++
      fail(item, err)
      item.resolve = undefined
    }
    item.record = undefined
    return item.rows
  }

  /** Queues a record, or refuses it when too much waits already. */
  function admit(record: CallbackRecord, durable: boolean, resolve?: () => void, reject?: (err: unknown) => void): boolean {
    const bytes = record.rawBody.length
    if (!budget.take(bytes)) {
      counters.backlogRefused++
      if (durable) reject!(new StoreBacklogError(budget.records, budget.bytes, budget.maxRecords, budget.maxBytes))
      else counters.dropped++
      return false
    }
    queue.push({ rows: undefined, record: compact(record), counted: true, bytes, durable, resolve, reject })
    schedule()
    return true
  }

  const store: Store & { readonly dropped: number } = {
    kind: backend.kind,
    write(record: CallbackRecord) {
      return new Promise<void>((resolve, reject) => store.writeWith(record, resolve, reject))
    },
    writeWith(record, committed, failed) {
      if (closed) failed(new Error('the store is closed'))
      else admit(record, true, committed, failed)
    },
    enqueue(record) {
      if (!closed) admit(record, false)
    },
    countRejection(cause) {
      if (closed) return
      rejections.set(cause, (rejections.get(cause) ?? 0) + 1)
      if (backoff.lastError === undefined) schedule()
    },
    flush() {
      if (queue.length === 0 && inFlight === 0 && rejections.size === 0) return Promise.resolve()
      // Resolves once everything queued so far is done, whatever the outcome.
      // While commits fail, records kept for a later retry do not hold it up.
      return new Promise<void>((resolve) => {
        const check = () => {
          const rest = backoff.lastError === undefined ? queue.length + rejections.size : queue.filter((i) => i.durable).length
          if (inFlight === 0 && rest === 0) resolve()
          else idle.push(check)
        }
        idle.push(check)
        schedule()
      })
    },
    ...storeReads(backend),
    onCommit(listener) {
      listeners.push(listener)
    },
    get pending() {
      return budget.records
    },
    get pendingBytes() {
      return budget.bytes
    },
    get lastCommitError() {
      return backoff.lastError
    },
    get counters() {
      return { ...counters }
    },
    get dropped() {
      return counters.dropped
    },
    async close() {
      if (closed) return
      await store.flush()
      closed = true
      clearTimeout(retryTimer)
      clearTimeout(holdTimer)
      await backend.close()
    },
  }
  return store
}
