/** Moderation policy for before-send callbacks: rules file → validated, compiled policy → decisions. */
export { createPolicy, type Policy, type PolicyOptions, type RuleInfo, type DeciderContext } from './create-policy.js'
export { loadPolicyFile, parsePolicyText } from './load-policy-file.js'
export { watchPolicy, type PolicyWatcher, type WatchPolicyOptions } from './watch-policy.js'
export { PolicyError, type PolicyIssue } from './policy-error.js'
export type { PolicyDecision, FiredRule, PolicyAction } from './decision.js'
export type {
  PolicyConfig,
  RuleConfig,
  ConditionConfig,
  ThenConfig,
  ScopeConfig,
  KeywordsConfig,
  RegexConfig,
  LinksConfig,
  RateConfig,
  DenyConfig,
  StampConfig,
} from './policy-schema.js'
export { SlidingWindowStore, type RateStore } from './sliding-window.js'
export { KeywordAutomaton } from './keyword-automaton.js'
export { foldText } from './fold.js'
