/** The sinks' Prometheus metrics, in the server's registry. */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { SinkLiveStatus, SinkRunnerOptions } from '../sinks/run-sinks.js'

/** Hooks for the runner's options, and `attach(runner)` once it runs (gauges read its status when scraped). */
export function createSinkMetrics(
  registry: Registry,
): Pick<SinkRunnerOptions, 'onDelivered' | 'onFailure' | 'onDeadLetter'> & { attach(runner: { status(): SinkLiveStatus[] }): void } {
  let runner: { status(): SinkLiveStatus[] } | undefined
  const delivered = new Counter({
    name: 'timhook_sink_delivered_total',
    help: 'Events a sink confirmed (redeliveries included), by sink',
    labelNames: ['sink'],
    registers: [registry],
  })
  const failures = new Counter({
    name: 'timhook_sink_failures_total',
    help: 'Failed delivery attempts, by sink and reason (timeout, unavailable, http_4xx, http_5xx, http_other, rejected, error)',
    labelNames: ['sink', 'reason'],
    registers: [registry],
  })
  const dead = new Counter({
    name: 'timhook_sink_dead_letters_total',
    help: "Events put in a sink's dead-letter list",
    labelNames: ['sink'],
    registers: [registry],
  })
  new Gauge({
    name: 'timhook_sink_lag_events',
    help: 'Events recorded but not yet delivered by a sink (reported by the instance delivering it)',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const s of runner?.status() ?? []) if (s.holding) this.set({ sink: s.name }, s.lagEvents)
    },
  })
  new Gauge({
    name: 'timhook_sink_lag_seconds',
    help: 'Age of the oldest event a sink has not delivered yet, seconds',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const s of runner?.status() ?? []) if (s.holding) this.set({ sink: s.name }, s.lagSeconds)
    },
  })
  new Gauge({
    name: 'timhook_sink_failing',
    help: "Alert: 1 while a sink's deliveries fail and are being retried (it lags), else 0",
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const s of runner?.status() ?? []) this.set({ sink: s.name }, s.holding && s.failing ? 1 : 0)
    },
  })
  new Gauge({
    name: 'timhook_sink_leader',
    help: '1 for each sink this instance delivers (holds the lease of), else 0',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const s of runner?.status() ?? []) this.set({ sink: s.name }, s.holding ? 1 : 0)
    },
  })
  return {
    onDelivered: (sink, n) => delivered.inc({ sink }, n),
    onFailure: (sink, reason) => failures.inc({ sink, reason }),
    onDeadLetter: (sink) => dead.inc({ sink }),
    attach(r) {
      runner = r
    },
  }
}
