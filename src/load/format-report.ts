import type { LoadProgress } from './load-options.js'
import type { LoadReport } from './run-load.js'

const ms = (v: number) => `${v.toFixed(2)} ms`

/** The human-readable end-of-run report. */
export function formatReport(r: LoadReport): string {
  const lines = [
    `target        ${r.target}`,
    `requested     ${r.rate} callbacks/s for ${(r.durationMs / 1000).toFixed(1)} s (mix ${Object.entries(r.mix)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')})`,
    `achieved      ${Math.round(r.achievedRate)} callbacks/s — ${r.completed} of ${r.sent} sent${r.behind > 0 ? `, ${r.behind} behind schedule (in-flight cap)` : ''}`,
    `latency       p50 ${ms(r.latencyMs.p50)}  p90 ${ms(r.latencyMs.p90)}  p99 ${ms(r.latencyMs.p99)}  max ${ms(r.latencyMs.max)}  (mean ${ms(r.latencyMs.mean)})`,
    `generator     ${(r.cpuMs / 1000).toFixed(2)} CPU s — ${Math.round(r.callbacksPerCpuSecond)} callbacks per CPU second`,
    'outcomes',
  ]
  const width = Math.max(0, ...Object.keys(r.byCommand).map((c) => c.length))
  for (const [command, counts] of Object.entries(r.byCommand).sort()) {
    const parts = Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
    lines.push(`  ${command.padEnd(width)}  ${parts.join(', ')}`)
  }
  lines.push(
    `  ${'total'.padEnd(width)}  ${Object.entries(r.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  )
  return lines.join('\n')
}

/** One line of progress bar, for a TTY: `[#####.....]  12.0/30.0 s  sent 24000  in flight 3`. */
export function formatProgress(p: LoadProgress, width = 30): string {
  const done = Math.min(1, p.elapsedMs / p.durationMs)
  const filled = Math.round(done * width)
  const rate = p.elapsedMs > 0 ? Math.round(p.completed / (Math.min(p.elapsedMs, p.durationMs) / 1000)) : 0
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(Math.min(p.elapsedMs, p.durationMs) / 1000).toFixed(1)}/${(p.durationMs / 1000).toFixed(1)} s  sent ${p.sent}  done ${p.completed}  ${rate}/s  in flight ${p.inFlight}`
}
