import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { scanQuery } from '../../src/receiver/parse-query.js'

const NAMES = ['SdkAppid', 'CallbackCommand', 'Sign', 'RequestTime', 'ClientIP', 'OptPlatform'] as const

const decodable = (qs: string) => {
  try {
    decodeURIComponent(qs.replace(/\+/g, ' '))
    return true
  } catch {
    return false
  }
}

describe('scanQuery', () => {
  it('reads a callback query', () => {
    assert.deepEqual(
      {
        ...scanQuery(
          'SdkAppid=1400000000&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS&Sign=ab&RequestTime=17',
        ),
      },
      {
        SdkAppid: '1400000000',
        CallbackCommand: 'Group.CallbackBeforeSendMsg',
        Sign: 'ab',
        RequestTime: '17',
        ClientIP: '1.2.3.4',
        OptPlatform: 'iOS',
      },
    )
  })
  it('handles a leading ?, empty values, bare names, escapes in names and values, + and malformed escapes', () => {
    assert.deepEqual(
      { ...scanQuery('?Sign=&ClientIP&Sdk%41ppid=x%20y+z&OptPlatform=%E4%BD%A0&RequestTime=%zz&=v&Sign=again') },
      {
        SdkAppid: 'x y z',
        CallbackCommand: undefined,
        Sign: '',
        RequestTime: '%zz',
        ClientIP: '',
        OptPlatform: '你',
      },
    )
  })
  it('ignores names that only share a length or a prefix with a wanted one', () => {
    assert.deepEqual(
      { ...scanQuery('SignX=1&Sig=2&sdkappid=3&SdkAppidd=4&ClientIQ=5&RequestTimf=6') },
      {
        SdkAppid: undefined,
        CallbackCommand: undefined,
        Sign: undefined,
        RequestTime: undefined,
        ClientIP: undefined,
        OptPlatform: undefined,
      },
    )
  })
  it('agrees with URLSearchParams.get for the six names, on generated query strings', () => {
    const name = fc.oneof(
      fc.constantFrom(...NAMES, 'Sign%3D', 'S%69gn', 'Client+IP', 'contenttype'),
      fc.stringMatching(/^[A-Za-z0-9%+._~-]{0,12}$/),
    )
    const value = fc.stringMatching(/^[A-Za-z0-9%+=._~-]{0,12}$/)
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value, fc.boolean()), { maxLength: 10 }), (pairs) => {
        const qs = pairs.map(([k, v, bare]) => (bare && v === '' ? k : `${k}=${v}`)).join('&')
        // URLSearchParams turns an undecodable escape into U+FFFD; timhook keeps the text as sent. Both refuse it later.
        if (!decodable(qs)) return
        const mine = scanQuery(qs)
        const theirs = new URLSearchParams(qs)
        for (const k of NAMES) assert.equal(mine[k], theirs.get(k) ?? undefined, `${k} in ${qs}`)
      }),
      { numRuns: 3000 },
    )
  })
  it('reads a wanted name after a long run of segments without "="', () => {
    const q = scanQuery('&'.repeat(200_000) + 'x&'.repeat(1000) + 'Sign=s&RequestTime=1')
    assert.deepEqual([q.Sign, q.RequestTime, q.SdkAppid], ['s', '1', undefined])
  })
  it('cannot be polluted through __proto__ or constructor', () => {
    const q = scanQuery('__proto__=x&constructor=y&SdkAppid=1')
    assert.equal(q.SdkAppid, '1')
    assert.equal(({} as Record<string, unknown>).x, undefined)
    assert.equal(Object.getPrototypeOf(q), Object.getPrototypeOf(scanQuery('')))
  })
})
