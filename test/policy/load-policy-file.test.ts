/** Load-time validation: every problem names the rule index, the field and what is wrong. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createPolicy, loadPolicyFile, PolicyError } from '../../src/policy/index.js'
import { groupEvent } from './helpers.js'

function issuesOf(config: unknown): string[] {
  try {
    createPolicy(config)
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err))
    assert.equal(err.code, 'TIMHOOK_POLICY_INVALID')
    return err.issues.map((i) => `${i.path}: ${i.message}`)
  }
  assert.fail('the policy was accepted')
}

const ok = { name: 'ok', when: { always: true }, then: 'allow' }

describe('validation', () => {
  it('custom deny codes are range-checked for the rule’s commands', () => {
    assert.match(
      issuesOf({ rules: [ok, { name: 'x', when: { always: true }, then: { deny: { code: 10101 } } }] })[0]!,
      /^rules\[1\]\.then\.deny\.code: 10101 is a group code but the rule also applies to C2C messages/,
    )
    assert.match(
      issuesOf({ rules: [{ scope: { commands: ['c2c'] }, when: { always: true }, then: { deny: { code: 10101 } } }] })[0]!,
      /^rules\[0\]\.then\.deny\.code: 10101 is a group code but the rule applies to C2C messages only \(C2C deny codes are 120001–130000\)/,
    )
    assert.match(
      issuesOf({ rules: [{ scope: { commands: ['group'] }, when: { always: true }, then: { deny: { code: 99 } } }] })[0]!,
      /^rules\[0\]\.then\.deny\.code: 99 is outside the range for group messages \(group deny codes are 10100–10200\)/,
    )
    assert.match(
      issuesOf({ rules: [{ when: { always: true }, then: { deny: { code: { group: 10100, c2c: 130001 } } } }] })[0]!,
      /^rules\[0\]\.then\.deny\.code\.c2c: 130001 is outside/,
    )
    assert.doesNotThrow(
      () => createPolicy({ rules: [{ scope: { groups: ['@TGS#1'] }, when: { always: true }, then: { deny: { code: 10200 } } }] }),
      'groups imply group messages',
    )
  })

  it('shape errors name the field: unknown keys, wrong types, bad actions, bad durations', () => {
    assert.equal(
      issuesOf({ rules: [ok, { name: 'k', when: { keyword: ['x'] }, then: 'deny' }] })[0],
      'rules[1].when: Unrecognized key: "keyword"',
    )
    assert.match(issuesOf({ rules: [{ when: { always: true }, then: 'block' }] })[0]!, /^rules\[0\]\.then: expected allow, deny, drop/)
    assert.match(
      issuesOf({ rules: [{ when: { always: true }, then: { deny: true, drop: true } }] })[0]!,
      /^rules\[0\]\.then: give exactly one action .*got deny, drop/,
    )
    assert.match(
      issuesOf({ rules: [{ when: { rate: { per: 'sender', max: 5, window: '10 parsecs' } }, then: 'deny' }] })[0]!,
      /^rules\[0\]\.when\.rate\.window: "10 parsecs" is not a duration/,
    )
    assert.match(
      issuesOf({ rules: [{ when: { rate: { per: 'user', max: 5, window: '1s' } }, then: 'deny' }] })[0]!,
      /^rules\[0\]\.when\.rate\.per: /,
    )
    assert.match(issuesOf({ rules: [{ when: {}, then: 'deny' }] })[0]!, /^rules\[0\]\.when: a condition needs at least one of/)
    assert.match(
      issuesOf({ rules: [{ when: { all: [{ always: true }, { not: { length: {} } }] }, then: 'deny' }] })[0]!,
      /^rules\[0\]\.when\.all\[1\]\.not\.length: give max and\/or min/,
    )
    assert.match(issuesOf({ rules: [], muted: { senders: { bob: 'next tuesday' } } })[0]!, /^muted\.senders\.bob: is not a date/)
    assert.match(issuesOf({ rules: 'none' })[0]!, /^rules: /)
  })

  it('semantic errors: duplicate names, unknown tables, masks with nothing to mask, unreadable word files, bad regexes', () => {
    assert.deepEqual(issuesOf({ rules: [ok, ok] }), [
      'rules[1].name: "ok" is also the name of rules[0]; names identify rules in records and metrics',
    ])
    assert.deepEqual(issuesOf({ rules: [{ when: { always: true }, then: { stamp: { dataFrom: 'ranks' } } }] }), [
      'rules[0].then.stamp.dataFrom: no table "ranks": define it at the top level as tables.ranks',
    ])
    assert.deepEqual(issuesOf({ rules: [{ when: { length: { max: 3 } }, then: { mask: '*' } }] }), [
      'rules[0].then.mask: nothing to mask: the condition has no keywords, regex or links (outside not)',
    ])
    assert.match(
      issuesOf({ rules: [{ when: { keywordsFile: '/nonexistent/words.txt' }, then: 'deny' }] })[0]!,
      /^rules\[0\]\.when\.keywords\.file: cannot read \/nonexistent\/words\.txt: ENOENT/,
    )
    assert.match(
      issuesOf({ rules: [{ when: { regex: { pattern: 'x', flags: 'g' } }, then: 'deny' }] })[0]!,
      /^rules\[0\]\.when\.regex\.flags: "x" flag "g" is not allowed/,
    )
  })

  it('reports every issue at once', () => {
    assert.equal(
      issuesOf({
        rules: [
          { when: { regex: '(a+)+$' }, then: 'deny' },
          { when: { always: true }, then: { stamp: { dataFrom: 'x' } } },
        ],
      }).length,
      2,
    )
  })
})

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-policy-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('loads the shipped example, with its word file', () => {
    const p = loadPolicyFile('examples/policy.yaml')
    assert.ok(p.rules.length >= 8)
    assert.ok(p.files.some((f) => f.endsWith('policy-words.txt')))
    assert.equal(p.decide(groupEvent('兼职日结，加我')).rule, 'spam-words')
    assert.equal(p.decide(groupEvent('hi', { From_Account: 'bob' }), Date.parse('2026-06-01T00:00:00Z')).rule, 'muted')
  })

  it('reads JSON by extension and YAML otherwise; resolves keywordsFile against the file', () => {
    writeFileSync(join(dir, 'w.txt'), 'forbidden\n')
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ rules: [{ name: 'j', when: { keywordsFile: 'w.txt' }, then: 'drop' }] }))
    assert.equal(loadPolicyFile(join(dir, 'p.json')).decide(groupEvent('FORBIDDEN')).action, 'drop')
  })

  it('a YAML syntax error names the line; a JSON one says so; an empty file is refused', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - name: a\n    when: { always: true\n    then: deny\n')
    assert.throws(() => loadPolicyFile(join(dir, 'bad.yaml')), /bad\.yaml: not valid YAML at line \d+, column \d+/)
    writeFileSync(join(dir, 'bad.json'), '{"rules": [}')
    assert.throws(() => loadPolicyFile(join(dir, 'bad.json')), /bad\.json: not valid JSON/)
    writeFileSync(join(dir, 'empty.yaml'), '# nothing\n')
    assert.throws(() => loadPolicyFile(join(dir, 'empty.yaml')), /the file is empty/)
    assert.throws(() => loadPolicyFile(join(dir, 'missing.yaml')), /cannot read the file/)
  })

  it('a bad rule in a file: the error names the file, the rule index and the field', () => {
    writeFileSync(
      join(dir, 'code.yaml'),
      'rules:\n  - name: a\n    when: { always: true }\n    then: allow\n  - name: flood\n    when: { rate: { per: sender, max: 5, window: 10s } }\n    then: { deny: { code: 10101, info: "slow down" } }\n',
    )
    assert.throws(
      () => loadPolicyFile(join(dir, 'code.yaml')),
      (err: unknown) =>
        err instanceof PolicyError && err.source?.endsWith('code.yaml') === true && err.issues[0]!.path === 'rules[1].then.deny.code',
    )
  })
})
