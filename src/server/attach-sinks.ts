/**
 * `timhook serve`'s sinks: the delivery loops run in a child process at the lowest priority (or a
 * thread of their own: `isolation`; sinks-thread.ts), so their work never takes the callbacks' event
 * loop; this side forwards their logs and metrics, keeps their latest status for the admin API and
 * /metrics, and wakes them after each commit (other instances' commits are seen at the next poll).
 * The admin API reads and changes the stored sink state through an outbox of its own; on SQLite a
 * child process has its cursor and lease writes run there too (at serve's priority: they take the
 * store's write lock).
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { SinkConfig } from '../sinks/config.js'
import type { Outbox } from '../sinks/outbox.js'
import type { SinkLiveStatus } from '../sinks/run-sinks.js'
import { openOutbox } from '../store/open-outbox.js'
import { isPostgresUrl } from '../store/open-store.js'
import { spawnBackground, type Background, type Isolation } from '../store/spawn-thread.js'
import type { Store } from '../store/store.js'
import type { ServerLogger } from './logger.js'
import type { ServerMetrics } from './metrics.js'
import { createSinkMetrics } from './sink-metrics.js'
import { PARENT_OPS, type FromSinksThread, type SinkTuning, type SinksThreadData, type ToSinksThread } from './sinks-messages.js'

/** A configured sink, as the admin API describes it. */
export interface SinkInfo {
  readonly name: string
  readonly type: string
  readonly commands: ReadonlySet<string> | undefined
}

/** The delivery loops, as seen from the server's thread. */
export interface SinksView {
  readonly holder: string
  wake(): void
  /** The latest status the loops reported (every 250 ms). */
  status(): SinkLiveStatus[]
}

export interface SinksHandle {
  readonly sinks: readonly SinkInfo[]
  readonly outbox: Outbox | undefined
  readonly runner: SinksView | undefined
  close(): Promise<void>
}

export type { SinkTuning } from './sinks-messages.js'

/** With the sinks in a child process: the shortest interval between two wakes, ms. */
export const WAKE_EVERY_MS = 10

/** The longest pause before the sinks' background is started again, ms. */
export const RESTART_MAX_MS = 30_000
/** How long a start of the sinks' background may take before it is stopped as failed, ms. */
const START_TIMEOUT_MS = 60_000

/** A restarted background that ran (ready) this long counts as healthy: its next crash restarts it after the first pause again, ms. */
export const RESTART_HEALTHY_MS = 60_000

/**
 * The pause before each restart of the sinks' background: 0.5 s, doubling to `RESTART_MAX_MS` while
 * it keeps crashing; back to 0.5 s once one ran `RESTART_HEALTHY_MS` before its crash, so crashes
 * weeks apart restart quickly while a crash loop still backs off.
 * @example const b = restartBackoff(); b.ready(); ...; setTimeout(start, b.next())
 */
export function restartBackoff(now: () => number = () => performance.now()): { ready(): void; next(): number } {
  let restarts = 0
  let readyAt: number | undefined
  return {
    ready() {
      readyAt = now()
    },
    next() {
      if (readyAt !== undefined && now() - readyAt >= RESTART_HEALTHY_MS) restarts = 0
      readyAt = undefined
      return Math.min(RESTART_MAX_MS, 500 * 2 ** Math.min(restarts++, 6))
    },
  }
}

export async function attachSinks(
  configs: readonly SinkConfig[],
  db: string,
  schema: string,
  store: Store,
  metrics: ServerMetrics,
  logger: ServerLogger,
  tuning: SinkTuning = {},
  isolation: Isolation = 'process',
): Promise<SinksHandle> {
  if (configs.length === 0) return { sinks: [], outbox: undefined, runner: undefined, close: async () => {} }
  const infos: SinkInfo[] = configs.map((c) => ({
    name: c.name,
    type: c.type,
    commands: c.commands === undefined ? undefined : new Set(c.commands),
  }))
  // The admin API's outbox; opening it first also checks that the store is reachable.
  const outbox = await openOutbox(db, {
    schema,
    poolSize: 1,
    onIdleError: (err) => logger.warn({ err: err.message }, 'a sinks PostgreSQL connection was lost; it will be replaced'),
  })
  const m = createSinkMetrics(metrics.registry)
  const holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const writesViaParent = isolation === 'process' && !isPostgresUrl(db)
  const { startTimeoutMs = START_TIMEOUT_MS, ...loopTuning } = tuning
  const data: SinksThreadData = { configs: [...configs], db, schema, holder, tuning: loopTuning, writesViaParent }
  let latest: SinkLiveStatus[] = infos.map((s) => ({
    ...s,
    holding: false,
    position: null,
    lagEvents: 0,
    lagSeconds: 0,
    delivered: 0,
    failing: false,
    consecutiveFailures: 0,
    lastError: null,
  }))
  let thread: Background | undefined
  let closing = false
  let closed: Promise<void> = Promise.resolve()
  const backoff = restartBackoff()
  /** What the delivery loops run in, for the logs. */
  const kind = isolation === 'process' ? 'process' : 'thread'
  /** The first start succeeded: from then on every exit is followed by a new start, one that failed to start included. */
  let started = false

  const start = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const w = spawnBackground(import.meta.url, 'sinks-thread', data, isolation)
      thread = w
      let ready = false
      let timedOut = false
      let onExit!: () => void
      closed = new Promise<void>((r) => (onExit = r))
      // A start that never reports ready is a failed start: the exit below then restarts it (or, at
      // serve's own start, fails it) like any other.
      const startTimer = setTimeout(() => {
        timedOut = true
        logger.error({ startTimeoutMs }, `sink delivery ${kind} did not start within ${startTimeoutMs} ms; stopping it`)
        void w.terminate()
      }, startTimeoutMs)
      startTimer.unref()
      w.on('message', (msg: FromSinksThread) => {
        switch (msg.type) {
          case 'ready':
            ready = true
            clearTimeout(startTimer)
            backoff.ready()
            resolve()
            return
          case 'failed':
            if (!ready) reject(new Error(`the sinks could not start: ${msg.message}`))
            else logger.error({ err: msg.message }, `sink delivery ${kind} failed`)
            return
          case 'status':
            latest = msg.status
            return
          case 'log':
            logger[msg.level](msg.obj, msg.msg)
            return
          case 'delivered':
            m.onDelivered?.(msg.sink, msg.count)
            return
          case 'failure':
            m.onFailure?.(msg.sink, msg.reason)
            return
          case 'deadLetter':
            m.onDeadLetter?.(msg.sink, undefined as never, '')
            return
          case 'closed':
            return
          case 'outbox': {
            const reply = (m: ToSinksThread) => w.postMessage(m)
            if (!(PARENT_OPS as readonly string[]).includes(msg.op)) {
              reply({ type: 'outboxDone', id: msg.id, ok: false, message: `not an outbox write: ${String(msg.op)}` })
              return
            }
            const call = outbox[msg.op] as (...args: unknown[]) => Promise<unknown>
            call.apply(outbox, msg.args).then(
              (value) => reply({ type: 'outboxDone', id: msg.id, ok: true, value }),
              (err: unknown) =>
                reply({ type: 'outboxDone', id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) }),
            )
            return
          }
        }
      })
      w.on('error', (err) => {
        if (!ready) reject(err)
        else logger.error({ err: err.message }, `sink delivery ${kind} failed`)
      })
      w.on('exit', (code) => {
        onExit()
        clearTimeout(startTimer)
        if (thread === w) thread = undefined
        if (!ready)
          reject(
            new Error(
              timedOut
                ? `the sinks' delivery did not start within ${startTimeoutMs} ms (the ${kind} was stopped)`
                : `the sinks' delivery stopped before it was ready (exit code ${code})`,
            ),
          )
        if (closing || !started) return
        // Delivery resumes from the stored cursors: a new one, after a pause growing with restarts in a row.
        const delay = backoff.next()
        logger.error({ code, restartInMs: delay }, `sink delivery ${kind} stopped; starting it again`)
        latest = latest.map((s) => ({ ...s, holding: false }))
        setTimeout(() => {
          if (!closing) start().catch((err: unknown) => logger.error({ err: String(err) }, `sink delivery ${kind} did not start`))
        }, delay).unref()
      })
    })

  try {
    await start()
    started = true
  } catch (err) {
    await outbox.close()
    throw err
  }
  let wakePending = false
  let lastWake = -Infinity
  // A wake crossing a process boundary costs the event loop a write to the channel: at most one per
  // WAKE_EVERY_MS then (the last commit of a burst still wakes the loops, at the end of the interval).
  const every = isolation === 'process' ? WAKE_EVERY_MS : 0
  const runner: SinksView = {
    holder,
    wake() {
      // One message per turn of the event loop at most, however many commits ended in it.
      if (wakePending || thread === undefined) return
      wakePending = true
      const send = () => {
        wakePending = false
        lastWake = performance.now()
        thread?.postMessage({ type: 'wake' } satisfies ToSinksThread)
      }
      const wait = lastWake + every - performance.now()
      if (wait > 0) setTimeout(send, wait).unref()
      else setImmediate(send)
    },
    status: () => latest,
  }
  m.attach(runner)
  store.onCommit((r) => {
    if (r.error === undefined) runner.wake()
  })
  logger.info({ sinks: configs.map((c) => ({ name: c.name, type: c.type })), holder }, 'sinks configured')
  return {
    sinks: infos,
    outbox,
    runner,
    async close() {
      closing = true
      const w = thread
      if (w !== undefined) {
        w.postMessage({ type: 'close' } satisfies ToSinksThread)
        const t = setTimeout(() => void w.terminate(), 15_000)
        await closed
        clearTimeout(t)
      }
      await outbox.close()
    },
  }
}
