import { applyBeforeSendAnswer } from '../sender/before-send-answer.js'
import { createCallbackSender, type CallbackOutcome } from '../sender/callback-sender.js'
import { LatencySample, type LatencySummary } from './latency-sample.js'
import { DEFAULT_MIX, LOAD_DEFAULTS, type LoadOptions, type Mix } from './load-options.js'
import { TrafficModel } from './traffic-model.js'

export interface LoadReport {
  target: string
  /** Requested callbacks per second. */
  rate: number
  durationMs: number
  /** From the first callback to the last answer. */
  elapsedMs: number
  /** Callbacks sent and answered (or failed). */
  sent: number
  completed: number
  /** completed / sending time: compare with `rate` to see whether the target (or this machine) kept up. */
  achievedRate: number
  /** Callbacks that were due but not sent because `maxInFlight` were outstanding. */
  behind: number
  mix: Mix
  /** Outcome → count, over all commands: allow, rewrite, deny, deny-custom, drop (before-events), ok (after-events), http-<status>, timeout, not-json, network, invalid-answer. */
  outcomes: Record<string, number>
  /** Command → outcome → count. */
  byCommand: Record<string, Record<string, number>>
  /** Callback latency, ms: request sent → answer read. */
  latencyMs: LatencySummary
  /** CPU time this generator used during the run, ms (user + system, this process). */
  cpuMs: number
  /** completed / CPU seconds: how many callbacks/s one core of the generator can drive. */
  callbacksPerCpuSecond: number
}

const PLATFORMS = ['iOS', 'Android', 'Web', 'RESTAPI'] as const

function label(command: string, outcome: CallbackOutcome): { label: string; delivered: boolean } {
  if (command.endsWith('BeforeSendMsg')) {
    const d = applyBeforeSendAnswer(command.startsWith('Group.') ? 'group' : 'c2c', outcome, false)
    if (d.kind === 'drop') return { label: 'drop', delivered: false }
    if (d.kind === 'deny') return { label: d.code === 10016 || d.code === 20006 ? 'deny' : 'deny-custom', delivered: false }
    if (d.failure !== undefined) return { label: failureLabel(outcome), delivered: true }
    return { label: d.msgBody !== undefined || d.cloudCustomData !== undefined ? 'rewrite' : 'allow', delivered: true }
  }
  if (outcome.kind === 'answered')
    return { label: outcome.answer.ActionStatus === 'OK' && outcome.answer.ErrorCode === 0 ? 'ok' : 'answer-fail', delivered: true }
  return { label: failureLabel(outcome), delivered: true }
}

function failureLabel(outcome: CallbackOutcome): string {
  if (outcome.kind === 'answered') return 'invalid-answer'
  return outcome.reason === 'status' ? `http-${outcome.status}` : outcome.reason
}

/**
 * Drives a realistic callback mix at a target rate against a running callback backend, straight
 * (no REST hop): the load source of the benchmarks. Open-loop: callbacks start on schedule whatever
 * the answers' latency, up to `maxInFlight` outstanding.
 * @example
 * const report = await runLoad({ target: 'http://127.0.0.1:8080/im', token: 'secret', rate: 2000, durationMs: 10_000 })
 * console.log(report.achievedRate, report.latencyMs.p99, report.outcomes)
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { rate, durationMs } = options
  const url = checkOptions(options)
  const mix: Mix = { ...DEFAULT_MIX, ...options.mix }
  const sdkAppId = String(options.sdkAppId ?? LOAD_DEFAULTS.sdkAppId)
  const timeoutMs = options.timeoutMs ?? LOAD_DEFAULTS.timeoutMs
  const connections = options.connections ?? LOAD_DEFAULTS.connections
  const sender = createCallbackSender({ url, sdkAppId, token: options.token, timeoutMs, connections })
  const model = new TrafficModel(mix, options.groups ?? LOAD_DEFAULTS.groups, options.users ?? LOAD_DEFAULTS.users)
  const tally = new Tally()
  const counts: Counts = { sent: 0, completed: 0, inFlight: 0, due: 0 }

  const fire = () => {
    const planned = model.next()
    const n = ++counts.sent
    counts.inFlight++
    const context = { clientIp: `10.0.${n & 255}.${(n >> 8) & 255}`, optPlatform: PLATFORMS[n & 3]! }
    // send() never rejects: every failure is an outcome.
    void sender.send(sender.target(planned.command, context), planned.body).then((outcome) => {
      counts.inFlight--
      counts.completed++
      const { label: l, delivered } = label(planned.command, outcome)
      tally.record(planned.command, l, outcome.latencyMs)
      planned.then?.(delivered, outcome.kind === 'answered' && l === 'rewrite' ? outcome.answer : undefined)
    })
  }

  const cpuAtStart = process.cpuUsage()
  const started = performance.now()
  const sendingMs = await pace(options, counts, fire, started)
  while (counts.inFlight > 0) await new Promise((r) => setTimeout(r, 5))
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpuAtStart)
  const cpuMs = (cpu.user + cpu.system) / 1000
  options.onProgress?.({ elapsedMs, durationMs, sent: counts.sent, completed: counts.completed, inFlight: counts.inFlight })
  await sender.close()
  return {
    target: options.target,
    rate,
    durationMs,
    elapsedMs,
    sent: counts.sent,
    completed: counts.completed,
    achievedRate: counts.completed / (Math.max(sendingMs, 1) / 1000),
    behind: Math.max(0, counts.due - counts.sent),
    mix,
    outcomes: tally.outcomes,
    byCommand: tally.byCommand,
    latencyMs: tally.latency.summary(),
    cpuMs,
    callbacksPerCpuSecond: counts.completed / (Math.max(cpuMs, 1) / 1000),
  }
}

interface Counts {
  sent: number
  completed: number
  inFlight: number
  /** Callbacks due by now at the requested rate. */
  due: number
}

/** The rate, duration and target, checked; a clear error names the one that is wrong. */
function checkOptions(options: LoadOptions): URL {
  const rate = options.rate
  if (!(rate > 0 && Number.isFinite(rate))) throw new Error(`invalid rate ${rate}: callbacks per second, > 0`)
  if (!(options.durationMs > 0)) throw new Error(`invalid duration ${options.durationMs} ms`)
  try {
    return new URL(options.target)
  } catch {
    throw new Error(`invalid target ${JSON.stringify(options.target)}: the backend's callback URL, e.g. http://127.0.0.1:8080/im`)
  }
}

/** Outcomes by label and by command, and the latency sample. */
class Tally {
  readonly outcomes: Record<string, number> = {}
  readonly byCommand: Record<string, Record<string, number>> = {}
  readonly latency = new LatencySample()

  record(command: string, label: string, latencyMs: number): void {
    this.latency.record(latencyMs)
    this.outcomes[label] = (this.outcomes[label] ?? 0) + 1
    const perCommand = (this.byCommand[command] ??= {})
    perCommand[label] = (perCommand[label] ?? 0) + 1
  }
}

/**
 * Open-loop pacing: fires every callback that is due, up to `maxInFlight` outstanding, until the
 * duration is over (or the signal aborts). Resolves with the time spent sending, ms.
 */
function pace(options: LoadOptions, counts: Counts, fire: () => void, started: number): Promise<number> {
  const { rate, durationMs } = options
  const maxInFlight = options.maxInFlight ?? LOAD_DEFAULTS.maxInFlight
  return new Promise<number>((resolve) => {
    let lastProgress = 0
    const tick = () => {
      const elapsed = performance.now() - started
      if (elapsed >= durationMs || options.signal?.aborted) {
        resolve(Math.min(elapsed, durationMs))
        return
      }
      counts.due = Math.floor((elapsed / 1000) * rate)
      while (counts.sent < counts.due && counts.inFlight < maxInFlight) fire()
      if (options.onProgress !== undefined && elapsed - lastProgress >= 250) {
        lastProgress = elapsed
        options.onProgress({ elapsedMs: elapsed, durationMs, sent: counts.sent, completed: counts.completed, inFlight: counts.inFlight })
      }
      // Behind schedule with room in flight: come back right after pending I/O. On schedule, or
      // waiting for answers at the in-flight cap: the next millisecond (spinning would only burn the
      // CPU the answers need).
      if (counts.sent < counts.due && counts.inFlight < maxInFlight) setImmediate(tick)
      else setTimeout(tick, 1)
    }
    tick()
  })
}
