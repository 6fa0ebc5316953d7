/**
 * The rules file, as a zod schema: the shape and the per-field problems. Checks that need more
 * than one field (deny code against the rule's commands, regex safety, table names, files) are
 * made while compiling (create-policy.ts, compile-condition.ts). Shorthands (`then: deny`, `keywords: [..]`, `regex: "…"`, `mask: "*"`) are
 * expanded here so the rest of the code sees one form. The types, of a rules file as written (`PolicyConfig`,
 * `RuleConfig`, …) and as parsed (`ParsedPolicy`, …), are derived from the schema (`z.input`, `z.output`).
 */
import { z } from 'zod'

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

const field = z.enum(['text', 'custom'])
const family = z.enum(['group', 'c2c'])
/** Where a condition looks: `text` (TIMTextElem), `custom` (TIMCustomElem Data and Desc). */
export type Field = z.output<typeof field>
/** Group messages (`Group.CallbackBeforeSendMsg`) or one-to-one messages (`C2C.CallbackBeforeSendMsg`). */
export type Family = z.output<typeof family>

const fields = z.array(field).min(1).optional()
const words = z.array(z.string().min(1, 'a keyword may not be empty')).max(1_000_000)
const id = z.string().min(1)

const keywordsObject = z.strictObject({
  /** Words or phrases; matched after folding (NFKC + lower case), so `ＢＵＹ` matches `buy`. */
  words: words.optional(),
  /** A file with one word per line (`#` starts a comment), relative to the rules file. */
  file: z.string().min(1).optional(),
  /** Where to look: `text` (TIMTextElem), `custom` (TIMCustomElem Data and Desc). Default `[text]`. */
  fields,
  /** Latin words match only as whole words (`ass` does not match `class`); CJK words always match inside text. */
  wholeWords: z.boolean().optional(),
})
export type KeywordsConfig = z.input<typeof keywordsObject>
const keywords = z.preprocess((v: string[] | KeywordsConfig) => (Array.isArray(v) ? { words: v } : v), keywordsObject)

const regexObject = z.strictObject({
  pattern: z.string().min(1),
  /** Any of `i`, `m`, `s`, `u` (JavaScript RegExp flags). */
  flags: z.string().optional(),
  fields,
  /** Match against the folded text (full-width digits become ASCII digits, etc.). */
  fold: z.boolean().optional(),
})
export type RegexConfig = z.input<typeof regexObject>
const regex = z.preprocess((v: string | RegexConfig) => (typeof v === 'string' ? { pattern: v } : v), regexObject)

const linksObject = z.strictObject({
  /** Domains (and their subdomains) that do not count as links. */
  allow: z.array(id).default([]),
  fields,
})
export type LinksConfig = z.input<typeof linksObject>
const links = z.preprocess((v: boolean | LinksConfig) => (v === true ? { allow: [] } : v), z.union([z.literal(false), linksObject]))

const windowMs = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v
  const m = DURATION.exec(v.trim())
  if (m === null) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 1d, or milliseconds)` })
    return z.NEVER
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
})
const rateObject = z.strictObject({
  per: z.enum(['sender', 'group']),
  /** Messages admitted per window; the next one within the window matches. */
  max: z.number().int().min(1).max(100_000),
  /** `500ms`, `10s`, `5m`, `1h`, `1d`, or milliseconds. */
  window: windowMs,
})
export type RateConfig = z.input<typeof rateObject>
const rate = rateObject.transform(({ per, max, window }) => ({ per, max, windowMs: window }))
const count = z.number().int().min(0)

/** A condition's own keys; `all`, `any` and `not` nest conditions (added below: zod cannot infer a type through its own recursion). */
const conditionKeys = z.strictObject({
  always: z.boolean().optional(),
  keywords: keywords.optional(),
  keywordsFile: z.string().min(1).optional(),
  regex: regex.optional(),
  links: links.optional(),
  length: z
    .strictObject({ max: count.optional(), min: count.optional() })
    .refine((l) => l.max !== undefined || l.min !== undefined, 'give max and/or min')
    .optional(),
  rate: rate.optional(),
  /** The sender (or the group) is in the policy's `muted` lists and the mute has not expired; `true` is both. */
  muted: z
    .union([z.boolean(), z.enum(['sender', 'group'])])
    .transform((m) => (m === true ? ('both' as const) : m))
    .optional(),
})

/** A condition; several keys in one object must all hold. */
export type ConditionConfig = z.input<typeof conditionKeys> & {
  all?: ConditionConfig[] | undefined
  any?: ConditionConfig[] | undefined
  not?: ConditionConfig | undefined
}
/** A condition as parsed: `keywordsFile` folded into `keywords.file`, `muted: true` is `both`. */
export type ParsedCondition = Omit<z.output<typeof conditionKeys>, 'keywordsFile'> & {
  all?: ParsedCondition[]
  any?: ParsedCondition[]
  not?: ParsedCondition
}

export const conditionSchema: z.ZodType<ParsedCondition, ConditionConfig> = z.lazy(() =>
  conditionKeys
    .extend({
      all: z.array(conditionSchema).min(1).optional(),
      any: z.array(conditionSchema).min(1).optional(),
      not: conditionSchema.optional(),
    })
    .refine(
      (c) => Object.values(c).some((v) => v !== undefined),
      'a condition needs at least one of: always, keywords, keywordsFile, regex, links, length, rate, muted, all, any, not',
    )
    .transform(({ keywordsFile, ...c }) => {
      const out: ParsedCondition = { ...c }
      if (keywordsFile !== undefined) out.keywords = { ...c.keywords, file: keywordsFile }
      for (const k of Object.keys(out) as Array<keyof ParsedCondition>) if (out[k] === undefined) delete out[k]
      return out
    }),
)

const denyObject = z.strictObject({
  /** A custom code: 10100–10200 for groups, 120001–130000 for C2C, or one of each. */
  code: z.union([z.number().int(), z.strictObject({ group: z.number().int().optional(), c2c: z.number().int().optional() })]).optional(),
  info: z.string().max(1000).optional(),
})
export type DenyConfig = z.input<typeof denyObject>
const deny = z.preprocess((v: true | DenyConfig) => (v === true ? {} : v), denyObject)

const stamp = z
  .strictObject({
    /** `Desc` of the appended TIMCustomElem, e.g. `CustomElement.MemberLevel`. */
    desc: z.string().optional(),
    /** A fixed `Data`. */
    data: z.string().optional(),
    /** `levels` or a name under `tables`: `Data` is the sender's entry. */
    dataFrom: id.optional(),
    /** `Data` when the sender has no entry in `dataFrom` (without it, no stamp). */
    default: z.string().optional(),
    ext: z.string().optional(),
  })
  .refine((s) => (s.data === undefined) !== (s.dataFrom === undefined), 'give exactly one of data and dataFrom')
export type StampConfig = z.input<typeof stamp>

const thenObject = z
  .strictObject(
    {
      allow: z.literal(true).optional(),
      deny: deny.optional(),
      drop: z.literal(true).optional(),
      mask: z
        .preprocess(
          (v: string | { with: string }) => (typeof v === 'string' ? { with: v } : v),
          z.strictObject({ with: z.string().min(1) }),
        )
        .optional(),
      stamp: stamp.optional(),
    },
    {
      error: (issue) => (issue.code === 'invalid_type' ? 'expected allow, deny, drop, or an object { deny | mask | stamp: … }' : undefined),
    },
  )
  .superRefine((t, ctx) => {
    const given = Object.keys(t).filter((k) => t[k as keyof typeof t] !== undefined)
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `give exactly one action of allow, deny, drop, mask, stamp (got ${given.length === 0 ? 'none' : given.join(', ')})`,
      })
  })
/** What a rule does when it matches: `allow`, `deny`, `drop`, or one of `{ deny | mask | stamp: … }`. */
export type ThenConfig = 'allow' | 'deny' | 'drop' | z.input<typeof thenObject>
const thenSchema = z.preprocess(
  (v: ThenConfig) => (v === 'allow' || v === 'deny' || v === 'drop' ? { [v]: true } : v),
  thenObject.transform((t) => {
    if (t.deny !== undefined) return { kind: 'deny' as const, ...t.deny }
    if (t.drop !== undefined) return { kind: 'drop' as const }
    if (t.mask !== undefined) return { kind: 'mask' as const, with: t.mask.with }
    if (t.stamp !== undefined) return { kind: 'stamp' as const, ...t.stamp }
    return { kind: 'allow' as const }
  }),
)
/** A rule's action as parsed: one `kind`. */
export type ParsedThen = z.output<typeof thenSchema>

/** Which messages a rule looks at. Absent fields do not restrict. */
const scope = z.strictObject({
  /** `group` (`Group.CallbackBeforeSendMsg`) and/or `c2c` (`C2C.CallbackBeforeSendMsg`). */
  commands: z
    .array(z.enum([...family.options, 'Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg']))
    .min(1)
    .optional(),
  /** Group types (`Public`, `Work`/`Private`, `Meeting`/`ChatRoom`, `AVChatRoom`, `Community`); implies group messages. */
  groupTypes: z.array(id).min(1).optional(),
  /** Group ids; implies group messages. */
  groups: z.array(id).min(1).optional(),
  /** Sender UserIDs. */
  senders: z.array(id).min(1).optional(),
  /** Sender UserIDs the rule never applies to (e.g. admins). */
  exceptSenders: z.array(id).min(1).optional(),
})
export type ScopeConfig = z.input<typeof scope>

const rule = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.:-]+$/, 'use letters, digits, _ . : - (it becomes a metrics label)')
    .optional(),
  scope: scope.optional(),
  when: conditionSchema,
  then: thenSchema,
  /** Decide and record, but do not enforce this rule. */
  dryRun: z.boolean().optional(),
})
export type RuleConfig = z.input<typeof rule>

const expiry = z.union([
  z.boolean(),
  z.null(),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not a date (use ISO 8601, e.g. 2027-01-01T00:00:00Z)'),
])
const table = z.record(z.string(), z.string())

export const policySchema = z.strictObject({
  /** Decide and record, always allow. */
  dryRun: z.boolean().optional(),
  rules: z.array(rule),
  /** UserID → member level, for `stamp.dataFrom: levels`. */
  levels: table.optional(),
  /** More lookup tables for `stamp.dataFrom`. */
  tables: z.record(z.string(), table).optional(),
  /** Muted senders and groups: id → expiry (ISO 8601) or `true`/`null` for no expiry. */
  muted: z.strictObject({ senders: z.record(z.string(), expiry).optional(), groups: z.record(z.string(), expiry).optional() }).optional(),
})

/** A moderation policy: the content of a rules file, shorthands allowed. Derived from the schema, not declared again. */
export type PolicyConfig = z.input<typeof policySchema>
/** A rules file as parsed: shorthands expanded. */
export type ParsedPolicy = z.output<typeof policySchema>
export type ParsedRule = ParsedPolicy['rules'][number]
