/**
 * Keeps a policy current with its file: reloads on change (debounced) and on demand (SIGHUP in
 * the server). The swap is one assignment, so a decision in flight finishes on the policy it
 * started with; a file that fails to load leaves the old policy serving and is reported.
 */
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import type { Verdict } from '../protocol/verdict.js'
import type { DeciderContext, Policy } from './create-policy.js'
import type { PolicyDecision } from './decision.js'
import { loadPolicyFile } from './load-policy-file.js'
import { SlidingWindowStore } from './sliding-window.js'

export interface WatchPolicyOptions {
  /** After a successful reload. */
  onReload?: ((policy: Policy, previous: Policy) => void) | undefined
  /** When a reload fails; the previous policy keeps serving. */
  onError?: ((err: Error) => void) | undefined
  /** Quiet time after the last file event before reloading (default 100 ms): editors write in several steps. */
  debounceMs?: number | undefined
  /** Also reload when the process receives this signal (e.g. `'SIGHUP'`); the handler is removed by close(). */
  signal?: NodeJS.Signals | undefined
}

export interface PolicyWatcher {
  /** The policy in force. */
  readonly policy: Policy
  /** `policy.decide` with the policy in force (synchronous). */
  decide(event: object, now?: number): PolicyDecision
  /** `policy.decider` with the policy in force, for `receiver.on(...)`: `ctx.meta.policy` gets the decision. */
  readonly decider: (event: object, ctx?: DeciderContext) => Verdict
  /** Reloads now. Returns the new policy, or undefined when the file is bad (then onError was called). */
  reload(): Policy | undefined
  /** Stops watching (and listening for the signal). */
  close(): void
}

/**
 * Loads `path` and keeps it loaded. Rate windows carry over reloads (one store for all versions).
 * @throws PolicyError when the first load fails (there is no previous policy to keep).
 * @example
 * const watcher = watchPolicy('policy.yaml', { signal: 'SIGHUP', onError: (e) => log.warn(e.message) })
 * receiver.on('Group.CallbackBeforeSendMsg', watcher.decider)
 * receiver.on('C2C.CallbackBeforeSendMsg', watcher.decider)
 */
export function watchPolicy(path: string, options: WatchPolicyOptions = {}): PolicyWatcher {
  const rateStore = new SlidingWindowStore()
  let current = loadPolicyFile(path, { rateStore })
  const debounceMs = options.debounceMs ?? 100
  const watchers = new Map<string, FSWatcher>()
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const schedule = () => {
    if (closed) return
    clearTimeout(timer)
    timer = setTimeout(reload, debounceMs)
    timer.unref()
  }

  // Watch directories, not files: editors and deploy tools replace files by rename, which ends a file watch.
  const syncWatches = () => {
    const wanted = new Map<string, Set<string>>()
    for (const f of [resolve(path), ...current.files]) {
      const dir = dirname(f)
      if (!wanted.has(dir)) wanted.set(dir, new Set())
      wanted.get(dir)!.add(basename(f))
    }
    for (const [dir, w] of watchers) {
      if (wanted.has(dir)) continue
      w.close()
      watchers.delete(dir)
    }
    for (const [dir, names] of wanted) {
      watchers.get(dir)?.close()
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(String(name))) schedule()
        })
        w.on('error', (err) => options.onError?.(err))
        watchers.set(dir, w)
      } catch (err) {
        options.onError?.(err as Error)
      }
    }
  }

  function reload(): Policy | undefined {
    if (closed) return undefined
    clearTimeout(timer)
    const previous = current
    try {
      current = loadPolicyFile(path, { rateStore })
    } catch (err) {
      options.onError?.(err as Error)
      return undefined
    }
    syncWatches()
    options.onReload?.(current, previous)
    return current
  }

  const onSignal = () => reload()
  if (options.signal !== undefined) process.on(options.signal, onSignal)
  syncWatches()

  return {
    get policy() {
      return current
    },
    decide: (event, now) => current.decide(event, now),
    decider: (event, ctx) => current.decider(event, ctx),
    reload,
    close() {
      closed = true
      clearTimeout(timer)
      for (const w of watchers.values()) w.close()
      watchers.clear()
      if (options.signal !== undefined) process.off(options.signal, onSignal)
    },
  }
}
