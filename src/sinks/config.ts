/**
 * Sink definitions as written in the config file (`sinks:`) or `TIMHOOK_SINKS` (JSON), checked
 * once at start: an error names the sink and the field.
 */
import { z } from 'zod'
import { natsJetStreamSink } from './nats-jetstream.js'
import { redisStreamSink } from './redis-stream.js'
import type { Sink } from './sink.js'
import { webhookSecretKey } from './signature.js'
import { webhookSink } from './webhook.js'

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)')
const commands = z.array(z.string().min(1)).min(1).optional()
const start = z.enum(['beginning', 'end']).optional()
const timeoutMs = z.number().int().min(100).max(120_000).optional()
const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v.split(',')[0]!.trim()).protocol)
      } catch {
        return false
      }
    },
    `a URL starting with ${schemes.map((s) => s + '//').join(' or ')}`,
  )

export const sinkSchema = z.discriminatedUnion('type', [
  z
    .object({
      name,
      type: z.literal('redis-stream'),
      url: url(['redis:', 'rediss:']),
      stream: z.string().min(1),
      maxLen: z.number().int().positive().optional(),
      commands,
      start,
      timeoutMs,
    })
    .strict(),
  z
    .object({
      name,
      type: z.literal('nats-jetstream'),
      url: url(['nats:', 'tls:']),
      stream: z.string().regex(/^[^\s.*>]+$/, 'a stream name has no spaces, dots, * or >'),
      subject: z.string().min(1).optional(),
      streamSubjects: z.array(z.string().min(1)).min(1).optional(),
      commands,
      start,
      timeoutMs,
    })
    .strict(),
  z
    .object({
      name,
      type: z.literal('webhook'),
      url: url(['http:', 'https:']),
      secret: z
        .string()
        .refine((s) => {
          try {
            webhookSecretKey(s)
            return true
          } catch {
            return false
          }
        }, 'a Standard Webhooks secret: whsec_ followed by base64')
        .optional(),
      headers: z.record(z.string(), z.string()).optional(),
      deadLetterAfter: z.number().int().min(1).max(1000).optional(),
      commands,
      start,
      timeoutMs,
    })
    .strict(),
])

export const sinksSchema = z.array(sinkSchema).superRefine((list, ctx) => {
  const seen = new Set<string>()
  list.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `two sinks are named ${JSON.stringify(s.name)}` })
    seen.add(s.name)
  })
})

export type SinkConfig = z.infer<typeof sinkSchema>

/**
 * The sink a definition describes (not connected yet: each connects on its first send).
 * @example createSink({ name: 'billing', type: 'webhook', url: 'https://billing.internal/tim', secret: 'whsec_…' })
 */
export function createSink(config: SinkConfig): Sink {
  switch (config.type) {
    case 'redis-stream':
      return redisStreamSink(config)
    case 'nats-jetstream':
      return natsJetStreamSink(config)
    case 'webhook':
      return webhookSink(config)
  }
}

/** Parses sink definitions (an array, or its JSON text); the error names the sink and the field. */
export function parseSinks(input: unknown, source = 'sinks'): SinkConfig[] {
  let data = input
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input)
    } catch (err) {
      throw new Error(`${source}: not valid JSON: ${(err as Error).message}`)
    }
  }
  const r = sinksSchema.safeParse(data)
  if (r.success) return r.data
  const problems = r.error.issues.map((i) => {
    const at =
      i.path.length === 0
        ? ''
        : typeof i.path[0] === 'number'
          ? `[${i.path[0]}]${i.path.length > 1 ? '.' + i.path.slice(1).join('.') : ''}`
          : '.' + i.path.join('.')
    return `${source}${at}: ${i.message}`
  })
  throw new Error(problems.join('\n  '))
}
