/**
 * Webhook sink: one signed POST per event (Standard Webhooks headers `webhook-id` = the key,
 * `webhook-timestamp`, `webhook-signature`), one at a time, in order, over kept-alive connections
 * (undici). 2xx: delivered. 4xx other than 408 and 429: the endpoint refuses this event (a permanent
 * failure: repeated, the event is dead-lettered). Anything else — 408, 429, 3xx, 5xx, a timeout, a
 * refused connection — is retried without end; a `Retry-After` is honoured.
 */
import { Agent, request } from 'undici'
import { envelopeJson } from './envelope.js'
import type { OutboxEvent } from './outbox.js'
import { signWebhook, webhookSecretKey } from './signature.js'
import { SinkFailure, failureOf, type SendResult, type Sink } from './sink.js'

export interface WebhookSinkOptions {
  name: string
  url: string
  /** Standard Webhooks signing secret, `whsec_<base64>`; without it requests are not signed. */
  secret?: string | undefined
  /** Per-request limit (connect, headers and body), ms. Default 5000. */
  timeoutMs?: number | undefined
  /** Extra request headers (e.g. an Authorization). */
  headers?: Readonly<Record<string, string>> | undefined
  commands?: readonly string[] | undefined
  /** 4xx answers (other than 408/429) to one event in a row before it is dead-lettered. Default 5. */
  deadLetterAfter?: number | undefined
}

/** Seconds or an HTTP date → ms, or undefined. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return undefined
  if (/^\d+$/.test(v.trim())) return Math.min(Number(v.trim()) * 1000, 300_000)
  const t = Date.parse(v)
  return Number.isFinite(t) ? Math.max(0, Math.min(t - Date.now(), 300_000)) : undefined
}

/**
 * @example const sink = webhookSink({ name: 'billing', url: 'https://billing.internal/tim', secret: 'whsec_…' })
 */
export function webhookSink(options: WebhookSinkOptions): Sink {
  const url = new URL(options.url)
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`webhook sink ${options.name}: url must be http(s), got ${url.protocol}`)
  const key = options.secret === undefined ? undefined : webhookSecretKey(options.secret)
  const timeoutMs = options.timeoutMs ?? 5000
  const dispatcher = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 30_000,
    connections: 4,
  })

  const post = async (e: OutboxEvent): Promise<void> => {
    const body = envelopeJson(e)
    const headers: Record<string, string> = { ...options.headers, 'content-type': 'application/json', 'webhook-id': e.key }
    const ts = Math.floor(Date.now() / 1000)
    headers['webhook-timestamp'] = String(ts)
    if (key !== undefined) headers['webhook-signature'] = signWebhook(key, e.key, ts, body)
    const res = await request(url, { method: 'POST', body, headers, dispatcher, signal: AbortSignal.timeout(timeoutMs) })
    // The answer's body is not used; reading it frees the connection for the next request.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {})
    const s = res.statusCode
    if (s >= 200 && s < 300) return
    const what = `${options.url} answered ${s}`
    if (s >= 400 && s < 500 && s !== 408 && s !== 429) throw new SinkFailure('http_4xx', what, { permanent: true })
    const wait = retryAfterMs(res.headers['retry-after'])
    throw new SinkFailure(
      s >= 500 ? 'http_5xx' : s === 408 || s === 429 ? 'http_4xx' : 'http_other',
      what,
      wait === undefined ? {} : { retryAfterMs: wait },
    )
  }

  return {
    name: options.name,
    type: 'webhook',
    commands: options.commands === undefined ? undefined : new Set(options.commands),
    deadLetterAfter: options.deadLetterAfter ?? 5,
    async send(events: OutboxEvent[]): Promise<SendResult> {
      for (let i = 0; i < events.length; i++) {
        try {
          await post(events[i]!)
        } catch (err) {
          const f = failureOf(err)
          return {
            confirmed: i,
            failure:
              (err as { name?: string }).name === 'AbortError' || (err as { name?: string }).name === 'TimeoutError'
                ? new SinkFailure('timeout', `${options.url}: no answer within ${timeoutMs} ms`)
                : f,
          }
        }
      }
      return { confirmed: events.length }
    },
    async close() {
      await dispatcher.close().catch(() => {})
    },
  }
}
