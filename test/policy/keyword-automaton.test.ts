import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { KeywordAutomaton } from '../../src/policy/keyword-automaton.js'

function naive(words: string[], text: string): string[] {
  const out: string[] = []
  for (const w of new Set(words)) {
    if (w === '') continue
    for (let i = text.indexOf(w); i !== -1; i = text.indexOf(w, i + 1)) out.push(`${i}:${w}`)
  }
  return out.sort()
}

function all(ac: KeywordAutomaton, text: string): string[] {
  const out: string[] = []
  ac.scan(text, (w, s, e) => void out.push(`${s}:${text.slice(s, e)}`))
  return out.sort()
}

describe('KeywordAutomaton', () => {
  it('finds overlapping and nested keywords, CJK and Latin', () => {
    const ac = new KeywordAutomaton(['he', 'she', 'his', 'hers', '免费', '免费领取', '领取'])
    assert.deepEqual(all(ac, 'ushers 免费领取'), ['1:she', '2:he', '2:hers', '7:免费', '7:免费领取', '9:领取'])
  })

  it('stops at the first match when asked', () => {
    const ac = new KeywordAutomaton(['a', 'b'])
    let calls = 0
    assert.equal(
      ac.scan('xxaxxb', () => (calls++, true)),
      true,
    )
    assert.equal(calls, 1)
  })

  it('handles 10,000 keywords, wide root fan-out included', () => {
    const words = Array.from({ length: 10_000 }, (_, i) => `${String.fromCharCode(0x4e00 + (i % 5000))}词${i}`)
    const ac = new KeywordAutomaton(words)
    assert.equal(ac.words.length, 10_000)
    assert.deepEqual(all(ac, `前缀${words[9_999]}后缀`), [`2:${words[9_999]}`])
  })

  it('property: finds exactly what a naive search finds', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', '免', '费', 'ab')
    const word = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((x) => x.join(''))
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 30 }),
        fc.array(alphabet, { maxLength: 40 }).map((x) => x.join('')),
        (words, text) => {
          assert.deepEqual(all(new KeywordAutomaton(words), text), naive(words, text))
        },
      ),
    )
  })
})
