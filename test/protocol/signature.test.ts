import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sign, verify } from '../../src/protocol/signature.js'

const NOW = 1669872112_000

describe('sign', () => {
  it('reproduces the documented example (token xxxxyyyy, RequestTime 1669872112)', () => {
    assert.equal(sign('xxxxyyyy', 1669872112), '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061')
    assert.equal(sign('xxxxyyyy', '1669872112'), sign('xxxxyyyy', 1669872112))
  })
})

describe('verify', () => {
  const good = { sign: sign('tok', 1669872112), requestTime: '1669872112' }

  it('accepts a valid signature within the window', () => {
    assert.deepEqual(verify(good, { tokens: 'tok', now: NOW }), { ok: true })
  })
  it('accepts an upper-case hex signature', () => {
    assert.deepEqual(verify({ ...good, sign: good.sign.toUpperCase() }, { tokens: 'tok', now: NOW }), { ok: true })
  })
  it('accepts any of several tokens (rotation) and refuses others', () => {
    assert.equal(verify(good, { tokens: ['old', 'tok'], now: NOW }).ok, true)
    assert.deepEqual(verify(good, { tokens: ['old', 'other'], now: NOW }), { ok: false, reason: 'mismatch' })
  })
  it('refuses a missing Sign or RequestTime', () => {
    assert.equal(verify({ sign: undefined, requestTime: '1669872112' }, { tokens: 'tok', now: NOW }).ok, false)
    assert.deepEqual(verify({ sign: good.sign, requestTime: null }, { tokens: 'tok', now: NOW }), { ok: false, reason: 'missing' })
  })
  it('refuses a RequestTime that is not Unix seconds', () => {
    assert.deepEqual(verify({ ...good, requestTime: '16698x' }, { tokens: 'tok', now: NOW }), { ok: false, reason: 'invalid-time' })
  })
  it('enforces the ±60 s window at its edges, and a configured window', () => {
    assert.equal(verify(good, { tokens: 'tok', now: NOW + 60_000 }).ok, true)
    assert.deepEqual(verify(good, { tokens: 'tok', now: NOW + 61_000 }), { ok: false, reason: 'skew', skewSeconds: -61 })
    assert.deepEqual(verify(good, { tokens: 'tok', now: NOW - 61_000 }), { ok: false, reason: 'skew', skewSeconds: 61 })
    assert.equal(verify(good, { tokens: 'tok', now: NOW + 200_000, maxSkewSeconds: 300 }).ok, true)
  })
  it('refuses a signature of the wrong length or alphabet without throwing', () => {
    for (const bad of ['', 'abc', good.sign + '00', 'z'.repeat(64)]) {
      assert.equal(verify({ ...good, sign: bad }, { tokens: 'tok', now: NOW }).ok, false)
    }
  })
  it('refuses characters beyond ASCII whose low byte would spell the right digest', () => {
    // U+0161 and U+0141 have the low bytes 0x61 ('a') and 0x41 ('A'): a Latin-1 write would turn them into hex digits.
    const i = good.sign.indexOf('a')
    assert.ok(i >= 0)
    const aliased = good.sign.slice(0, i) + '\u0161' + good.sign.slice(i + 1)
    assert.deepEqual(verify({ ...good, sign: aliased }, { tokens: 'tok', now: NOW }), { ok: false, reason: 'mismatch' })
    assert.deepEqual(verify({ ...good, sign: good.sign.slice(0, i) + '\u0141' + good.sign.slice(i + 1) }, { tokens: 'tok', now: NOW }), {
      ok: false,
      reason: 'mismatch',
    })
  })
  it('still verifies after the tokens or the second change (the digest cache is keyed by both)', () => {
    const later = { sign: sign('tok', 1669872113), requestTime: '1669872113' }
    assert.equal(verify(good, { tokens: 'tok', now: NOW }).ok, true)
    assert.equal(verify(later, { tokens: 'tok', now: NOW }).ok, true)
    assert.equal(verify(later, { tokens: 'other', now: NOW }).ok, false)
    assert.equal(verify(good, { tokens: ['x', 'tok'], now: NOW }).ok, true)
    assert.equal(verify(good, { tokens: 'tok', now: NOW }).ok, true)
  })
  it('sees a tokens array changed in place (rotation) at once, within the same second', () => {
    const tokens = ['old', 'tok']
    assert.equal(verify(good, { tokens, now: NOW }).ok, true)
    tokens.splice(1, 1) // 'tok' retired
    assert.deepEqual(verify(good, { tokens, now: NOW }), { ok: false, reason: 'mismatch' })
    tokens.push('tok')
    assert.equal(verify(good, { tokens, now: NOW }).ok, true)
  })
})
