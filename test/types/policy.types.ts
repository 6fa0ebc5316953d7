/**
 * Compile-only type test (checked by `npm run typecheck`, never run): the rules file's public types,
 * derived from its schema, accept what a rules file may say and refuse what it may not.
 */
import type { ConditionConfig, PolicyConfig, RuleConfig, ThenConfig } from '../../src/policy/index.js'
import type { ParsedCondition, ParsedThen } from '../../src/policy/policy-schema.js'

// Every shorthand of a rules file, as written.
export const policy: PolicyConfig = {
  // Optional fields accept undefined (exactOptionalPropertyTypes).
  dryRun: undefined,
  tables: { vip: { bob: 'gold' } },
  rules: [
    { name: 'spam', when: { keywords: ['buy now'] }, then: 'deny' },
    {
      when: { keywords: { file: 'words.txt', fields: ['text', 'custom'], wholeWords: true } },
      then: { deny: { code: 10100, info: 'no' } },
    },
    { when: { regex: '\\d{11}' }, then: { mask: '*' } },
    { when: { regex: { pattern: 'x', flags: 'i', fold: true } }, then: { mask: { with: '#' } } },
    { when: { links: true }, then: 'drop' },
    { when: { links: { allow: ['example.com'] } }, then: { deny: true } },
    { when: { rate: { per: 'sender', max: 5, window: '10s' } }, then: { deny: { code: { group: 10100, c2c: 120001 } } } },
    { when: { rate: { per: 'group', max: 5, window: 1000 } }, then: 'allow' },
    { when: { muted: true }, then: 'deny' },
    { when: { any: [{ length: { max: 10 } }, { not: { muted: 'sender' } }], all: [{ always: true }] }, then: 'allow' },
    {
      scope: { commands: ['group', 'C2C.CallbackBeforeSendMsg'], exceptSenders: ['admin'] },
      when: { always: true },
      then: { stamp: { desc: 'L', dataFrom: 'levels', default: '0' } },
    },
  ],
  levels: { alice: '3' },
  muted: { senders: { carol: '2027-01-01T00:00:00Z', dave: true }, groups: { g1: null } },
}

// @ts-expect-error — a rule needs `then`
export const noThen: RuleConfig = { when: { always: true } }
// @ts-expect-error — not an action
export const badThen: ThenConfig = 'reject'
// @ts-expect-error — `rate.per` is sender or group
export const badRate: ConditionConfig = { rate: { per: 'user', max: 1, window: '1s' } }
// @ts-expect-error — nested conditions are conditions too
export const badNested: ConditionConfig = { all: [{ keywords: 42 }] }

// The parsed forms: shorthands expanded, one `kind` per action.
export function kindOf(t: ParsedThen): 'allow' | 'deny' | 'drop' | 'mask' | 'stamp' {
  if (t.kind === 'mask') {
    const replacement: string = t.with
    void replacement
  }
  return t.kind
}
export function mutedOf(c: ParsedCondition): 'sender' | 'group' | 'both' | false | undefined {
  // @ts-expect-error — keywordsFile is folded into keywords.file
  void c.keywordsFile
  const file: string | undefined = c.keywords?.file
  const windowMs: number | undefined = c.rate?.windowMs
  void file
  void windowMs
  return c.not?.muted ?? c.muted
}
