/**
 * The SQLite writer looks for messages waiting for their decision (an after-send stored before its
 * before-send) only when some stored message has no decision: a property test that every message
 * still gets its decision whatever the order of sends and before-sends, how they fall into batches,
 * and which of two stores writing one file (a second process, a restart) commits them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decision, freshStore, groupBefore, groupSend, record } from './helpers.js'

interface Step {
  /** Which message (0..), and whether this is its before-send or its after-send. */
  msg: number
  before: boolean
  /** Which of the two stores on the file writes it. */
  store: number
  /** Commit what is queued (both stores) after this step: a batch boundary. */
  cut: boolean
}

// Messages 0..n-1, each with or without a before-send, their callbacks in a generated order.
const scenario = fc
  .array(fc.boolean(), { minLength: 1, maxLength: 6 })
  .chain((hasBefore) => {
    const kinds = hasBefore.flatMap((b, msg) =>
      b
        ? [
            { msg, before: true },
            { msg, before: false },
          ]
        : [{ msg, before: false }],
    )
    return fc.tuple(
      fc.constant(hasBefore),
      fc.shuffledSubarray(kinds, { minLength: kinds.length, maxLength: kinds.length }),
      fc.array(fc.record({ store: fc.nat({ max: 1 }), cut: fc.boolean() }), { minLength: kinds.length, maxLength: kinds.length }),
    )
  })
  .map(([hasBefore, order, how]) => ({ hasBefore, steps: order.map((k, i): Step => ({ ...k, ...how[i]! })) }))

describe('SQLite: decisions waiting for their message and messages waiting for their decision', () => {
  it('every message gets its before-send decision, whatever the order, the batches and the writing store (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ hasBefore, steps }) => {
        const t = await freshStore('sqlite')
        try {
          const stores = [t.store, await t.reopen()]
          const group = (msg: number) => `@wait-${msg}`
          for (const s of steps) {
            const rec = s.before
              ? record(groupBefore(group(s.msg), 1000 + s.msg), { decision: decision({ rule: `rule-${s.msg}` }) })
              : record(groupSend(group(s.msg), s.msg))
            stores[s.store]!.enqueue(rec)
            if (s.cut) for (const st of stores) await st.flush()
          }
          for (const st of stores) await st.flush()
          for (const [msg, b] of hasBefore.entries()) {
            const items = (await stores[0]!.listMessages({ groupId: group(msg), limit: 10 })).items
            assert.equal(items.length, 1, `message ${msg} stored`)
            assert.equal(
              (items[0]!.decision as { rule?: string } | null)?.rule ?? null,
              b ? `rule-${msg}` : null,
              `decision of message ${msg}`,
            )
          }
        } finally {
          await t.cleanup()
        }
      }),
      { numRuns: 30 },
    )
  })
})
