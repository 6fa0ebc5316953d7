import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { pathOf, queryOf } from '../../src/receiver/request-target.js'

describe('request target: the one splitter', () => {
  it('splits origin-form and absolute targets, with and without a query or fragment', () => {
    assert.equal(queryOf('/'), '')
    assert.equal(queryOf('/tim?SdkAppid=1&Sign=x'), 'SdkAppid=1&Sign=x')
    assert.equal(queryOf('http://h:1/tim?a=1#frag'), 'a=1')
    assert.equal(queryOf('http://h/tim#frag?a=1'), '', 'a ? after # is the fragment')
    assert.equal(queryOf('/x?a=1?b=2'), 'a=1?b=2')
    assert.equal(pathOf('/tim/callback?a=1'), '/tim/callback')
    assert.equal(pathOf('/tim#x'), '/tim')
    assert.equal(pathOf('/api/messages'), '/api/messages')
  })

  it('for any path, query and fragment: the parts come back as written', () => {
    const part = (without: string) => fc.string().filter((s) => ![...without].some((c) => s.includes(c)))
    fc.assert(
      fc.property(part('?#'), part('#'), fc.option(fc.string(), { nil: undefined }), (path, query, fragment) => {
        const target = `/${path}?${query}${fragment === undefined ? '' : `#${fragment}`}`
        assert.equal(queryOf(target), query)
        assert.equal(pathOf(target), `/${path}`)
      }),
    )
  })
})
