/**
 * A callback client shaped like Tencent's: the signed request target, the POST over a keep-alive
 * pool with one timeout over the whole exchange, and the answer classified. The emulator sends its
 * callbacks with it, and the load generator its load; it imports nothing of ours but the protocol.
 */
import { Pool } from 'undici'
import { sign } from '../protocol/signature.js'

/** What came back from one callback. */
export type CallbackOutcome =
  | { kind: 'answered'; status: 200; answer: Record<string, unknown>; latencyMs: number }
  | { kind: 'failed'; reason: 'timeout' | 'status' | 'not-json' | 'network'; status?: number; detail: string; latencyMs: number }

export interface CallbackSenderOptions {
  /** The configured callback URL; its own path and query are kept, ours are appended. */
  url: URL
  sdkAppId: string
  /** Adds `Sign` and `RequestTime` when set. */
  token?: string
  /** Whole-exchange timeout, ms (Tencent: 2000). */
  timeoutMs: number
  /** Keep-alive connections in the pool. */
  connections: number
  now?: () => number
}

export interface SendContext {
  /** `ClientIP`: who caused the event. */
  clientIp?: string
  /** `OptPlatform`: `RESTAPI` for REST-triggered events. */
  optPlatform?: string
}

export interface CallbackSender {
  /**
   * The request target (path + query) of one callback, signed for the current second. Build it once
   * per callback and pass it to `send`, so that what is logged is what is sent.
   */
  target(command: string, context?: SendContext): string
  /** POSTs one callback to a target built by `target` and classifies the answer. Never rejects. */
  send(target: string, body: object): Promise<CallbackOutcome>
  close(): Promise<void>
}

/** Largest answer read; anything longer is not an answer Tencent would parse. */
const MAX_ANSWER_BYTES = 1024 * 1024

/**
 * A callback client shaped like Tencent's: POST with the documented query (`SdkAppid`,
 * `CallbackCommand`, `contenttype`, `ClientIP`, `OptPlatform`), `Sign = sha256(token + RequestTime)` when
 * a token is set, a keep-alive pool (Tencent: "persistent connection by default") and one timeout over
 * the whole exchange (2 s, as Tencent's).
 * @example
 * const sender = createCallbackSender({ url: new URL('http://127.0.0.1:8080/im'), sdkAppId: '1400000000', timeoutMs: 2000, connections: 32 })
 * const outcome = await sender.send(sender.target('Group.CallbackAfterSendMsg', { clientIp: '127.0.0.1', optPlatform: 'RESTAPI' }), body)
 */
export function createCallbackSender(options: CallbackSenderOptions): CallbackSender {
  const { url, sdkAppId, token, timeoutMs } = options
  const now = options.now ?? Date.now
  const pool = new Pool(url.origin, {
    connections: options.connections,
    keepAliveTimeout: 60_000,
    // Our own timer bounds the whole exchange; undici's must not fire first with a different error.
    headersTimeout: timeoutMs + 1000,
    bodyTimeout: timeoutMs + 1000,
  })
  const basePath = url.pathname
  const baseQuery = url.search.length > 1 ? url.search.slice(1) + '&' : ''
  let signedSecond = -1
  let signedSuffix = ''

  function target(command: string, context: SendContext = {}): string {
    let q = `${baseQuery}SdkAppid=${sdkAppId}&CallbackCommand=${encodeURIComponent(command)}&contenttype=json`
    if (context.clientIp !== undefined) q += `&ClientIP=${encodeURIComponent(context.clientIp)}`
    if (context.optPlatform !== undefined) q += `&OptPlatform=${encodeURIComponent(context.optPlatform)}`
    if (token !== undefined) {
      const second = Math.floor(now() / 1000)
      // RequestTime has one-second resolution: one digest per second is enough.
      if (second !== signedSecond) {
        signedSecond = second
        signedSuffix = `&Sign=${sign(token, second)}&RequestTime=${second}`
      }
      q += signedSuffix
    }
    return `${basePath}?${q}`
  }

  const send = (path: string, body: object): Promise<CallbackOutcome> =>
    exchange(pool, path, Buffer.from(JSON.stringify(body), 'utf8'), timeoutMs)

  return { send, target, close: () => pool.close() }
}

type Failure = Extract<CallbackOutcome, { kind: 'failed' }>['reason']

/**
 * One POST over the pool, classified: answered (200 and a JSON object) or failed (timeout, status,
 * not JSON, network). One timer bounds the whole exchange. Never rejects.
 */
function exchange(pool: Pool, path: string, payload: Buffer, timeoutMs: number): Promise<CallbackOutcome> {
  const started = performance.now()
  return new Promise<CallbackOutcome>((resolve) => {
    let settled = false
    let status = 0
    let size = 0
    const chunks: Buffer[] = []
    let abort: ((err: Error) => void) | undefined
    const finish = (outcome: CallbackOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    const failed = (reason: Failure, detail: string, withStatus = status !== 0) =>
      finish({ kind: 'failed', reason, ...(withStatus && { status }), detail, latencyMs: performance.now() - started })
    // A plain timer and undici's abort callback: cheaper than an AbortController per callback, and exact.
    const timer = setTimeout(() => {
      failed('timeout', `no answer within ${timeoutMs} ms`, false)
      abort?.(new Error('callback timeout'))
    }, timeoutMs)
    try {
      pool.dispatch(
        { method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': String(payload.length) }, body: payload },
        {
          onConnect(abortRequest) {
            abort = abortRequest
            if (settled) abortRequest(new Error('callback timeout'))
          },
          onHeaders(statusCode) {
            status = statusCode
            return true
          },
          onData(chunk) {
            size += chunk.length
            if (size > MAX_ANSWER_BYTES) {
              failed('not-json', `answer longer than ${MAX_ANSWER_BYTES} bytes`)
              abort?.(new Error('answer too long'))
              return false
            }
            chunks.push(chunk)
            return true
          },
          onComplete() {
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
            const answer = classify(status, text)
            if (typeof answer === 'string') return failed(status !== 200 ? 'status' : 'not-json', answer)
            finish({ kind: 'answered', status: 200, answer, latencyMs: performance.now() - started })
          },
          onError(err) {
            failed('network', err.message)
          },
        },
      )
    } catch (err) {
      failed('network', (err as Error).message)
    }
  })
}

/** The answer object of a complete exchange, or why it is not one. */
function classify(status: number, text: string): Record<string, unknown> | string {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 200)}`
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    return `answer is not JSON: ${JSON.stringify(text.slice(0, 100))}`
  }
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer))
    return `answer is JSON but not an object: ${text.slice(0, 100)}`
  return answer as Record<string, unknown>
}
