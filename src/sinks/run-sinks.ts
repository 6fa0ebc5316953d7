/**
 * The delivery loop: one loop per sink, each reading the outbox on its own (never a hook on the
 * commit path, so a slow or failing sink delays neither callbacks nor another sink).
 *
 * The loops share their reads: a batch read for one sink serves every other sink that asks for the
 * same events (they usually start together and move a batch at a time), so three sinks read the
 * store about as often as one (`sharedReads`).
 *
 * Per sink: take the sink's lease (one instance delivers a sink at a time; the lease is renewed
 * while held and taken over by another instance when it expires), read the events after the
 * cursor, send them, and move the cursor only past what the destination confirmed. A failure is
 * retried with exponential back-off and jitter; a permanent refusal of one event (a webhook's 4xx
 * other than 408/429) `deadLetterAfter` times in a row puts that event in the dead-letter list and
 * delivery moves on. Everything else retries without end: the sink lags, and says so.
 *
 * Order through a takeover: an instance that lost its lease (or died) may have delivered events past
 * the saved cursor; the new holder delivers them again from the cursor, in the same order. Two
 * in-order passes over one sequence, merged, still show every event's first arrival in order.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { backoffDelay, type BackoffOptions } from './backoff.js'
import type { Outbox, OutboxEvent } from './outbox.js'
import type { Sink, SinkFailure, SinkFailureReason } from './sink.js'

/** A pino-like logger (timhook's server logger fits). */
export interface SinkLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface SinkRunnerOptions {
  outbox: Outbox
  sinks: readonly Sink[]
  /** This instance's name in the leases. Default `<hostname>:<pid>:<random>`. */
  holder?: string | undefined
  /** Events read and sent per round. Default 200. */
  batchSize?: number | undefined
  /** How often an idle loop looks for new events, ms (`wake()` looks at once). Default 500. */
  pollMs?: number | undefined
  /** Lease duration, ms: a dead holder's sinks are taken over this long after its last renewal. Default 6000. */
  leaseTtlMs?: number | undefined
  /** Retry back-off of failed deliveries. Default 200 ms doubling to 30 s, with jitter. */
  backoff?: BackoffOptions | undefined
  /** Permanent refusals of one event in a row before it is dead-lettered. Default 5. */
  deadLetterAfter?: number | undefined
  /** Where a sink seen for the first time starts: `end` (events recorded from now on) or `beginning`. Default `end`; per sink in `startAt`. */
  start?: 'beginning' | 'end' | undefined
  startAt?: Readonly<Record<string, 'beginning' | 'end'>> | undefined
  /** A sink whose oldest undelivered event is older than this is "falling behind" (logged once, until it catches up). Default 10 000 ms. */
  behindAfterMs?: number | undefined
  logger?: SinkLogger | undefined
  /** Events confirmed by a sink. */
  onDelivered?: ((sink: string, count: number) => void) | undefined
  /** A failed delivery attempt. */
  onFailure?: ((sink: string, reason: SinkFailureReason) => void) | undefined
  /** An event put in the dead-letter list. */
  onDeadLetter?: ((sink: string, event: OutboxEvent, reason: string) => void) | undefined
}

/** What this instance knows about one sink right now. */
export interface SinkLiveStatus {
  name: string
  type: string
  /** True while this instance holds the sink's lease (delivers it). */
  holding: boolean
  /** The cursor this instance delivers from (when holding). */
  position: string | null
  /** Events after the cursor (recomputed every few seconds while behind). */
  lagEvents: number
  /** Age of the oldest undelivered event, seconds (0 when caught up). */
  lagSeconds: number
  delivered: number
  /** True while deliveries fail (retrying). */
  failing: boolean
  consecutiveFailures: number
  lastError: { reason: string; message: string; at: string } | null
}

export interface SinkRunner {
  readonly holder: string
  /** New events may be there (a commit happened): idle loops look now. */
  wake(): void
  status(): SinkLiveStatus[]
  /** Stops every loop (after its current attempt), releases the leases held and closes the sinks. */
  close(): Promise<void>
}

const noLog: SinkLogger = { info() {}, warn() {}, error() {} }

/**
 * Starts one delivery loop per sink.
 * @example
 * const runner = startSinkRunner({ outbox: await openOutbox('./timhook.db'), sinks: [webhookSink({ name: 'billing', url })] })
 */
export function startSinkRunner(options: SinkRunnerOptions): SinkRunner {
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const names = new Set<string>()
  for (const s of options.sinks) {
    if (names.has(s.name)) throw new Error(`two sinks are named ${JSON.stringify(s.name)}: names must be unique`)
    names.add(s.name)
  }
  let closed = false
  const read = options.sinks.length > 1 ? sharedReads(options.outbox, 4 * options.sinks.length) : options.outbox.read.bind(options.outbox)
  const loops = options.sinks.map((sink) => new SinkLoop(sink, holder, options, () => closed, read))
  const running = loops.map((l) => l.run())
  return {
    holder,
    wake() {
      for (const l of loops) l.wake()
    },
    status: () => loops.map((l) => l.status()),
    async close() {
      if (closed) return
      closed = true
      for (const l of loops) l.stop()
      await Promise.all(running)
      await Promise.all(options.sinks.map((s) => s.close().catch(() => {})))
    },
  }
}

type Read = Outbox['read']

/**
 * `outbox.read`, shared: a read of the same position and limit as one in flight, or as one of the
 * last `keep` reads, gets the same events instead of reading the store again. Correct because an
 * outbox answer stays a valid answer: the events it returned are committed, in delivery order, and
 * none can later appear before them (the `Outbox` rule); a later read from the same position may
 * only return more. An empty answer (caught up) is not kept, so a loop polling at the end always
 * reads afresh; a failed read is not kept either.
 * @example const read = sharedReads(outbox, 12); await read('0', 200)
 */
export function sharedReads(outbox: Outbox, keep: number): Read {
  const recent = new Map<string, Promise<OutboxEvent[]>>()
  return (position, limit) => {
    const key = `${limit} ${position}`
    let events = recent.get(key)
    if (events !== undefined) return events
    events = outbox.read(position, limit)
    recent.set(key, events)
    const forget = () => {
      if (recent.get(key) === events) recent.delete(key)
    }
    events.then((e) => e.length === 0 && forget(), forget)
    // The oldest read leaves first (Map keeps insertion order).
    while (recent.size > keep) recent.delete(recent.keys().next().value!)
    return events
  }
}

class SinkLoop {
  private readonly outbox: Outbox
  private readonly log: SinkLogger
  private readonly batch: number
  private readonly pollMs: number
  private readonly ttl: number
  private readonly renewMs: number
  private readonly deadAfter: number
  private readonly behindMs: number
  private readonly start: 'beginning' | 'end'
  private holding = false
  private position: string | null = null
  private epoch = 0
  private leasedAt = 0
  private failures = 0
  private failingSince: number | null = null
  private refused: { id: number; count: number } | null = null
  private lastError: SinkLiveStatus['lastError'] = null
  private lagEvents = 0
  private oldestAt: number | null = null
  private lagCheckedAt = 0
  private behindSince: number | null = null
  private delivered = 0
  private wakeUp: (() => void) | undefined
  private woken = false
  private stopSleep: (() => void) | undefined

  constructor(
    private readonly sink: Sink,
    private readonly holder: string,
    private readonly options: SinkRunnerOptions,
    private readonly isClosed: () => boolean,
    private readonly read: Read,
  ) {
    this.outbox = options.outbox
    this.log = options.logger ?? noLog
    this.batch = options.batchSize ?? 200
    this.pollMs = options.pollMs ?? 500
    this.ttl = options.leaseTtlMs ?? 6000
    this.renewMs = Math.max(50, Math.floor(this.ttl / 4))
    this.deadAfter = sink.deadLetterAfter ?? options.deadLetterAfter ?? 5
    this.behindMs = options.behindAfterMs ?? 10_000
    this.start = options.startAt?.[sink.name] ?? options.start ?? 'end'
  }

  wake(): void {
    this.woken = true
    this.wakeUp?.()
  }

  stop(): void {
    this.wakeUp?.()
    this.stopSleep?.()
  }

  status(): SinkLiveStatus {
    return {
      name: this.sink.name,
      type: this.sink.type,
      holding: this.holding,
      position: this.holding ? this.position : null,
      lagEvents: this.lagEvents,
      lagSeconds: this.oldestAt === null ? 0 : Math.max(0, (Date.now() - this.oldestAt) / 1000),
      delivered: this.delivered,
      failing: this.failingSince !== null,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
    }
  }

  async run(): Promise<void> {
    let outboxFailures = 0
    while (!this.isClosed()) {
      try {
        if (!(await this.ensureLease())) {
          await this.sleep(this.renewMs, false)
          continue
        }
        const redrives = await this.outbox.redrives(this.sink.name, this.batch)
        if (redrives.length > 0) {
          await this.redrive(redrives)
          continue
        }
        const events = await this.read(this.position!, this.batch)
        outboxFailures = 0
        if (events.length === 0) {
          this.caughtUp()
          await this.sleep(this.pollMs, true)
          continue
        }
        await this.deliver(events)
      } catch (err) {
        // The store itself failed (database down): wait and try again; the lease expires meanwhile if it lasts.
        outboxFailures++
        if (outboxFailures === 1)
          this.log.warn({ sink: this.sink.name, err: errText(err) }, 'sink cannot read or write its cursor in the store; retrying')
        await this.sleep(backoffDelay(outboxFailures, this.options.backoff), false)
      }
    }
    if (this.holding) await this.outbox.release(this.sink.name, this.holder).catch(() => {})
    this.holding = false
  }

  /** Takes or renews the lease when due; false while another instance holds it. */
  private async ensureLease(): Promise<boolean> {
    if (this.holding && Date.now() - this.leasedAt < this.renewMs) return true
    const cursor = await this.outbox.lease(this.sink.name, this.holder, this.ttl, this.start)
    if (cursor === null) {
      if (this.holding) this.log.warn({ sink: this.sink.name }, 'sink lease lost to another instance; it delivers from now on')
      this.holding = false
      return false
    }
    if (!this.holding || cursor.epoch !== this.epoch) {
      if (!this.holding)
        this.log.info({ sink: this.sink.name, type: this.sink.type, position: cursor.position }, 'sink delivering from this instance')
      else this.log.info({ sink: this.sink.name, position: cursor.position }, 'sink cursor moved by a replay; delivering from there')
      this.position = cursor.position
      this.epoch = cursor.epoch
      this.refused = null
    }
    this.holding = true
    this.leasedAt = Date.now()
    return true
  }

  /** Saves the cursor; false (and the lease is looked at again) when another holder or a replay changed it. */
  private async advance(position: string, deadLetter?: { event: OutboxEvent; reason: string; attempts: number }): Promise<boolean> {
    const ok = await this.outbox.advance(this.sink.name, this.holder, this.epoch, position, deadLetter)
    if (!ok) {
      this.holding = false
      return false
    }
    this.position = position
    this.leasedAt = Date.now()
    return true
  }

  private async deliver(events: OutboxEvent[]): Promise<void> {
    const commands = this.sink.commands
    const wanted = commands === undefined ? events : events.filter((e) => commands.has(e.command))
    this.oldestAt = events[0]!.receivedAt
    await this.refreshLag()
    const result = wanted.length === 0 ? { confirmed: 0 } : await this.sink.send(wanted)
    // A sink that reports a failure after confirming everything has delivered everything.
    const failure = result.confirmed >= wanted.length ? undefined : result.failure
    // Up to where the cursor may move: everything read when all was confirmed, else up to the event before the first unconfirmed one.
    let upTo: number
    if (failure === undefined) upTo = events.length
    else upTo = events.indexOf(wanted[result.confirmed]!)
    if (upTo > 0) {
      if (!(await this.advance(events[upTo - 1]!.position))) return
      if (result.confirmed > 0) {
        this.delivered += result.confirmed
        this.options.onDelivered?.(this.sink.name, result.confirmed)
      }
      this.oldestAt = upTo < events.length ? events[upTo]!.receivedAt : null
    }
    if (failure === undefined) {
      this.succeeded()
      return
    }
    const event = wanted[result.confirmed]!
    // Progress before this failure: the back-off starts over (it grows with failures in a row at one event).
    if (result.confirmed > 0) this.failures = 0
    this.failed(failure)
    if (failure.permanent) {
      this.refused = this.refused?.id === event.id ? { id: event.id, count: this.refused.count + 1 } : { id: event.id, count: 1 }
      if (this.refused.count >= this.deadAfter) {
        const attempts = this.refused.count
        if (!(await this.advance(event.position, { event, reason: failure.message, attempts }))) return
        this.refused = null
        this.log.warn(
          { sink: this.sink.name, id: event.id, key: event.key, command: event.command, attempts, reason: failure.message },
          'sink dead-lettered an event it refused every time; delivery moves on',
        )
        this.options.onDeadLetter?.(this.sink.name, event, failure.message)
        this.failures = 0
        return
      }
    } else {
      this.refused = null
    }
    await this.backoff(failure)
  }

  private async redrive(events: OutboxEvent[]): Promise<void> {
    for (const event of events) {
      const result = await this.sink.send([event])
      if (result.failure === undefined) {
        await this.outbox.settleRedrive(this.sink.name, event.id)
        this.delivered++
        this.options.onDelivered?.(this.sink.name, 1)
        this.log.info({ sink: this.sink.name, id: event.id, key: event.key }, 'sink delivered a re-driven dead letter')
        this.succeeded()
        continue
      }
      this.failed(result.failure)
      if (result.failure.permanent) {
        await this.outbox.settleRedrive(this.sink.name, event.id, { reason: result.failure.message })
        this.log.warn(
          { sink: this.sink.name, id: event.id, reason: result.failure.message },
          'sink: a re-driven dead letter was refused again; it stays in the list',
        )
        continue
      }
      await this.backoff(result.failure)
      return
    }
  }

  private succeeded(): void {
    if (this.failingSince !== null) {
      this.log.info(
        { sink: this.sink.name, failures: this.failures, failingForMs: Date.now() - this.failingSince },
        'sink deliveries work again',
      )
    }
    this.failures = 0
    this.failingSince = null
  }

  private failed(failure: SinkFailure): void {
    this.failures++
    this.lastError = { reason: failure.reason, message: failure.message, at: new Date().toISOString() }
    this.options.onFailure?.(this.sink.name, failure.reason)
    if (this.failingSince === null) {
      this.failingSince = Date.now()
      this.log.warn({ sink: this.sink.name, reason: failure.reason, err: failure.message }, 'sink delivery failed; retrying with back-off')
    }
    this.checkBehind()
  }

  /** Waits before the next attempt (renewing the lease meanwhile). */
  private async backoff(failure: SinkFailure): Promise<void> {
    const delay = Math.max(backoffDelay(this.failures, this.options.backoff), failure.retryAfterMs ?? 0)
    const until = Date.now() + delay
    while (!this.isClosed() && Date.now() < until) {
      await this.sleep(Math.min(this.renewMs, until - Date.now()), false)
      if (this.isClosed()) return
      if (!(await this.ensureLease())) return
    }
  }

  private async refreshLag(): Promise<void> {
    if (Date.now() - this.lagCheckedAt < 2000) return
    this.lagCheckedAt = Date.now()
    const lag = await this.outbox.lag(this.position!, 1_000_000)
    this.lagEvents = lag.events
    this.checkBehind()
  }

  private checkBehind(): void {
    if (this.behindSince !== null || this.oldestAt === null) return
    if (Date.now() - this.oldestAt < this.behindMs) return
    this.behindSince = Date.now()
    this.log.warn(
      {
        sink: this.sink.name,
        lagEvents: this.lagEvents,
        lagSeconds: Math.round((Date.now() - this.oldestAt) / 1000),
        lastError: this.lastError?.message,
      },
      'sink is falling behind',
    )
  }

  private caughtUp(): void {
    this.lagEvents = 0
    this.oldestAt = null
    if (this.behindSince !== null) {
      this.log.info({ sink: this.sink.name, behindForMs: Date.now() - this.behindSince }, 'sink caught up again')
      this.behindSince = null
    }
  }

  /** Sleeps `ms`; `wakeable`: until `wake()` too. `stop()` always ends it. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.woken) {
      this.woken = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wakeUp = undefined
        this.stopSleep = undefined
        if (wakeable) this.woken = false
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      this.stopSleep = done
      if (wakeable) this.wakeUp = done
    })
  }
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err))
