/**
 * A PostgreSQL batch is one call of `timhook_apply_batch`, its rows as JSON and its raw bodies as
 * one binary parameter. Generated batches — keys repeated within and across batches, messages and
 * recalls of one key in any order, text with U+0000 and lone surrogates — end, on the real server,
 * in the state a plain model of the store's promises gives: one event per stored key with its
 * deliveries and exact raw bytes, one message row per key (the first message and the first recall
 * win), and `/api/stats` counting each only once.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import pg from 'pg'
import { openPostgresBackend } from '../../src/store/postgres-backend.js'
import { batchParams, storedText } from '../../src/store/postgres-batch.js'
import type { StoreBackend } from '../../src/store/create-store.js'
import type { EventRow, MessageRow, RecallRow, WriteRow } from '../../src/store/records.js'
import { PG_SKIP, PG_URL, dropSchema } from './helpers.js'

// Few distinct values, so that keys meet; the odd characters PostgreSQL refuses in text among them.
const text = fc.constantFrom('a', 'b', 'a\u0000', 'a\uFFFD', 'b\ud800', 'b\uFFFD', 'c"\\u0000', 'é😀')
const eventRow = fc
  .record({ key: text, raw: fc.uint8Array({ maxLength: 40 }), verdict: fc.constantFrom(null, 'allow', 'deny'), ip: fc.option(text) })
  .map((e): EventRow => ({
    kind: 'event',
    idempotencyKey: `ev-${e.key}`,
    command: 'Group.CallbackBeforeSendMsg',
    sdkAppId: '1400000000',
    clientIp: e.ip,
    optPlatform: null,
    receivedAt: 1_700_000_000_000,
    requestId: 'r',
    raw: Buffer.from(e.raw),
    valid: true,
    verdict: e.verdict,
    rule: e.verdict === null ? null : `rule-${e.verdict}`,
    decision: e.verdict === null ? null : JSON.stringify({ verdict: e.verdict }),
    sendKey: null,
  }))
const messageRow = fc.record({ key: text, body: text }).map((m): MessageRow => ({
  kind: 'message',
  key: `m-${m.key}`,
  sendKey: '',
  decisionKey: '',
  decisionKeyBare: '',
  family: 'group',
  groupId: 'g',
  topicId: null,
  msgSeq: 1,
  msgKey: null,
  fromAccount: m.body,
  toAccount: null,
  msgTime: null,
  receivedAt: 1_700_000_000_000,
  body: JSON.stringify({ b: m.body }),
}))
const recallRow = fc
  .record({ key: text, at: fc.integer({ min: 1, max: 1000 }) })
  .map((r): RecallRow => ({ kind: 'recall', key: `m-${r.key}`, recalledAt: r.at, recalledBy: 'op' }))
const row: fc.Arbitrary<WriteRow> = fc.oneof(eventRow, messageRow, recallRow, fc.constant<WriteRow>({ kind: 'rejection', cause: 'X' }))
const batches = fc.array(fc.array(row, { maxLength: 12 }), { minLength: 1, maxLength: 4 })

/** What the store must hold after the batches, computed plainly. */
function model(list: WriteRow[][]) {
  const events = new Map<string, { raw: string; deliveries: number; verdict: string | null }>()
  const messages = new Map<string, { body: string | null; recalledAt: number | null }>()
  let rejections = 0
  for (const rows of list)
    for (const r of rows) {
      if (r.kind === 'event') {
        const k = storedText(r.idempotencyKey)
        const e = events.get(k)
        if (e === undefined) events.set(k, { raw: r.raw.toString('hex'), deliveries: 1, verdict: r.verdict })
        else e.deliveries++
      } else if (r.kind === 'message' || r.kind === 'recall') {
        const k = storedText(r.key)
        const m = messages.get(k) ?? { body: null, recalledAt: null }
        messages.set(k, m)
        if (r.kind === 'message') m.body ??= storedText(r.body)
        else m.recalledAt ??= r.recalledAt
      } else rejections++
    }
  return { events, messages, rejections }
}

describe('PostgreSQL batches in one statement', () => {
  it('batchParams: one event row per stored key with its deliveries and raw bytes, text that jsonb accepts', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), (rows) => {
        const [eventsJson, raws, messagesJson] = batchParams(rows)
        const events = JSON.parse(eventsJson) as Array<[string, ...unknown[]]>
        const want = model([rows])
        assert.equal(events.length, want.events.size)
        for (const e of events) {
          const w = want.events.get(e[0])!
          assert.equal(raws.subarray((e[7] as number) - 1, (e[7] as number) - 1 + (e[8] as number)).toString('hex'), w.raw)
          assert.equal(e[13], w.deliveries)
        }
        const messages = JSON.parse(messagesJson) as Array<[string, ...unknown[]]>
        assert.deepEqual(new Set(messages.map((m) => m[0])), new Set(want.messages.keys()))
        for (const json of [eventsJson, messagesJson]) assert.ok(!/\\u0000|\\ud[89ab]/i.test(json.replaceAll('\\\\', '')), json)
      }),
    )
  })

  describe('against the real server', { skip: PG_SKIP }, () => {
    let backend: StoreBackend
    let client: pg.Client
    let n = 0
    const schema = `pgb_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    before(async () => {
      backend = await openPostgresBackend(PG_URL!, { schema })
      client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
      await client.connect()
    })
    after(async () => {
      await backend?.close()
      await client?.end()
      await dropSchema(schema)
    })

    it('generated batches end in the model state, stats included', async () => {
      await fc.assert(
        fc.asyncProperty(batches, async (list) => {
          // Each run its own keys: a prefix (the same in every batch of the run).
          const run = `r${n++}-`
          const prefixed = list.map((rows) =>
            rows.map((r): WriteRow =>
              r.kind === 'event'
                ? { ...r, idempotencyKey: run + r.idempotencyKey }
                : r.kind === 'rejection'
                  ? r
                  : { ...r, key: run + r.key },
            ),
          )
          const before = await backend.stats()
          for (const rows of prefixed) await backend.commit(rows)
          const want = model(prefixed)
          const events = (
            await client.query<{ idem_key: string; raw: Buffer; deliveries: number }>(
              `SELECT idem_key, raw, deliveries FROM events WHERE starts_with(idem_key, $1)`,
              [run],
            )
          ).rows
          assert.equal(events.length, want.events.size)
          for (const e of events) {
            const w = want.events.get(e.idem_key)
            assert.ok(w !== undefined, e.idem_key)
            assert.equal(e.raw.toString('hex'), w.raw)
            assert.equal(e.deliveries, w.deliveries)
          }
          const messages = (
            await client.query<{ key: string; body: string | null; recalled_at: string | null }>(
              `SELECT key, body, recalled_at FROM messages WHERE starts_with(key, $1)`,
              [run],
            )
          ).rows
          assert.equal(messages.length, want.messages.size)
          for (const m of messages) {
            const w = want.messages.get(m.key)!
            assert.equal(
              m.body === null ? null : (JSON.parse(m.body) as { b: string }).b,
              w.body === null ? null : (JSON.parse(w.body) as { b: string }).b,
            )
            assert.equal(m.recalled_at === null ? null : Number(m.recalled_at), w.recalledAt)
          }
          const stats = await backend.stats()
          const ms = [...want.messages.values()]
          assert.equal(stats.events.total - before.events.total, want.events.size)
          assert.equal(stats.messages.total - before.messages.total, ms.filter((m) => m.body !== null).length)
          assert.equal(
            stats.messages.recalled - before.messages.recalled,
            ms.filter((m) => m.body !== null && m.recalledAt !== null).length,
          )
          assert.equal(
            stats.messages.recallsAwaitingMessage - before.messages.recallsAwaitingMessage,
            ms.filter((m) => m.body === null).length,
          )
          assert.equal((stats.rejections.byCause.X ?? 0) - (before.rejections.byCause.X ?? 0), want.rejections)
          const verdicts = (v: string) => [...want.events.values()].filter((e) => e.verdict === v).length
          assert.equal((stats.decisions.byVerdict.allow ?? 0) - (before.decisions.byVerdict.allow ?? 0), verdicts('allow'))
        }),
        { numRuns: 40 },
      )
    })
  })
})
