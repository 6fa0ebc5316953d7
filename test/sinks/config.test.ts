/** Sink definitions, the envelope and the back-off: checked without any server. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { backoffDelay } from '../../src/sinks/backoff.js'
import { parseSinks } from '../../src/sinks/config.js'
import { envelopeJson } from '../../src/sinks/envelope.js'
import { streamSubjectsOf } from '../../src/sinks/nats-jetstream.js'
import { ConfigError, loadConfig } from '../../src/server/config.js'

const event = (raw: string, decision: string | null = null) => ({
  position: '7',
  id: 7,
  key: 'k|1',
  command: 'C2C.CallbackAfterSendMsg',
  sdkAppId: '1400000000',
  receivedAt: 1_700_000_000_123,
  raw: Buffer.from(raw),
  decision,
})

describe('sink definitions', () => {
  const ok = [
    { name: 'archive', type: 'redis-stream', url: 'redis://127.0.0.1:6379/0', stream: 'tim:events', maxLen: 1000000 },
    { name: 'bus', type: 'nats-jetstream', url: 'nats://127.0.0.1:4222', stream: 'TIM', subject: 'tim.{command}' },
    {
      name: 'billing',
      type: 'webhook',
      url: 'https://billing.internal/tim',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      timeoutMs: 5000,
      commands: ['Group.CallbackAfterSendMsg'],
    },
  ]

  it('reads the documented example from the config file fields and from TIMHOOK_SINKS (JSON)', () => {
    const fromEnv = loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1400000000', TIMHOOK_SINKS: JSON.stringify(ok) } })
    assert.deepEqual(
      fromEnv.sinks.map((s) => [s.name, s.type]),
      [
        ['archive', 'redis-stream'],
        ['bus', 'nats-jetstream'],
        ['billing', 'webhook'],
      ],
    )
    assert.deepEqual(loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1400000000' } }).sinks, [])
  })

  it('names the sink and the field of a mistake', () => {
    const bad = (list: unknown[], re: RegExp) =>
      assert.throws(
        () => loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1400000000', TIMHOOK_SINKS: JSON.stringify(list) } }),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      )
    bad([{ ...ok[0], url: 'http://x' }], /sinks\[0\]\.url \(from TIMHOOK_SINKS\): a URL starting with redis:\/\/ or rediss:\/\//)
    bad([ok[0], { ...ok[2], secret: 'whsec_not base64!' }], /sinks\[1\]\.secret .*whsec_/)
    bad([ok[0], ok[0]], /two sinks are named "archive"/)
    bad([{ ...ok[1], type: 'kafka' }], /sinks\[0\]\.type/)
    bad([{ ...ok[0], extra: 1 }], /sinks\[0\] \(from TIMHOOK_SINKS\): unknown field extra/)
    assert.throws(
      () => loadConfig({ env: { TIMHOOK_SDK_APP_ID: '1', TIMHOOK_SINKS: '[{' } }),
      /sinks \(from TIMHOOK_SINKS\): not valid JSON/,
    )
    assert.throws(() => parseSinks('[{'), /sinks: not valid JSON/)
  })

  it('creates the JetStream stream for every command under the subject prefix', () => {
    assert.deepEqual(streamSubjectsOf('tim.{command}'), ['tim.>'])
    assert.deepEqual(streamSubjectsOf('{command}'), ['>'])
    assert.deepEqual(streamSubjectsOf('app.tim'), ['app.tim'])
  })
})

describe('the envelope', () => {
  it('keeps the body exactly as received: integers past 2^53 keep their digits', () => {
    const raw = '{"CallbackCommand":"C2C.CallbackAfterSendMsg","MsgRandom":12345678901234567890,"Text":"你好"}'
    const json = envelopeJson(event(raw, '{"verdict":"deny","rule":"r"}'))
    assert.equal(
      json,
      `{"id":7,"key":"k|1","command":"C2C.CallbackAfterSendMsg","sdkAppId":"1400000000","receivedAt":1700000000123,"event":${raw},"decision":{"verdict":"deny","rule":"r"}}`,
    )
    assert.deepEqual(JSON.parse(json).decision, { verdict: 'deny', rule: 'r' })
  })

  it('is JSON for any JSON body, with a BOM or white space around it', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const parsed = JSON.parse(envelopeJson(event('\ufeff ' + text + '\n'))) as { event: unknown }
        assert.deepEqual(parsed.event, JSON.parse(text))
      }),
    )
  })
})

describe('back-off', () => {
  it('grows exponentially to its cap, with jitter between half and all of each step', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffDelay(a, { baseMs: 100, maxMs: 10_000 }, () => 0)),
      [50, 100, 200, 400],
    )
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffDelay(a, { baseMs: 100, maxMs: 10_000 }, () => 1)),
      [100, 200, 400, 800],
    )
    assert.equal(
      backoffDelay(40, { baseMs: 100, maxMs: 10_000 }, () => 1),
      10_000,
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (a, r) => {
        const d = backoffDelay(a, { baseMs: 200, maxMs: 30_000 }, () => r)
        const step = Math.min(30_000, 200 * 2 ** (a - 1))
        assert.ok(d >= step / 2 - 1 && d <= step + 1)
      }),
    )
  })
})
