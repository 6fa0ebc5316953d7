import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { parseQuery } from '../../src/receiver/parse-query.js'

const decodable = (qs: string) => {
  try {
    decodeURIComponent(qs.replace(/\+/g, ' '))
    return true
  } catch {
    return false
  }
}

describe('parseQuery', () => {
  it('reads a callback query', () => {
    assert.deepEqual({ ...parseQuery('SdkAppid=1400000000&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS') }, {
      SdkAppid: '1400000000', CallbackCommand: 'Group.CallbackBeforeSendMsg', contenttype: 'json', ClientIP: '1.2.3.4', OptPlatform: 'iOS',
    })
  })
  it('handles a leading ?, empty values, bare names, escapes, + and malformed escapes', () => {
    assert.deepEqual({ ...parseQuery('?a=&b&c=x%20y+z&d=%E4%BD%A0&e=%zz&=v&a=again') }, { a: '', b: '', c: 'x y z', d: '你', e: '%zz' })
  })
  it('agrees with URLSearchParams.get for every name, on generated query strings', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9%+=._~-]{0,12}$/)
    fc.assert(
      fc.property(fc.array(fc.tuple(part, part), { maxLength: 8 }), (pairs) => {
        const qs = pairs.map(([k, v]) => `${k}=${v}`).join('&')
        const mine = parseQuery(qs)
        const theirs = new URLSearchParams(qs)
        // URLSearchParams turns an undecodable escape into U+FFFD; timhook keeps the text as sent. Both refuse it later.
        if (!decodable(qs)) return
        for (const [k] of theirs) {
          if (k === '') continue // timhook reads named parameters only
          assert.equal(mine[k], theirs.get(k), `${k} in ${qs}`)
        }
      }),
      { numRuns: 2000 },
    )
  })
  it('cannot be polluted through __proto__', () => {
    const q = parseQuery('__proto__=x&constructor=y')
    assert.equal(q.__proto__, 'x')
    assert.equal(({} as Record<string, unknown>).x, undefined)
  })
})
