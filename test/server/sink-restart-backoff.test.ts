/**
 * The pause before the sinks' background is started again: growing while it crashes in a row,
 * back to the first step after a run long enough to count as healthy.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RESTART_HEALTHY_MS, RESTART_MAX_MS, restartBackoff } from '../../src/server/attach-sinks.js'

describe('sinks restart backoff', () => {
  it('grows in a crash loop, to the longest pause, and stays there', () => {
    let t = 0
    const b = restartBackoff(() => t)
    const delays: number[] = []
    for (let i = 0; i < 9; i++) {
      // Each restarted background gets ready, then crashes a second later.
      b.ready()
      t += 1_000
      const d = b.next()
      delays.push(d)
      t += d
    }
    assert.deepEqual(delays, [500, 1_000, 2_000, 4_000, 8_000, 16_000, RESTART_MAX_MS, RESTART_MAX_MS, RESTART_MAX_MS])
  })

  it('grows while the background never gets ready, however long it takes to fail', () => {
    let t = 0
    const b = restartBackoff(() => t)
    b.ready()
    t += 10
    assert.equal(b.next(), 500)
    t += 10 * RESTART_HEALTHY_MS
    assert.equal(b.next(), 1_000)
    t += 10 * RESTART_HEALTHY_MS
    assert.equal(b.next(), 2_000)
  })

  it('restarts after the first pause again once a background ran healthy long enough', () => {
    let t = 0
    const b = restartBackoff(() => t)
    for (let i = 0; i < 8; i++) {
      b.ready()
      t += 100
      t += b.next()
    }
    b.ready()
    t += 100
    assert.equal(b.next(), RESTART_MAX_MS)
    // Weeks of healthy running, then one crash: a quick restart.
    b.ready()
    t += 21 * 24 * 3600_000
    assert.equal(b.next(), 500)
    // A crash loop right after it still backs off.
    b.ready()
    t += 100
    assert.equal(b.next(), 1_000)
    b.ready()
    t += RESTART_HEALTHY_MS - 1
    assert.equal(b.next(), 2_000)
    b.ready()
    t += RESTART_HEALTHY_MS
    assert.equal(b.next(), 500)
  })

  it('counts healthy from the moment it got ready, not from the last crash', () => {
    let t = 0
    const b = restartBackoff(() => t)
    b.ready()
    t += 100
    assert.equal(b.next(), 500)
    // A long start (never ready) is no healthy run.
    t += 2 * RESTART_HEALTHY_MS
    b.ready()
    t += 100
    assert.equal(b.next(), 1_000)
  })
})
