/**
 * The sinks' admin endpoints, behind the admin token like the rest of /api:
 * - `GET /api/sinks`: per sink — cursor, lag (events, seconds), last error, dead letters, who delivers it;
 * - `POST /api/sinks/:name/replay?from=<id|time>`: deliver again from an event id or a time (ms or ISO 8601);
 * - `GET /api/sinks/:name/dead-letters`: the dead-letter list;
 * - `POST /api/sinks/:name/dead-letters/redrive[?id=<id>]`: deliver them (or one) again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ReplayError, type Outbox, type ReplayFrom } from '../sinks/outbox.js'
import type { SinkInfo, SinksView } from './attach-sinks.js'
import { sendJson } from './admin-api.js'
import type { ServerLogger } from './logger.js'

export interface SinksApiContext {
  outbox: Outbox | undefined
  runner: SinksView | undefined
  sinks: readonly SinkInfo[]
  logger: ServerLogger
}

class BadRequest extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message)
  }
}

/** `from`: an event id (digits, below 10^12) or a time (ms since the epoch, or ISO 8601). */
export function replayFromOf(value: string | null | undefined): ReplayFrom {
  if (value === null || value === undefined || value === '')
    throw new BadRequest('from', 'required: an event id, or a time (ms since the epoch or ISO 8601)')
  if (/^\d+$/.test(value)) {
    const n = Number(value)
    // Event ids are far below 10^12; ms since the epoch are above it (since 2001).
    return n < 1e12 ? { id: n } : { time: n }
  }
  const t = Date.parse(value)
  if (!Number.isFinite(t))
    throw new BadRequest('from', `an event id or a time (ms since the epoch or ISO 8601), got ${JSON.stringify(value.slice(0, 40))}`)
  return { time: t }
}

/** Everything known about each sink: stored state (all instances) and this instance's live view. */
export async function sinksReport(ctx: Pick<SinksApiContext, 'outbox' | 'runner' | 'sinks'>): Promise<unknown[]> {
  if (ctx.outbox === undefined) return []
  const stored = new Map((await ctx.outbox.status()).map((r) => [r.name, r]))
  const live = new Map((ctx.runner?.status() ?? []).map((s) => [s.name, s]))
  const out: unknown[] = []
  for (const sink of ctx.sinks) {
    const row = stored.get(sink.name)
    const l = live.get(sink.name)
    let lagEvents = l?.holding ? l.lagEvents : null
    let lagSeconds = l?.holding ? l.lagSeconds : null
    if (row !== undefined && !l?.holding) {
      // Delivered by another instance (or none right now): the lag from the stored cursor.
      const lag = await ctx.outbox.lag(row.position, 1_000_000)
      lagEvents = lag.events
      lagSeconds = lag.oldestAt === null ? 0 : Math.max(0, (Date.now() - lag.oldestAt) / 1000)
    }
    out.push({
      name: sink.name,
      type: sink.type,
      commands: sink.commands === undefined ? null : [...sink.commands],
      cursor:
        row === undefined
          ? null
          : {
              position: row.position,
              lastId: row.lastId,
              updatedAt: row.updatedAt === null ? null : new Date(row.updatedAt).toISOString(),
            },
      lag: { events: lagEvents, seconds: lagSeconds === null ? null : Math.round(lagSeconds * 10) / 10 },
      deliveredByThisInstance: l?.holding ?? false,
      holder: row?.holder ?? null,
      leaseUntil: row?.leaseUntil == null ? null : new Date(row.leaseUntil).toISOString(),
      delivered: l?.delivered ?? 0,
      failing: l?.holding ? l.failing : null,
      lastError: l?.lastError ?? null,
      deadLetters: row?.deadLetters ?? 0,
    })
  }
  return out
}

/** Handles /api/sinks…; the caller checked the admin token. */
export function handleSinksApi(ctx: SinksApiContext, req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
  const params = new URLSearchParams(query)
  const parts = path.split('/').slice(3).map(decodeURIComponent) // ['', 'api', 'sinks', ...rest]
  const method = req.method ?? 'GET'
  const sinkNamed = (name: string) => {
    if (!ctx.sinks.some((s) => s.name === name))
      throw new NotFound(`no sink named ${JSON.stringify(name)}; configured: ${ctx.sinks.map((s) => s.name).join(', ') || 'none'}`)
    return name
  }
  const run = async (): Promise<unknown> => {
    if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) {
      allow(method, 'GET')
      return { sinks: await sinksReport(ctx) }
    }
    const name = sinkNamed(parts[0]!)
    const outbox = ctx.outbox!
    if (parts.length === 2 && parts[1] === 'replay') {
      allow(method, 'POST')
      const from = replayFromOf(params.get('from'))
      const cursor = await outbox.replay(name, from)
      ctx.logger.info({ sink: name, from, position: cursor.position }, 'sink replay requested: delivering again from there')
      ctx.runner?.wake()
      return { sink: name, from, cursor: cursor.position }
    }
    if (parts.length === 2 && parts[1] === 'dead-letters') {
      allow(method, 'GET')
      const limit = Number(params.get('limit') ?? 100)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BadRequest('limit', 'an integer from 1 to 1000')
      return { sink: name, deadLetters: (await outbox.deadLetters(name, limit)).map((d) => ({ ...d, at: new Date(d.at).toISOString() })) }
    }
    if (parts.length === 3 && parts[1] === 'dead-letters' && parts[2] === 'redrive') {
      allow(method, 'POST')
      const id = params.get('id')
      if (id !== null && !/^\d+$/.test(id)) throw new BadRequest('id', 'an event id')
      const n = await outbox.redrive(name, id === null ? undefined : [Number(id)])
      ctx.runner?.wake()
      return { sink: name, redriven: n }
    }
    throw new NotFound(`no such endpoint ${path}; try /api/sinks, /api/sinks/<name>/replay?from=…, /api/sinks/<name>/dead-letters`)
  }
  run().then(
    (value) => sendJson(res, 200, value),
    (err: unknown) => {
      if (err instanceof BadRequest)
        sendJson(res, 400, { error: { code: 'BAD_PARAMETER', parameter: err.parameter, message: err.message } })
      else if (err instanceof NotFound) sendJson(res, 404, { error: { code: 'NOT_FOUND', message: err.message } })
      else if (err instanceof MethodNotAllowed)
        sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `use ${err.allowed}` } }, { allow: err.allowed })
      else if (err instanceof ReplayError) sendJson(res, 404, { error: { code: 'NO_SUCH_EVENT', message: err.message } })
      else {
        ctx.logger.error({ err: String(err), path }, 'sinks API failed')
        sendJson(res, 503, { error: { code: 'STORE_UNAVAILABLE', message: 'the store did not answer; see /readyz' } })
      }
    },
  )
}

class NotFound extends Error {}
class MethodNotAllowed extends Error {
  constructor(readonly allowed: string) {
    super(allowed)
  }
}
function allow(method: string, allowed: string): void {
  if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) throw new MethodNotAllowed(allowed)
}
