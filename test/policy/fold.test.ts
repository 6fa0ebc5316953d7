import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { foldText, originalRange } from '../../src/policy/fold.js'

describe('foldText', () => {
  it('folds full-width to half-width and upper to lower case', () => {
    assert.equal(foldText('ＢＵＹ　ＮＯＷ！').text, 'buy now!')
    assert.equal(foldText('Ｖx１２３').text, 'vx123')
    assert.equal(foldText('ｱｲｳ').text, 'アイウ') // half-width katakana → full-width (NFKC)
  })

  it('leaves CJK and lower-case ASCII as they are, without a map', () => {
    const f = foldText('免费领取 buy now')
    assert.equal(f.text, '免费领取 buy now')
    assert.equal(f.map, null)
  })

  it('removes zero-width characters slipped between letters', () => {
    assert.equal(foldText('b\u200Bu\u200Dy n\uFEFFow').text, 'buy now')
  })

  it('folds styled letters outside the BMP (surrogate pairs)', () => {
    assert.equal(foldText('𝐁𝐔𝐘 now').text, 'buy now')
  })

  it('maps folded ranges back to the original text', () => {
    const original = 'xx Ｂ\u200BＵＹ yy'
    const f = foldText(original)
    const at = f.text.indexOf('buy')
    const [s, e] = originalRange(f, at, at + 3)
    assert.equal(original.slice(s, e), 'Ｂ\u200BＵＹ')
    const styled = '𝐁𝐔𝐘!'
    const g = foldText(styled)
    assert.deepEqual(originalRange(g, 0, 3), [0, 6])
  })

  it('never maps a folded range to half a surrogate pair (a pair folding to a pair, or to several units)', () => {
    // U+10D50 lower-cases to U+10D70 (another pair); U+1F110 folds to "(a)"; U+1F14A to "hv" (two
    // units, like the pair, but not one character). Found by the property below.
    for (const cp of [0x10d50, 0x1f110, 0x1f14a, 0x1d401]) {
      const s = `x${String.fromCodePoint(cp)}y`
      const f = foldText(s)
      for (let fs = 0; fs < f.text.length; fs++) {
        for (let fe = fs + 1; fe <= f.text.length; fe++) {
          const [os, oe] = originalRange(f, fs, fe)
          const cut = (i: number) => i > 0 && i < s.length && (s.charCodeAt(i) & 0xfc00) === 0xdc00
          assert.ok(!cut(os) && !cut(oe), `U+${cp.toString(16)}: folded ${fs}..${fe} → ${os}..${oe} splits a pair`)
          assert.ok(foldText(s.slice(os, oe)).text.includes(f.text.slice(fs, fe)), `U+${cp.toString(16)}: folded ${fs}..${fe}`)
        }
      }
    }
  })

  it('property: every folded range maps to an ordered range inside the original', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(), fc.nat(), (s, a, b) => {
        const f = foldText(s)
        if (f.text.length === 0) return
        const fs = a % f.text.length
        const fe = fs + 1 + (b % (f.text.length - fs))
        const [os, oe] = originalRange(f, fs, fe)
        assert.ok(0 <= os && os < oe && oe <= s.length, `${os}..${oe} in ${s.length}`)
        // Folding the original range gives back (at least) the folded range: nothing is lost by masking it.
        assert.ok(foldText(s.slice(os, oe)).text.includes(f.text.slice(fs, fe)))
      }),
    )
  })
})
