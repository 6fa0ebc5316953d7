/** Reload on file change and on a signal; a bad file keeps the old policy serving. */
import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { PolicyError, watchPolicy, type Policy } from '../../src/policy/index.js'
import { groupEvent } from './helpers.js'

const rules = (word: string) => `rules:\n  - name: words\n    when: { keywordsFile: ./words.txt, keywords: ["${word}"] }\n    then: deny\n`

function waitFor<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = check()
      if (v !== undefined) return resolve(v)
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(tick, 10)
    }
    tick()
  })
}

describe('watchPolicy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-watch-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'policy.yaml')

  it('reloads when the rules file or a word file changes (including replace-by-rename), keeps the old policy on a bad file', async () => {
    writeFileSync(file, rules('alpha'))
    writeFileSync(join(dir, 'words.txt'), 'gamma\n')
    const reloads: Policy[] = []
    const errors: Error[] = []
    const watcher = watchPolicy(file, { debounceMs: 20, onReload: (p) => void reloads.push(p), onError: (e) => void errors.push(e) })
    try {
      const decide = (t: string) => watcher.policy.decide(groupEvent(t)).action
      assert.deepEqual([decide('alpha'), decide('beta'), decide('gamma')], ['deny', 'allow', 'deny'])
      assert.equal(watcher.decide(groupEvent('alpha')).rule, 'words')
      assert.equal(watcher.decide(groupEvent('alpha')).action, 'deny')
      writeFileSync(file, rules('beta'))
      await waitFor('reload after write', () => (reloads.length >= 1 ? true : undefined))
      assert.deepEqual([decide('alpha'), decide('beta')], ['allow', 'deny'])
      // Editors save by writing a temp file and renaming it over the original.
      writeFileSync(join(dir, 'tmp.yaml'), rules('delta'))
      renameSync(join(dir, 'tmp.yaml'), file)
      await waitFor('reload after rename', () => (decide('delta') === 'deny' ? true : undefined))
      writeFileSync(join(dir, 'words.txt'), 'epsilon\n')
      await waitFor('reload after the word file changed', () => (decide('epsilon') === 'deny' ? true : undefined))
      assert.equal(decide('gamma'), 'allow')
      const before = watcher.policy
      writeFileSync(file, 'rules:\n  - name: x\n    when: { regex: "(a+)+$" }\n    then: deny\n')
      await waitFor('an error for the bad file', () => (errors.length >= 1 ? true : undefined))
      assert.ok(errors[0] instanceof PolicyError)
      assert.match(errors[0].message, /rules\[0\]\.when\.regex: .*can backtrack catastrophically/)
      assert.equal(watcher.policy, before, 'the old policy keeps serving')
      assert.equal(decide('epsilon'), 'deny')
    } finally {
      watcher.close()
    }
  })

  it('the configured signal and reload() reload; rate windows survive reloads', async () => {
    writeFileSync(
      file,
      'rules:\n  - name: flood\n    scope: { commands: [group] }\n    when: { rate: { per: sender, max: 2, window: 1h } }\n    then: { deny: { code: 10101 } }\n',
    )
    const reloads: Policy[] = []
    const watcher = watchPolicy(file, { signal: 'SIGHUP', debounceMs: 60_000, onReload: (p) => void reloads.push(p) })
    try {
      const now = Date.now()
      assert.equal(watcher.policy.decide(groupEvent('1'), now).action, 'allow')
      assert.equal(watcher.policy.decide(groupEvent('2'), now).action, 'allow')
      const first = watcher.policy
      process.kill(process.pid, 'SIGHUP')
      await waitFor('the SIGHUP reload', () => (reloads.length === 1 ? true : undefined))
      assert.notEqual(watcher.policy, first)
      const third = watcher.reload()
      assert.ok(third !== undefined && third === watcher.policy && reloads.length === 2)
      assert.equal(watcher.policy.decide(groupEvent('3'), now).action, 'deny', 'the window carried over')
    } finally {
      watcher.close()
    }
    assert.equal(process.listenerCount('SIGHUP'), 0, 'close() removed the signal handler')
  })

  it('the first load throws (there is nothing to fall back to)', () => {
    writeFileSync(file, 'rules: 3\n')
    assert.throws(() => watchPolicy(file), PolicyError)
  })
})
