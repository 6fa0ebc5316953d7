/**
 * The pacing's search (bench/lib/paced.ts `searchPacing`), against a model of a server that
 * batches its commits: a request costs more CPU the fewer connections are sending, so 80 % of the
 * 100-connection maximum as a rate fills the core under a paced load of a few dozen connections.
 * The search must aim at 80 % of the busy time instead, and hold it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { nextConnections, searchPacing, type Load } from '../../bench/lib/paced.js'

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

describe('pacing at 80 % of the maximum', () => {
  it('keeps the target busy 80 % of the time, where 80 % of the maximum rate would fill the core', async () => {
    const m = model(400)
    const top = await m.max(100)
    // The old calibration: paced connections sending 80 % of the 100-connection maximum's rate.
    const oldAim = 0.8 * top.rps
    const old = await m.paced(Math.round(oldAim / 400))
    assert.equal(old.cpuShare, 1, 'the model reproduces the old calibration: the core is full')

    const c = await searchPacing(0.8, m)
    assert.equal(c.maxRps, top.rps)
    assert.equal(c.aimShare, 0.8)
    assert.ok(Math.abs(c.held.cpuShare - 0.8) <= 0.04, `held ${c.held.cpuShare} of the core`)
    assert.deepEqual(c.held, await m.paced(c.connections), 'held is the trial run with the connections returned')
    assert.ok(c.targetRps < oldAim, `the aim ${c.targetRps} is below 80 % of the maximum's rate ${oldAim}`)
    assert.ok(Math.abs((c.targetRps * cost(c.connections)) / 1e6 - 0.8) < 1e-9, 'the aim is the rate at exactly 80 % of the core')
    assert.ok(c.trials.length <= 7)
  })

  it('aims at 80 % of the share the maximum used, when the target cannot have the whole core', async () => {
    const halved: Load = async (c) => ({ rps: Math.min(c * 200, 3000), cpuShare: Math.min(c * 200, 3000) / 6000 })
    const c = await searchPacing(0.8, { max: async () => ({ rps: 3000, cpuShare: 0.5 }), paced: halved })
    assert.equal(c.aimShare, 0.4)
    assert.ok(Math.abs(c.held.cpuShare - 0.4) <= 0.02, String(c.held.cpuShare))
    assert.equal(c.connections, 12)
  })

  it('always ends within seven trials with a count between 1 and 1000, whatever the loads answer (noise included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 1, maxLength: 20 }),
        async (maxShare, perConnection, noise) => {
          let i = 0
          const jitter = () => noise[i++ % noise.length]!
          const c = await searchPacing(0.8, {
            max: async () => ({ rps: 5000, cpuShare: maxShare }),
            paced: async (n) => {
              const rps = n * perConnection * jitter()
              return { rps, cpuShare: Math.min(1, (rps * 200) / 1e6) }
            },
          })
          assert.ok(c.trials.length >= 1 && c.trials.length <= 7)
          assert.ok(Number.isInteger(c.connections) && c.connections >= 1 && c.connections <= 1000, String(c.connections))
          assert.ok(Number.isFinite(c.targetRps) && c.targetRps >= 0)
          assert.equal(c.trials.at(-1)!.connections, c.connections)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('the next count to try', () => {
  it('a share that grows slowly with the connections (as serve’s does) is reached in a few trials', async () => {
    // share = 0.9 × (c ÷ 23)^0.1: 40 % fewer connections take only 5 % off the share.
    const share = (c: number) => 0.9 * (c / 23) ** 0.1
    const c = await searchPacing(0.8, {
      max: async () => ({ rps: 9600, cpuShare: 0.99 }),
      paced: async (n) => ({ rps: 300 * n, cpuShare: share(n) }),
    })
    assert.ok(
      Math.abs(c.held.cpuShare - c.aimShare) <= 0.05 * c.aimShare,
      `held ${c.held.cpuShare}, aim ${c.aimShare}: ${JSON.stringify(c.trials)}`,
    )
  })

  it('never steps more than threefold, and stays between 1 and 1000', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            connections: fc.integer({ min: 1, max: 1000 }),
            rps: fc.constant(1),
            cpuShare: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (trials, aim) => {
          const next = nextConnections(trials, aim)
          const last = trials.at(-1)!.connections
          assert.ok(Number.isInteger(next) && next >= 1 && next <= 1000)
          assert.ok(
            next <= Math.max(1, Math.round(last * 3)) && next >= Math.min(1000, Math.max(1, Math.round(last / 3))),
            `${last} → ${next}`,
          )
        },
      ),
    )
  })
})
