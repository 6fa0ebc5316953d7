/** Standard Webhooks signatures: the published example, and what must not verify. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { signWebhook, verifyWebhook, webhookSecretKey, WebhookVerificationError } from '../../src/sinks/signature.js'

const example = JSON.parse(readFileSync(new URL('../fixtures/standard-webhooks/example.json', import.meta.url), 'utf8')) as {
  secret: string
  id: string
  timestamp: number
  payload: string
  signature: string
}
const at = example.timestamp * 1000
const headers = (signature = example.signature, id = example.id, timestamp = String(example.timestamp)) => ({
  'webhook-id': id,
  'webhook-timestamp': timestamp,
  'webhook-signature': signature,
})

describe('Standard Webhooks signature', () => {
  it('signs the published example to its published signature', () => {
    assert.equal(signWebhook(example.secret, example.id, example.timestamp, example.payload), example.signature)
    assert.equal(signWebhook(example.secret, example.id, example.timestamp, Buffer.from(example.payload)), example.signature)
  })

  it('verifies the published example, with or without the whsec_ prefix, from a Headers object too', () => {
    assert.equal(verifyWebhook(example.secret, headers(), example.payload, { now: at }), example.id)
    assert.equal(verifyWebhook(example.secret.slice(6), headers(), example.payload, { now: at }), example.id)
    assert.equal(verifyWebhook(example.secret, new Headers(headers()), example.payload, { now: at }), example.id)
    // One matching v1 among others (key rotation) is enough; other versions are ignored.
    const several = `v1a,${example.signature.slice(3)} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${example.signature}`
    assert.equal(verifyWebhook(example.secret, headers(several), example.payload, { now: at }), example.id)
  })

  it('refuses a changed body, id or timestamp, a stale or future timestamp, and missing headers, naming why', () => {
    const refuses = (re: RegExp, h: Record<string, string>, body = example.payload, now = at) =>
      assert.throws(
        () => verifyWebhook(example.secret, h, body, { now }),
        (e: unknown) => e instanceof WebhookVerificationError && re.test(e.message),
      )
    refuses(/no v1 signature/, headers(), example.payload.replace('2432232314', '2432232315'))
    refuses(/no v1 signature/, headers(), example.payload + ' ')
    refuses(/no v1 signature/, headers(undefined, 'msg_other'))
    refuses(/no v1 signature/, headers(undefined, undefined, String(example.timestamp + 1)), example.payload, at + 1000)
    refuses(/more than 300 s/, headers(), example.payload, at + 301_000)
    refuses(/more than 300 s/, headers(), example.payload, at - 301_000)
    refuses(/not an integer/, headers(undefined, undefined, '16142653.30'))
    refuses(/missing webhook-id/, { 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' })
    refuses(/missing webhook-signature/, { 'webhook-id': 'a', 'webhook-timestamp': '1' })
    refuses(/no v1 signature/, headers('v1,'))
    refuses(/no v1 signature/, headers(example.signature.slice(0, 8)))
  })

  it('refuses secrets that are not base64, naming the cause', () => {
    assert.throws(() => webhookSecretKey(''), /empty/)
    assert.throws(() => webhookSecretKey('whsec_not base64!'), /not base64/)
  })

  it('verifies what it signs, and nothing else, for any id, time and body', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        fc.stringMatching(/^[A-Za-z0-9_|:-]{1,40}$/),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        (key, id, ts, body, flip) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`
          const h = headers(signWebhook(secret, id, ts, body), id, String(ts))
          assert.equal(verifyWebhook(secret, h, body, { now: ts * 1000 }), id)
          if (body.length > 0) {
            const changed = Uint8Array.from(body)
            changed[flip % body.length]! ^= 1
            assert.throws(() => verifyWebhook(secret, h, changed, { now: ts * 1000 }), WebhookVerificationError)
          }
        },
      ),
    )
  })
})
