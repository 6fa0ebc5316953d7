import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Counter, Histogram, Registry } from 'prom-client'
import { CallbackTally, PhaseHistogram, tallyCounter } from '../../src/server/callback-tally.js'

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]
const HELP = 'some help'

/** Ours and prom-client's own, fed the same observations, scraped after each batch. */
function pair() {
  const ours = new Registry()
  const tally = new CallbackTally()
  tallyCounter(tally, ours, 'x_callbacks_total', HELP)
  const histogram = new PhaseHistogram('x_duration_seconds', HELP, BUCKETS, ours)
  const theirs = new Registry()
  const counter = new Counter({ name: 'x_callbacks_total', help: HELP, labelNames: ['command', 'outcome'], registers: [theirs] })
  const reference = new Histogram({ name: 'x_duration_seconds', help: HELP, labelNames: ['phase'], buckets: BUCKETS, registers: [theirs] })
  return {
    ours,
    theirs,
    count(command: string, outcome: string) {
      tally.count(command, outcome)
      counter.labels(command, outcome).inc()
    },
    observe(phase: string, seconds: number) {
      histogram.observe(phase, seconds)
      reference.labels(phase).observe(seconds)
    },
  }
}

const event = fc.oneof(
  fc.record({
    kind: fc.constant('count' as const),
    command: fc.constantFrom('Group.CallbackAfterSendMsg', 'C2C.CallbackBeforeSendMsg', 'unknown', 'none'),
    outcome: fc.constantFrom('ok', 'allow', 'deny', 'failed', 'rejected'),
  }),
  fc.record({
    kind: fc.constant('observe' as const),
    phase: fc.constantFrom('before', 'after', 'rejected'),
    // Exact bucket bounds too: a value on a bound belongs to that bucket (le).
    seconds: fc.oneof(fc.constantFrom(...BUCKETS), fc.double({ min: 0, max: 10, noNaN: true })),
  }),
)

describe('callback metrics in plain numbers', () => {
  it('scrape to the same text as prom-client counters and histograms fed the same values, scrape after scrape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(event, { maxLength: 40 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        const p = pair()
        assert.equal(await p.ours.metrics(), await p.theirs.metrics())
        for (const batch of batches) {
          for (const e of batch) {
            if (e.kind === 'count') p.count(e.command, e.outcome)
            else p.observe(e.phase, e.seconds)
          }
          assert.equal(await p.ours.metrics(), await p.theirs.metrics())
        }
      }),
      { numRuns: 200 },
    )
  })

  it('counts what it was given', async () => {
    const p = pair()
    for (let i = 0; i < 3; i++) p.count('Group.CallbackAfterSendMsg', 'ok')
    p.observe('after', 0.003)
    const text = await p.ours.metrics()
    assert.match(text, /x_callbacks_total\{command="Group.CallbackAfterSendMsg",outcome="ok"\} 3/)
    assert.match(text, /x_duration_seconds_bucket\{le="0.0025",phase="after"\} 0/)
    assert.match(text, /x_duration_seconds_bucket\{le="0.005",phase="after"\} 1/)
    assert.match(text, /x_duration_seconds_count\{phase="after"\} 1/)
  })
})
