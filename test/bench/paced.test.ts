/**
 * The pacing's search (bench/lib/paced.ts `searchPacing`), against a model of a server that
 * batches its commits: a request costs more CPU the fewer connections are sending, so its core
 * share barely falls with its rate, and a load aimed at 80 % of its core share would hold far less
 * than 80 % of its maximum rate. The search must hold 80 % of the maximum's rate (within the
 * tolerance), and when no count can, return the count that came closest and say so.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { nextConnections, RATE_TOLERANCE, searchPacing, type Load } from '../../bench/lib/paced.js'

/** CPU µs per request with c connections sending: 150 plus a share of a commit that fewer requests split. */
const cost = (c: number) => 150 + 600 / c
/** A paced connection sends `perConnection` req/s at most; the core caps the total. */
function model(perConnection: number) {
  const run = (c: number, rps: number) => {
    const share = (rps * cost(c)) / 1e6
    return share <= 1 ? { rps, cpuShare: share } : { rps: 1e6 / cost(c), cpuShare: 1 }
  }
  const max: Load = async (c) => run(c, Infinity)
  const paced: Load = async (c) => run(c, c * perConnection)
  return { max, paced }
}

describe('pacing at 80 % of the maximum rate', () => {
  it('holds 80 % of the maximum’s rate, where 80 % of its core share would hold far less', async () => {
    const m = model(400)
    const top = await m.max(100)
    const c = await searchPacing(0.8, m)
    assert.equal(c.maxRps, top.rps)
    assert.equal(c.maxCpuShare, top.cpuShare)
    assert.equal(c.targetRps, 0.8 * top.rps)
    assert.ok(c.holds)
    assert.ok(Math.abs(c.held.rps - c.targetRps) <= RATE_TOLERANCE * c.targetRps, `held ${c.held.rps} of ${c.targetRps}`)
    assert.deepEqual(c.held, await m.paced(c.connections), 'held is what the connections returned do')
    assert.ok(c.trials.length <= 7, JSON.stringify(c.trials))
    // The model's core share at that rate is well above 80 % of the maximum's: a share aim undershoots the rate.
    assert.ok(c.held.cpuShare > 0.8 * top.cpuShare + 0.05, `share ${c.held.cpuShare}`)
  })

  it('a rate that grows ever more slowly with the connections (latency grows with them) is reached in a few trials', async () => {
    // rps = 9000 × (1 − e^(−c/40)): the first connections add ~220 req/s each, the 80th only ~30.
    const rate = (n: number) => 9000 * (1 - Math.exp(-n / 40))
    const c = await searchPacing(0.8, {
      max: async () => ({ rps: 9000, cpuShare: 0.99 }),
      paced: async (n) => ({ rps: rate(n), cpuShare: 0.9 }),
    })
    assert.equal(c.targetRps, 7200)
    assert.ok(c.holds, JSON.stringify(c.trials))
    assert.ok(Math.abs(c.held.rps - 7200) <= RATE_TOLERANCE * 7200, JSON.stringify(c.trials))
    assert.equal(c.held.rps, rate(c.connections))
  })

  it('when no count holds the aim, returns the count that came closest and says it does not hold', async () => {
    // The paced rate stops at 3,000 req/s, whatever the connections: the aim 4,000 is out of reach.
    const capped: Load = async (n) => ({ rps: Math.min(n * 200, 3000), cpuShare: Math.min(n * 200, 3000) / 6000 })
    const c = await searchPacing(0.8, { max: async () => ({ rps: 5000, cpuShare: 0.5 }), paced: capped })
    assert.equal(c.targetRps, 4000)
    assert.equal(c.holds, false)
    assert.equal(c.held.rps, 3000)
    assert.equal(c.held.rps, Math.max(...c.trials.map((t) => t.rps)), 'the closest trial')
    assert.ok(c.trials.length < 7, `stops once more connections add nothing: ${JSON.stringify(c.trials)}`)
  })

  it('always ends within seven trials with a count between 1 and 1000, the closest tried, whatever the loads answer (noise included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 100, max: 50_000, noNaN: true }),
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 1, maxLength: 20 }),
        async (maxRps, perConnection, noise) => {
          let i = 0
          const jitter = () => noise[i++ % noise.length]!
          const c = await searchPacing(0.8, {
            max: async () => ({ rps: maxRps, cpuShare: 1 }),
            paced: async (n) => {
              const rps = n * perConnection * jitter()
              return { rps, cpuShare: Math.min(1, (rps * 200) / 1e6) }
            },
          })
          assert.ok(c.trials.length >= 1 && c.trials.length <= 7)
          assert.ok(Number.isInteger(c.connections) && c.connections >= 1 && c.connections <= 1000, String(c.connections))
          const off = (rps: number) => Math.abs(rps - c.targetRps)
          assert.ok(c.trials.some((t) => t.connections === c.connections && t.rps === c.held.rps))
          assert.ok(c.trials.every((t) => off(t.rps) >= off(c.held.rps)))
          assert.equal(c.holds, off(c.held.rps) <= RATE_TOLERANCE * c.targetRps)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('the next count to try', () => {
  it('stays strictly between a count below the aim and one above it, and ends when none is left', () => {
    const t = (connections: number, rps: number) => ({ connections, rps, cpuShare: 0.5 })
    assert.equal(nextConnections([t(10, 1000), t(30, 3000)], 2000), 20)
    assert.equal(nextConnections([t(10, 1000), t(11, 3000)], 2000), undefined)
    // The secant would land on a bound: one step inside it instead.
    assert.equal(nextConnections([t(10, 1999), t(30, 9000)], 2000), 11)
  })

  it('below the aim: one count that adds no rate may be noise (go on, proportionally); two in a row end the search', () => {
    const t = (connections: number, rps: number) => ({ connections, rps, cpuShare: 0.5 })
    assert.equal(nextConnections([t(10, 2357), t(14, 3216), t(15, 2921)], 3378), 17)
    assert.equal(nextConnections([t(10, 2357), t(14, 3216), t(15, 2921), t(17, 2940)], 3378), undefined)
    // Two counts that add rate: extrapolated along them.
    assert.equal(nextConnections([t(10, 2000), t(14, 2800)], 3400), 17)
  })

  it('never steps more than threefold, and stays between 1 and 1000', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            connections: fc.integer({ min: 1, max: 1000 }),
            rps: fc.double({ min: 0, max: 50_000, noNaN: true }),
            cpuShare: fc.constant(0.5),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.double({ min: 1, max: 40_000, noNaN: true }),
        (trials, aim) => {
          const next = nextConnections(trials, aim)
          if (next === undefined) return
          const tried = trials.map((x) => x.connections)
          assert.ok(Number.isInteger(next) && next >= 1 && next <= 1000, String(next))
          assert.ok(next <= 3 * Math.max(...tried) && next >= Math.min(...tried) / 3, `${tried} → ${next}`)
        },
      ),
    )
  })
})
