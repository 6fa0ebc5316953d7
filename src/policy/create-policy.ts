/**
 * A moderation policy for `Group.CallbackBeforeSendMsg` and `C2C.CallbackBeforeSendMsg`: rules
 * evaluated in order; the first allow/deny/drop decides, mask and stamp rewrite and go on.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { commandInfo } from '../protocol/commands.js'
import { DENY_RANGES, denyCodeFamily, verdict, type Verdict } from '../protocol/verdict.js'
import type { MsgElement } from '../protocol/generated/events.js'
import { canMask, compileCondition, type Condition, type Range } from './compile-condition.js'
import type { PolicyDecision, FiredRule, PolicyAction } from './decision.js'
import { MessageView } from './message-view.js'
import { PolicyError, formatPath, type PolicyIssue } from './policy-error.js'
import { policySchema, type Family, type ParsedPolicy, type ParsedRule, type ParsedThen, type PolicyConfig } from './policy-schema.js'
import { RegexPrefilter } from './regex-prefilter.js'
import { maskBody, stampElement } from './rewrite-body.js'
import { SlidingWindowStore, type RateStore } from './sliding-window.js'

export interface PolicyOptions {
  /** Directory that relative `keywordsFile` paths are resolved against (default: the working directory). */
  baseDir?: string | undefined
  /** Where the policy came from, for error messages and `policy.source`. */
  source?: string | undefined
  /**
   * Where rate windows live. Pass the previous policy's `rateStore` to keep the windows across a
   * reload (watchPolicy does); default: a new in-memory sliding-window store.
   */
  rateStore?: RateStore | undefined
}

/** The summary of a rule, for metrics and the admin API. */
export interface RuleInfo {
  readonly name: string
  readonly index: number
  readonly action: PolicyAction
  readonly dryRun: boolean
}

/** The minimum of a receiver's handler context the decider uses (`ctx.meta.policy` gets the decision). */
export interface DeciderContext {
  readonly command?: string | undefined
  /** The command's family from the catalogue (the receiver's context has it). */
  readonly family?: string | undefined
  readonly meta?: { policy?: PolicyDecision | undefined } | undefined
}

export interface Policy {
  /**
   * Decides one before-send message (its command is `event.CallbackCommand`, as the receiver passes
   * it). Synchronous. Allocates one small view of the message per call (its text fields listed on
   * first use, folded text for rules that fold); when no rule fires it returns one shared decision
   * rather than building one.
   * @param now ms since the epoch, for rate windows and mute expiry (default `Date.now()`).
   */
  decide(event: object, now?: number): PolicyDecision
  /**
   * A before-event handler for `receiver.on(...)`: decides (the command from `ctx.command`), puts the
   * decision in `ctx.meta.policy` and answers its verdict.
   */
  readonly decider: (event: object, ctx?: DeciderContext) => Verdict
  readonly rules: readonly RuleInfo[]
  /** Policy-wide dry run. */
  readonly dryRun: boolean
  readonly source: string | undefined
  /** Files the policy was built from (rules file and keyword files), absolute; watchPolicy watches them. */
  readonly files: readonly string[]
  readonly rateStore: RateStore
}

const GROUP = 'Group.CallbackBeforeSendMsg'
const C2C = 'C2C.CallbackBeforeSendMsg'
type MessageCommand = typeof GROUP | typeof C2C

/** The message family of a before-send command, from the catalogue; undefined for any other command. */
function messageFamily(command: unknown): Family | undefined {
  if (command !== GROUP && command !== C2C) return undefined
  return messageFamilyOf(commandInfo(command)?.family)
}

const messageFamilyOf = (family: string | undefined): Family | undefined => (family === 'group' || family === 'c2c' ? family : undefined)
const FAMILY_NAME: Record<Family, string> = { group: 'group', c2c: 'C2C' }
const GROUP_TYPE_ALIASES: Record<string, string[]> = { Work: ['Private'], Private: ['Work'], Meeting: ['ChatRoom'], ChatRoom: ['Meeting'] }

interface CompiledRule {
  readonly name: string
  readonly index: number
  readonly then: ParsedThen
  readonly dryRun: boolean
  readonly families: ReadonlySet<Family>
  readonly inScope: (view: MessageView) => boolean
  readonly when: Condition
  /** Deny: the verdict per family, built at load. */
  readonly denial: Partial<Record<Family, { verdict: Verdict; code: number | undefined }>>
  /** Stamp: the `Data` for a sender, or undefined for no stamp. */
  readonly stampData: (sender: string) => string | undefined
}

const NO_MATCH: readonly FiredRule[] = Object.freeze([])
const ALLOW_NO_MATCH: PolicyDecision = Object.freeze({
  verdict: verdict.allow(),
  action: 'allow',
  rule: undefined,
  reason: 'no rule matched',
  dryRun: false,
  rewritten: false,
  code: undefined,
  matched: NO_MATCH,
})

/**
 * Validates `config` (a parsed rules file or an object of the same shape) and compiles it.
 * @throws PolicyError naming the rule index, field and problem of every issue found.
 * @example
 * const policy = createPolicy({ rules: [{ name: 'spam', when: { keywords: ['buy now'] }, then: 'deny' }] })
 * receiver.on('Group.CallbackBeforeSendMsg', (event, ctx) => {
 *   const d = policy.decide(event)       // { verdict, action: 'deny', rule: 'spam', reason: 'keyword "buy now" in …' }
 *   ctx.meta.policy = d
 *   return d.verdict
 * })
 * // or simply: receiver.on('Group.CallbackBeforeSendMsg', policy.decider)
 */
export function createPolicy(config: PolicyConfig | unknown, options: PolicyOptions = {}): Policy {
  const parsed = policySchema.safeParse(config)
  if (!parsed.success) {
    throw new PolicyError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      options.source,
    )
  }
  const p: ParsedPolicy = parsed.data
  const issues: PolicyIssue[] = []
  const baseDir = options.baseDir ?? process.cwd()
  const files = new Set<string>(options.source === undefined ? [] : [resolve(options.source)])
  const rateStore = options.rateStore ?? new SlidingWindowStore()
  const mutedSenders = expiries(p.muted?.senders)
  const mutedGroups = expiries(p.muted?.groups)
  const names = new Map<string, number>()
  const prefilters = new Map<string, RegexPrefilter>()
  const rules: CompiledRule[] = p.rules.map((rule, index) => {
    const path = `rules[${index}]`
    const name = rule.name ?? path
    const seen = names.get(name)
    if (seen !== undefined)
      issues.push({
        path: `${path}.name`,
        message: `"${name}" is also the name of rules[${seen}]; names identify rules in records and metrics`,
      })
    names.set(name, index)
    const when = compileCondition(rule.when, `${path}.when`, {
      rule: name,
      rateStore,
      mutedSenders,
      mutedGroups,
      readFile(file) {
        const full = isAbsolute(file) ? file : resolve(baseDir, file)
        files.add(full)
        return readFileSync(full, 'utf8')
      },
      issue: (at, message) => issues.push({ path: at, message }),
      regexPrefilter(flags, fold) {
        const key = `${flags}|${fold}`
        let p = prefilters.get(key)
        if (p === undefined) prefilters.set(key, (p = new RegexPrefilter(flags)))
        return p
      },
    })
    if (rule.then.kind === 'mask' && !canMask(rule.when)) {
      issues.push({ path: `${path}.then.mask`, message: 'nothing to mask: the condition has no keywords, regex or links (outside not)' })
    }
    const families = familiesOf(rule)
    return {
      name,
      index,
      then: rule.then,
      dryRun: rule.dryRun === true,
      families,
      inScope: scopeOf(rule, families),
      when,
      denial: denialsOf(rule, families, path, issues),
      stampData: stampDataOf(rule, p, path, issues),
    }
  })
  if (issues.length > 0) throw new PolicyError(issues, options.source)
  for (const p of prefilters.values()) p.finish()
  return buildPolicy(rules, p.dryRun === true, options.source, [...files], rateStore)
}

function expiries(list: Record<string, string | boolean | null> | undefined): Map<string, number> {
  const out = new Map<string, number>()
  for (const [id, v] of Object.entries(list ?? {})) {
    if (v === false) continue
    out.set(id, v === true || v === null ? Infinity : Date.parse(v))
  }
  return out
}

function familiesOf(rule: ParsedRule): Set<Family> {
  const s = rule.scope
  if (s?.commands !== undefined) return new Set(s.commands.map((c) => (c === 'group' || c === GROUP ? 'group' : 'c2c')))
  if (s?.groups !== undefined || s?.groupTypes !== undefined) return new Set(['group'])
  return new Set(['group', 'c2c'])
}

function scopeOf(rule: ParsedRule, families: ReadonlySet<Family>): (view: MessageView) => boolean {
  const s = rule.scope
  const types = s?.groupTypes === undefined ? undefined : new Set(s.groupTypes.flatMap((t) => [t, ...(GROUP_TYPE_ALIASES[t] ?? [])]))
  const groups = s?.groups === undefined ? undefined : new Set(s.groups)
  const senders = s?.senders === undefined ? undefined : new Set(s.senders)
  const except = s?.exceptSenders === undefined ? undefined : new Set(s.exceptSenders)
  return (view) =>
    families.has(view.family) &&
    (types === undefined || (view.groupType !== undefined && types.has(view.groupType))) &&
    (groups === undefined || (view.groupId !== undefined && groups.has(view.groupId))) &&
    (senders === undefined || senders.has(view.sender)) &&
    (except === undefined || !except.has(view.sender))
}

function denialsOf(rule: ParsedRule, families: ReadonlySet<Family>, path: string, issues: PolicyIssue[]): CompiledRule['denial'] {
  const then = rule.then
  if (then.kind !== 'deny') return {}
  const out: CompiledRule['denial'] = {}
  const at = `${path}.then.deny.code`
  // The one range check of a policy's deny code, at load; the verdict built here is answered as is.
  const inRange = (code: number, f: Family) => denyCodeFamily(code) === f
  const rangeText = (f: Family) => `${FAMILY_NAME[f]} deny codes are ${DENY_RANGES[f][0]}–${DENY_RANGES[f][1]}`
  for (const f of families) {
    const code = typeof then.code === 'number' ? then.code : then.code?.[f]
    if (code === undefined) {
      out[f] = { verdict: verdict.deny(), code: undefined }
      continue
    }
    if (!inRange(code, f)) {
      const other: Family = f === 'group' ? 'c2c' : 'group'
      issues.push({
        path: typeof then.code === 'number' ? at : `${at}.${f}`,
        message:
          typeof then.code === 'number' && inRange(code, other)
            ? families.has(other)
              ? `${code} is a ${FAMILY_NAME[other]} code but the rule also applies to ${FAMILY_NAME[f]} messages (${rangeText(f)}); set scope.commands: [${other}] or give { ${other}: ${code}, ${f}: … }`
              : `${code} is a ${FAMILY_NAME[other]} code but the rule applies to ${FAMILY_NAME[f]} messages only (${rangeText(f)})`
            : `${code} is outside the range for ${FAMILY_NAME[f]} messages (${rangeText(f)})`,
      })
      continue
    }
    out[f] = { verdict: verdict.deny({ code, info: then.info ?? '' }), code }
  }
  if (typeof then.code === 'object') {
    for (const f of ['group', 'c2c'] as const) {
      const code = then.code[f]
      if (code !== undefined && !out[f] && !families.has(f) && !inRange(code, f))
        issues.push({ path: `${at}.${f}`, message: `${code} is outside the range for ${FAMILY_NAME[f]} messages (${rangeText(f)})` })
    }
  }
  return out
}

function stampDataOf(rule: ParsedRule, p: ParsedPolicy, path: string, issues: PolicyIssue[]): CompiledRule['stampData'] {
  const then = rule.then
  if (then.kind !== 'stamp') return () => undefined
  if (then.data !== undefined) {
    const data = then.data
    return () => data
  }
  const name = then.dataFrom!
  const table = name === 'levels' ? p.levels : p.tables?.[name]
  if (table === undefined) {
    issues.push({
      path: `${path}.then.stamp.dataFrom`,
      message: `no table "${name}": define it at the top level as ${name === 'levels' ? 'levels' : `tables.${name}`}`,
    })
    return () => undefined
  }
  const map = new Map(Object.entries(table))
  const fallback = then.default
  return (sender) => map.get(sender) ?? fallback
}

function buildPolicy(
  rules: readonly CompiledRule[],
  dryRun: boolean,
  source: string | undefined,
  files: readonly string[],
  rateStore: RateStore,
): Policy {
  // With no rules, every message is allowed unread: no view of it is built.
  const empty = rules.length === 0
  function decide(command: unknown, family: Family | undefined, value: object, now: number | undefined): PolicyDecision {
    const event = value as Record<string, unknown> | null | undefined
    if (family === undefined || typeof event !== 'object' || event === null || !Array.isArray(event.MsgBody)) {
      return {
        ...ALLOW_NO_MATCH,
        reason: family === undefined ? `not a before-send message callback (${String(command)})` : 'the event has no MsgBody',
      }
    }
    if (empty) return ALLOW_NO_MATCH
    const view = new MessageView(
      command as MessageCommand,
      family,
      String(event.From_Account ?? ''),
      family === 'group' ? String(event.GroupId ?? '') : undefined,
      typeof event.Type === 'string' ? event.Type : undefined,
      event.MsgBody as MsgElement[],
      event,
    )
    return evaluate(rules, dryRun, view, now ?? Date.now())
  }

  const policy: Policy = {
    decide: (event, now) => {
      const command = (event as { CallbackCommand?: unknown } | null)?.CallbackCommand
      return decide(command, messageFamily(command), event, now)
    },
    decider(event, ctx) {
      const command = ctx?.command ?? (event as { CallbackCommand?: unknown } | null)?.CallbackCommand
      // The receiver's context carries the command's family from the catalogue; look it up only without one.
      const family = command === GROUP || command === C2C ? (messageFamilyOf(ctx?.family) ?? messageFamily(command)) : undefined
      const d = decide(command, family, event, undefined)
      if (ctx?.meta !== undefined) ctx.meta.policy = d
      return d.verdict
    },
    rules: rules.map((r) => Object.freeze({ name: r.name, index: r.index, action: r.then.kind, dryRun: r.dryRun || dryRun })),
    dryRun,
    source,
    files,
    rateStore,
  }
  return Object.freeze(policy)
}

/**
 * Runs the rules in order over one message: mask and stamp rewrite the view and go on, the first
 * allow/deny/drop stops; dry-run rules are recorded, not applied.
 */
function evaluate(rules: readonly CompiledRule[], dryRun: boolean, view: MessageView, now: number): PolicyDecision {
  let fired: FiredRule[] | null = null
  let final: { rule: CompiledRule; entry: FiredRule } | undefined
  let lastRewrite: FiredRule | undefined
  let firstDryStop: FiredRule | undefined
  let firstDryRewrite: FiredRule | undefined
  let rewritten = false
  for (const rule of rules) {
    if (!rule.inScope(view)) continue
    const ranges: Range[] | null = rule.then.kind === 'mask' ? [] : null
    let reason = rule.when(view, now, ranges)
    if (reason === null) continue
    const kind = rule.then.kind
    if (!rule.dryRun && (kind === 'mask' || kind === 'stamp')) {
      const body = view.body
      reason += rewrite(rule, view, ranges)
      if (view.body !== body) rewritten = true
    }
    const entry: FiredRule = { rule: rule.name, index: rule.index, action: kind, reason, dryRun: rule.dryRun || dryRun }
    ;(fired ??= []).push(entry)
    const stops = kind === 'allow' || kind === 'deny' || kind === 'drop'
    if (rule.dryRun) {
      if (stops) firstDryStop ??= entry
      else firstDryRewrite ??= entry
      continue
    }
    if (stops) {
      final = { rule, entry }
      break
    }
    lastRewrite = entry
  }
  if (fired === null) return ALLOW_NO_MATCH
  return conclude(final?.rule, final?.entry ?? firstDryStop ?? lastRewrite ?? firstDryRewrite, fired, view, rewritten, dryRun)
}

/** Applies a mask or stamp rule to the view; returns what to add to its reason when it could not. */
function rewrite(rule: CompiledRule, view: MessageView, ranges: Range[] | null): string {
  if (rule.then.kind === 'mask') {
    const body = maskBody(view.body, view.fields(), ranges!, rule.then.with)
    if (body !== null) view.replaceBody(body)
    return ''
  }
  const then = rule.then as Extract<ParsedThen, { kind: 'stamp' }>
  const data = rule.stampData(view.sender)
  if (data === undefined) return '; not stamped: no data for this sender'
  if (view.body.some((el) => el?.MsgType === 'TIMCustomElem'))
    return '; not stamped: the message already has a TIMCustomElem (at most one per message)'
  view.replaceBody([...view.body, stampElement(data, then.desc, then.ext)])
  return ''
}

/** The decision: the verdict of the rule that stopped (or allow, rewritten or not), unless the policy is a dry run. */
function conclude(
  stopper: CompiledRule | undefined,
  decided: FiredRule | undefined,
  fired: readonly FiredRule[],
  view: MessageView,
  rewritten: boolean,
  dryRun: boolean,
): PolicyDecision {
  let answer: Verdict
  let code: number | undefined
  if (stopper !== undefined && stopper.then.kind === 'deny') {
    const d = stopper.denial[view.family]!
    answer = d.verdict
    code = d.code
    rewritten = false // a refused message is not delivered, rewritten or not
  } else if (stopper !== undefined && stopper.then.kind === 'drop') {
    answer = verdict.drop()
    rewritten = false
  } else answer = rewritten ? verdict.allow({ msgBody: view.body as MsgElement[] }) : verdict.allow()
  if (dryRun) {
    answer = verdict.allow()
    code = undefined
    rewritten = false
  }
  return {
    verdict: answer,
    action: decided?.action ?? 'allow',
    rule: decided?.rule,
    reason: decided?.reason ?? 'no rule matched',
    dryRun: dryRun || (decided?.dryRun ?? false),
    rewritten,
    code,
    matched: fired,
  }
}
