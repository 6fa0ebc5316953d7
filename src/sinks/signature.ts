/**
 * Standard Webhooks signatures (symmetric scheme `v1`): HMAC-SHA256 of `{id}.{timestamp}.{body}`,
 * base64, keyed with the secret's base64 part (`whsec_<base64>`). The webhook sink signs with it;
 * consumers may verify with `verifyWebhook` (or any Standard Webhooks library).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** A request whose signature, timestamp or headers do not verify; the message names the cause. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WebhookVerificationError'
  }
}

/**
 * The HMAC key of a signing secret: `whsec_` + base64 (the prefix is optional).
 * @throws Error naming the cause when the secret is empty or not base64.
 */
export function webhookSecretKey(secret: string): Buffer {
  if (typeof secret !== 'string' || secret === '')
    throw new Error('the webhook secret is empty: use whsec_ followed by base64 (at least 24 bytes)')
  const b64 = secret.startsWith('whsec_') ? secret.slice(6) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1)
    throw new Error('the webhook secret is not base64 after its whsec_ prefix')
  const key = Buffer.from(b64, 'base64')
  if (key.length === 0) throw new Error('the webhook secret decodes to no bytes')
  return key
}

const sign = (key: Buffer, id: string, timestamp: number | string, body: string | Uint8Array): string => {
  const mac = createHmac('sha256', key)
  mac.update(`${id}.${timestamp}.`)
  mac.update(body)
  return mac.digest('base64')
}

/**
 * The `webhook-signature` header value for one message.
 * @example signWebhook('whsec_…', 'msg_1', 1614265330, '{"a":1}') // 'v1,…='
 */
export function signWebhook(secret: string | Buffer, id: string, timestampSeconds: number, body: string | Uint8Array): string {
  const key = typeof secret === 'string' ? webhookSecretKey(secret) : secret
  return `v1,${sign(key, id, timestampSeconds, body)}`
}

export interface VerifyOptions {
  /** Largest accepted distance between `webhook-timestamp` and now, seconds. Default 300. */
  toleranceSeconds?: number | undefined
  /** Now, ms since the epoch (tests). Default Date.now(). */
  now?: number | undefined
}

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null }

const header = (headers: HeaderBag, name: string): string | undefined => {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined
  const bag = headers as Record<string, string | string[] | undefined>
  const v = bag[name] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1]
  return Array.isArray(v) ? v[0] : v
}

/**
 * Verifies a Standard Webhooks request: the headers `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (a space-separated list; one matching `v1` signature is enough) against the
 * raw body, in constant time, and the timestamp against the tolerance. Returns the `webhook-id`
 * (the idempotency key of timhook's envelopes).
 * @throws WebhookVerificationError naming the cause.
 * @example const id = verifyWebhook(process.env.SECRET!, req.headers, rawBody)
 */
export function verifyWebhook(secret: string | Buffer, headers: HeaderBag, body: string | Uint8Array, options: VerifyOptions = {}): string {
  const key = typeof secret === 'string' ? webhookSecretKey(secret) : secret
  const id = header(headers, 'webhook-id')
  const ts = header(headers, 'webhook-timestamp')
  const sigs = header(headers, 'webhook-signature')
  if (id === undefined || id === '') throw new WebhookVerificationError('missing webhook-id header')
  if (ts === undefined || ts === '') throw new WebhookVerificationError('missing webhook-timestamp header')
  if (sigs === undefined || sigs === '') throw new WebhookVerificationError('missing webhook-signature header')
  if (!/^\d{1,15}$/.test(ts))
    throw new WebhookVerificationError(`webhook-timestamp is not an integer number of seconds: ${JSON.stringify(ts.slice(0, 32))}`)
  const tolerance = options.toleranceSeconds ?? 300
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  if (Math.abs(now - Number(ts)) > tolerance)
    throw new WebhookVerificationError(`webhook-timestamp ${ts} is more than ${tolerance} s from now (${now})`)
  const expected = Buffer.from(sign(key, id, ts, body), 'base64')
  for (const part of sigs.split(' ')) {
    const comma = part.indexOf(',')
    if (comma === -1 || part.slice(0, comma) !== 'v1') continue
    const given = Buffer.from(part.slice(comma + 1), 'base64')
    if (given.length === expected.length && timingSafeEqual(given, expected)) return id
  }
  throw new WebhookVerificationError('no v1 signature in webhook-signature matches the body')
}
