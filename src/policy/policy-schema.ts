/**
 * The rules file, as a zod schema: the shape and the per-field problems. Checks that need more
 * than one field (deny code against the rule's commands, regex safety, table names, files) are
 * made while compiling (create-policy.ts, compile-condition.ts). Shorthands (`then: deny`, `keywords: [..]`, `regex: "…"`, `mask: "*"`) are
 * expanded here so the rest of the code sees one form.
 */
import { z } from 'zod'

export type Field = 'text' | 'custom'
export type Family = 'group' | 'c2c'

/** Which messages a rule looks at. Absent fields do not restrict. */
export interface ScopeConfig {
  /** `group` (`Group.CallbackBeforeSendMsg`) and/or `c2c` (`C2C.CallbackBeforeSendMsg`). */
  commands?: Array<Family | 'Group.CallbackBeforeSendMsg' | 'C2C.CallbackBeforeSendMsg'>
  /** Group types (`Public`, `Work`/`Private`, `Meeting`/`ChatRoom`, `AVChatRoom`, `Community`); implies group messages. */
  groupTypes?: string[]
  /** Group ids; implies group messages. */
  groups?: string[]
  /** Sender UserIDs. */
  senders?: string[]
  /** Sender UserIDs the rule never applies to (e.g. admins). */
  exceptSenders?: string[]
}

export interface KeywordsConfig {
  /** Words or phrases; matched after folding (NFKC + lower case), so `ＢＵＹ` matches `buy`. */
  words?: string[]
  /** A file with one word per line (`#` starts a comment), relative to the rules file. */
  file?: string
  /** Where to look: `text` (TIMTextElem), `custom` (TIMCustomElem Data and Desc). Default `[text]`. */
  fields?: Field[]
  /** Latin words match only as whole words (`ass` does not match `class`); CJK words always match inside text. */
  wholeWords?: boolean
}

export interface RegexConfig {
  pattern: string
  /** Any of `i`, `m`, `s`, `u` (JavaScript RegExp flags). */
  flags?: string
  fields?: Field[]
  /** Match against the folded text (full-width digits become ASCII digits, etc.). */
  fold?: boolean
}

export interface LinksConfig {
  /** Domains (and their subdomains) that do not count as links. */
  allow?: string[]
  fields?: Field[]
}

export interface RateConfig {
  per: 'sender' | 'group'
  /** Messages admitted per window; the next one within the window matches. */
  max: number
  /** `500ms`, `10s`, `5m`, `1h`, `1d`, or milliseconds. */
  window: string | number
}

/** A condition; several keys in one object must all hold. */
export interface ConditionConfig {
  always?: boolean
  keywords?: string[] | KeywordsConfig
  keywordsFile?: string
  regex?: string | RegexConfig
  links?: boolean | LinksConfig
  length?: { max?: number; min?: number }
  rate?: RateConfig
  /** The sender (or the group) is in the policy's `muted` lists and the mute has not expired. */
  muted?: boolean | 'sender' | 'group'
  all?: ConditionConfig[]
  any?: ConditionConfig[]
  not?: ConditionConfig
}

export interface DenyConfig {
  /** A custom code: 10100–10200 for groups, 120001–130000 for C2C, or one of each. */
  code?: number | { group?: number; c2c?: number }
  info?: string
}

export interface StampConfig {
  /** `Desc` of the appended TIMCustomElem, e.g. `CustomElement.MemberLevel`. */
  desc?: string
  /** A fixed `Data`. */
  data?: string
  /** `levels` or a name under `tables`: `Data` is the sender's entry. */
  dataFrom?: string
  /** `Data` when the sender has no entry in `dataFrom` (without it, no stamp). */
  default?: string
  ext?: string
}

export type ThenConfig =
  'allow' | 'deny' | 'drop' | { allow?: true; deny?: true | DenyConfig; drop?: true; mask?: string | { with: string }; stamp?: StampConfig }

export interface RuleConfig {
  name?: string
  scope?: ScopeConfig
  when: ConditionConfig
  then: ThenConfig
  /** Decide and record, but do not enforce this rule. */
  dryRun?: boolean
}

/** A moderation policy: the content of a rules file. */
export interface PolicyConfig {
  /** Decide and record, always allow. */
  dryRun?: boolean
  rules: RuleConfig[]
  /** UserID → member level, for `stamp.dataFrom: levels`. */
  levels?: Record<string, string>
  /** More lookup tables for `stamp.dataFrom`. */
  tables?: Record<string, Record<string, string>>
  /** Muted senders and groups: id → expiry (ISO 8601) or `true`/`null` for no expiry. */
  muted?: { senders?: Record<string, string | boolean | null>; groups?: Record<string, string | boolean | null> }
}

// ── parsed (normalised) form ─────────────────────────────────────────────────────────────────

export interface ParsedCondition {
  always?: boolean
  keywords?: { words?: string[]; file?: string; fields?: Field[]; wholeWords?: boolean }
  regex?: RegexConfig
  links?: { allow: string[]; fields?: Field[] } | false
  length?: { max?: number; min?: number }
  rate?: { per: 'sender' | 'group'; max: number; windowMs: number }
  muted?: 'sender' | 'group' | 'both' | false
  all?: ParsedCondition[]
  any?: ParsedCondition[]
  not?: ParsedCondition
}

export type ParsedThen =
  | { kind: 'allow' }
  | { kind: 'drop' }
  | { kind: 'deny'; code?: number | { group?: number; c2c?: number }; info?: string }
  | { kind: 'mask'; with: string }
  | { kind: 'stamp'; desc?: string; data?: string; dataFrom?: string; default?: string; ext?: string }

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

const fields = z
  .array(z.enum(['text', 'custom']))
  .min(1)
  .optional()
const words = z.array(z.string().min(1, 'a keyword may not be empty')).max(1_000_000)
const id = z.string().min(1)

const keywords = z.preprocess(
  (v) => (Array.isArray(v) ? { words: v } : v),
  z.strictObject({ words: words.optional(), file: z.string().min(1).optional(), fields, wholeWords: z.boolean().optional() }),
)
const regex = z.preprocess(
  (v) => (typeof v === 'string' ? { pattern: v } : v),
  z.strictObject({ pattern: z.string().min(1), flags: z.string().optional(), fields, fold: z.boolean().optional() }),
)
const links = z.preprocess(
  (v) => (v === true ? { allow: [] } : v),
  z.union([z.literal(false), z.strictObject({ allow: z.array(id).default([]), fields })]),
)
const windowMs = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v
  const m = DURATION.exec(v.trim())
  if (m === null) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 1d, or milliseconds)` })
    return z.NEVER
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
})
const rate = z
  .strictObject({ per: z.enum(['sender', 'group']), max: z.number().int().min(1).max(100_000), window: windowMs })
  .transform(({ per, max, window }) => ({ per, max, windowMs: window }))
const count = z.number().int().min(0)

export const conditionSchema: z.ZodType<ParsedCondition> = z.lazy(() =>
  z
    .strictObject({
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
      muted: z.union([z.boolean(), z.enum(['sender', 'group'])]).optional(),
      all: z.array(conditionSchema).min(1).optional(),
      any: z.array(conditionSchema).min(1).optional(),
      not: conditionSchema.optional(),
    })
    .refine(
      (c) => Object.values(c).some((v) => v !== undefined),
      'a condition needs at least one of: always, keywords, keywordsFile, regex, links, length, rate, muted, all, any, not',
    )
    .transform(({ keywordsFile, muted, ...c }) => {
      const out: ParsedCondition = { ...c }
      if (keywordsFile !== undefined) out.keywords = { ...c.keywords, file: keywordsFile }
      if (muted !== undefined) out.muted = muted === true ? 'both' : muted
      for (const k of Object.keys(out) as Array<keyof ParsedCondition>) if (out[k] === undefined) delete out[k]
      return out
    }),
)

const deny = z.preprocess(
  (v) => (v === true ? {} : v),
  z.strictObject({
    code: z.union([z.number().int(), z.strictObject({ group: z.number().int().optional(), c2c: z.number().int().optional() })]).optional(),
    info: z.string().max(1000).optional(),
  }),
)
const stamp = z
  .strictObject({
    desc: z.string().optional(),
    data: z.string().optional(),
    dataFrom: id.optional(),
    default: z.string().optional(),
    ext: z.string().optional(),
  })
  .refine((s) => (s.data === undefined) !== (s.dataFrom === undefined), 'give exactly one of data and dataFrom')

const thenSchema = z.preprocess(
  (v) => (v === 'allow' || v === 'deny' || v === 'drop' ? { [v]: true } : v),
  z
    .strictObject(
      {
        allow: z.literal(true).optional(),
        deny: deny.optional(),
        drop: z.literal(true).optional(),
        mask: z.preprocess((v) => (typeof v === 'string' ? { with: v } : v), z.strictObject({ with: z.string().min(1) })).optional(),
        stamp: stamp.optional(),
      },
      {
        error: (issue) =>
          issue.code === 'invalid_type' ? 'expected allow, deny, drop, or an object { deny | mask | stamp: … }' : undefined,
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
    .transform((t): ParsedThen => {
      if (t.deny !== undefined) return { kind: 'deny', ...t.deny }
      if (t.drop !== undefined) return { kind: 'drop' }
      if (t.mask !== undefined) return { kind: 'mask', with: t.mask.with }
      if (t.stamp !== undefined) return { kind: 'stamp', ...t.stamp }
      return { kind: 'allow' }
    }),
)

const scope = z.strictObject({
  commands: z
    .array(z.enum(['group', 'c2c', 'Group.CallbackBeforeSendMsg', 'C2C.CallbackBeforeSendMsg']))
    .min(1)
    .optional(),
  groupTypes: z.array(id).min(1).optional(),
  groups: z.array(id).min(1).optional(),
  senders: z.array(id).min(1).optional(),
  exceptSenders: z.array(id).min(1).optional(),
})

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
  dryRun: z.boolean().optional(),
})

const expiry = z.union([
  z.boolean(),
  z.null(),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not a date (use ISO 8601, e.g. 2027-01-01T00:00:00Z)'),
])
const table = z.record(z.string(), z.string())

export const policySchema = z.strictObject({
  dryRun: z.boolean().optional(),
  rules: z.array(rule),
  levels: table.optional(),
  tables: z.record(z.string(), table).optional(),
  muted: z.strictObject({ senders: z.record(z.string(), expiry).optional(), groups: z.record(z.string(), expiry).optional() }).optional(),
})

/** A rules file as parsed: shorthands expanded. Derived from the schema, not declared again. */
export type ParsedPolicy = z.output<typeof policySchema>
export type ParsedRule = ParsedPolicy['rules'][number]
