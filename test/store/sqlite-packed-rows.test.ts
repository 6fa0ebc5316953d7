/**
 * The hand-over of a batch to the SQLite writer thread: every row, of every kind, comes out of
 * `unpackRows` as it went into `packRows` (raw bodies byte for byte, nulls and empty strings kept
 * apart), through a real structured clone with the buffer transferred.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { WriteRow } from '../../src/store/records.js'
import { packRows, unpackRows } from '../../src/store/sqlite-packed-rows.js'

const text = fc.string({ unit: 'binary', maxLength: 40 })
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null })
const int = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })

const event = fc.record({
  kind: fc.constant('event' as const),
  idempotencyKey: text,
  command: text,
  sdkAppId: text,
  clientIp: maybe(text),
  optPlatform: maybe(text),
  receivedAt: int,
  requestId: text,
  raw: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  valid: fc.boolean(),
  verdict: maybe(text),
  rule: maybe(text),
  decision: maybe(text),
  sendKey: maybe(text),
})
const message = fc.record({
  kind: fc.constant('message' as const),
  key: text,
  sendKey: text,
  decisionKey: text,
  decisionKeyBare: text,
  family: fc.constantFrom('group' as const, 'c2c' as const),
  groupId: maybe(text),
  topicId: maybe(text),
  msgSeq: maybe(int),
  msgKey: maybe(text),
  fromAccount: maybe(text),
  toAccount: maybe(text),
  msgTime: maybe(int),
  receivedAt: int,
  body: text,
})
const recall = fc.record({ kind: fc.constant('recall' as const), key: text, recalledAt: int, recalledBy: maybe(text) })
const rejection = fc.record({ kind: fc.constant('rejection' as const), cause: text })
const rows: fc.Arbitrary<WriteRow[]> = fc.array(fc.oneof(event, message, recall, rejection), { maxLength: 40 })

describe('packed rows', () => {
  it('unpack what was packed, through a structured clone with the buffer transferred', () => {
    fc.assert(
      fc.property(rows, (batch) => {
        const packed = packRows(batch)
        const copy = structuredClone(packed, { transfer: [packed.bytes] })
        assert.equal(packed.bytes.byteLength, 0, 'the buffer was transferred, not copied')
        const back = unpackRows(copy.values, copy.bytes)
        assert.deepEqual(
          back.map((r) => (r.kind === 'event' ? { ...r, raw: Buffer.from(r.raw) } : r)),
          batch.map((r) => ({ ...r })), // fast-check's records have no prototype
        )
      }),
    )
  })

  it('refuses a batch it cannot read, naming where', () => {
    assert.throws(() => unpackRows([7, 'x'], new ArrayBuffer(0)), /unknown row kind at 0: 7/)
  })
})
