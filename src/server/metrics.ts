/**
 * Prometheus metrics of `timhook serve`, in a registry of their own (not prom-client's global
 * one, so an app embedding timhook keeps its metrics apart).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { commandInfo } from '../protocol/commands.js'
import { STAMP_SHIFT_REPORTED_MS, type Store } from '../store/store.js'
import { CallbackTally, PhaseHistogram, tallyCounter } from './callback-tally.js'
import { DecisionTally } from './decision-tally.js'

export interface ServerMetrics {
  readonly registry: Registry
  /** Callbacks answered, counted in plain numbers and reported as `timhook_callbacks_total` when scraped. */
  readonly callbacks: CallbackTally
  readonly rejections: Counter<'cause'>
  readonly failures: Counter<'cause'>
  /** `timhook_callback_duration_seconds`, by phase, in plain numbers read when scraped. */
  readonly duration: PhaseHistogram
  /** Policy decisions, counted in plain numbers and reported as `timhook_decisions_total` when scraped. */
  readonly decisions: DecisionTally
  readonly policyReloads: Counter<'result'>
  /** Store commits aborted by a serialization failure or deadlock and retried (PostgreSQL). */
  readonly storeConflicts: Counter
  /** Connections closed at once because `maxConnections` were open. */
  readonly connectionsDropped: Counter
}

/** A bounded label: Tencent's commands by name, anything else (attacker-chosen text included) as `unknown`. */
export const commandLabel = (command: string | undefined) => (command === undefined ? 'none' : commandInfo(command) ? command : 'unknown')

/**
 * Creates the metrics and wires the store's commit reports into them.
 * @example const metrics = createMetrics(store); res.end(await metrics.registry.metrics())
 */
export function createMetrics(store: Store): ServerMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const tally = new DecisionTally()
  const reported = new Map<string, number>()
  new Counter({
    name: 'timhook_decisions_total',
    help: 'Before-send decisions by policy rule, action and verdict',
    labelNames: ['rule', 'action', 'verdict'],
    registers: [registry],
    collect() {
      for (const { rule, action, verdict, count } of tally.entries()) {
        const key = `${rule}\0${action}\0${verdict}`
        const delta = count - (reported.get(key) ?? 0)
        if (delta > 0) this.inc({ rule, action, verdict }, delta)
        reported.set(key, count)
      }
    },
  })
  const latency = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]
  const callbacks = new CallbackTally()
  tallyCounter(
    callbacks,
    registry,
    'timhook_callbacks_total',
    'Callbacks answered, by command and outcome (ok, allow, rewrite, deny, drop, fallback, failed, rejected)',
  )
  const metrics: ServerMetrics = {
    registry,
    callbacks,
    rejections: new Counter({
      name: 'timhook_rejections_total',
      help: 'Requests refused before any handler ran, by cause (error code)',
      labelNames: ['cause'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'timhook_failures_total',
      help: 'Accepted callbacks that hit a failure (late or failed decision, failed commit), by cause',
      labelNames: ['cause'],
      registers: [registry],
    }),
    duration: new PhaseHistogram(
      'timhook_callback_duration_seconds',
      'Time from request to answer in the callback handler, by phase (before: a decision; after: until committed; rejected)',
      latency,
      registry,
    ),
    decisions: tally,
    policyReloads: new Counter({
      name: 'timhook_policy_reloads_total',
      help: 'Policy file reloads, by result (ok, error)',
      labelNames: ['result'],
      registers: [registry],
    }),
    storeConflicts: new Counter({
      name: 'timhook_store_conflicts_retried_total',
      help: 'Store commits PostgreSQL aborted for a serialization failure or deadlock, retried inside the server',
      registers: [registry],
    }),
    connectionsDropped: new Counter({
      name: 'timhook_connections_dropped_total',
      help: 'Connections closed at once because maxConnections were open',
      registers: [registry],
    }),
  }
  const commitDuration = new Histogram({
    name: 'timhook_store_commit_duration_seconds',
    help: 'Duration of one store commit (one transaction)',
    buckets: latency,
    registers: [registry],
  })
  const batchSize = new Histogram({
    name: 'timhook_store_batch_size',
    help: 'Records per commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [registry],
  })
  const stampedForward = new Counter({
    name: 'timhook_store_rows_stamped_forward_total',
    help: `Rows SQLite stored with a received_at more than ${STAMP_SHIFT_REPORTED_MS / 1000} s later than they were received (the clock was set back after running ahead, or a row waited behind another instance's newer ones)`,
    registers: [registry],
  })
  const commitFailures = new Counter({
    name: 'timhook_store_commit_failures_total',
    help: 'Commits that failed (database unreachable or refusing)',
    registers: [registry],
  })
  new Gauge({
    name: 'timhook_store_pending_records',
    help: 'Records waiting for a commit (queued, or kept after failed commits)',
    registers: [registry],
    collect() {
      this.set(store.pending)
    },
  })
  new Gauge({
    name: 'timhook_store_pending_bytes',
    help: 'Bytes of callback bodies waiting for a commit (capped by maxPendingBytes)',
    registers: [registry],
    collect() {
      this.set(store.pendingBytes)
    },
  })
  new Gauge({
    name: 'timhook_store_dropped_records',
    help: 'Fire-and-forget records (before-send records) not stored: over the pending cap, or refused by the database',
    registers: [registry],
    collect() {
      this.set(store.counters.dropped)
    },
  })
  new Gauge({
    name: 'timhook_store_backlog_refused_records',
    help: 'Records turned away at once because too much waited for the store (TIMHOOK_STORE_BACKLOG)',
    registers: [registry],
    collect() {
      this.set(store.counters.backlogRefused)
    },
  })
  new Gauge({
    name: 'timhook_store_refused_records',
    help: 'Records the database refused for their data, isolated from their batch (TIMHOOK_STORE_REFUSED)',
    registers: [registry],
    collect() {
      this.set(store.counters.dataRefused)
    },
  })
  new Gauge({
    name: 'timhook_store_ready',
    help: '1 while the last store commit succeeded, 0 while commits fail',
    registers: [registry],
    collect() {
      this.set(store.lastCommitError === undefined ? 1 : 0)
    },
  })
  store.onCommit((r) => {
    if (r.probe === true || r.refused !== undefined) return
    if (r.error !== undefined) {
      commitFailures.inc()
      return
    }
    commitDuration.observe(r.durationMs / 1000)
    batchSize.observe(r.size)
    if (r.stampShift !== undefined) stampedForward.inc(r.stampShift.rows)
  })
  return metrics
}
