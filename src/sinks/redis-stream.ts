/**
 * Redis Streams sink: one `XADD <stream> * event <envelope> command <command>` per event, pipelined
 * on one connection (node-redis sends commands issued together in one write and answers them in
 * order), with `MAXLEN ~ maxLen` when configured. Commands are not queued while disconnected: a
 * send fails at once and the delivery loop retries with back-off.
 */
import { createClient } from '@redis/client'
import { envelopeJson } from './envelope.js'
import type { OutboxEvent } from './outbox.js'
import { SinkFailure, failureOf, settleInOrder, type SendResult, type Sink } from './sink.js'

export interface RedisStreamSinkOptions {
  name: string
  /** `redis://[user:password@]host:port/db` or `rediss://…`. */
  url: string
  /** The stream key. */
  stream: string
  /** Approximate length limit (`MAXLEN ~`); unset: no trimming. */
  maxLen?: number | undefined
  commands?: readonly string[] | undefined
  /** Connect and command limit, ms. Default 5000. */
  timeoutMs?: number | undefined
}

/**
 * @example const sink = redisStreamSink({ name: 'archive', url: 'redis://127.0.0.1:6379/0', stream: 'tim:events' })
 */
export function redisStreamSink(options: RedisStreamSinkOptions): Sink {
  const timeoutMs = options.timeoutMs ?? 5000
  let client: ReturnType<typeof createClient> | undefined
  let connecting: Promise<unknown> | undefined
  let lastError: unknown

  const connected = async () => {
    if (client === undefined) {
      client = createClient({
        url: options.url,
        disableOfflineQueue: true,
        socket: { connectTimeout: timeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
      })
      // Errors surface through the commands that fail; the listener keeps them from crashing the process.
      client.on('error', (err: unknown) => {
        lastError = err
      })
      connecting = client.connect().catch((err: unknown) => {
        lastError = err
      })
    }
    if (!client.isReady) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([connecting, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
      clearTimeout(timer)
      if (!client.isReady) {
        const cause = lastError instanceof Error ? lastError.message : 'no connection'
        throw new SinkFailure('unavailable', `Redis at ${redact(options.url)} is not reachable: ${cause}`, { cause: lastError })
      }
    }
    return client
  }

  const trim =
    options.maxLen === undefined
      ? undefined
      : { TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '~' as const, threshold: options.maxLen } }

  return {
    name: options.name,
    type: 'redis-stream',
    commands: options.commands === undefined ? undefined : new Set(options.commands),
    async send(events: OutboxEvent[]): Promise<SendResult> {
      let c: Awaited<ReturnType<typeof connected>>
      try {
        c = await connected()
      } catch (err) {
        return { confirmed: 0, failure: failureOf(err) }
      }
      const sends = events.map((e) =>
        withTimeout(c.xAdd(options.stream, '*', { event: envelopeJson(e), command: e.command }, trim), timeoutMs),
      )
      return settleInOrder(sends)
    },
    async close() {
      const c = client
      client = undefined
      if (c === undefined) return
      try {
        if (c.isOpen) await c.close()
      } catch {
        c.destroy()
      }
    },
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new SinkFailure('timeout', `no answer within ${ms} ms`)), ms))),
  ])
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(invalid URL)'
  }
}
