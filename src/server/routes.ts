/**
 * The main port's routes. A callback path goes straight to the receiver's node:http handler (no
 * framework on it); the rest is a small switch: the sinks API, the admin API, `/healthz`,
 * `/readyz`, `/metrics`, and a 404 naming where callbacks go.
 */
import type http from 'node:http'
import { toNodeHandler } from '../adapters/node.js'
import type { Receiver } from '../receiver/index.js'
import { pathOf, queryOf } from '../receiver/request-target.js'
import { type AdminHandler, internalError, sendJson } from './admin-api.js'
import type { SinksHandle } from './attach-sinks.js'
import type { ServerLogger } from './logger.js'
import type { MetricsResponder } from './metrics-endpoint.js'
import type { Readiness } from './readiness.js'
import { handleSinksApi } from './sinks-api.js'

export interface RouteParts {
  receiver: Receiver
  /** Served besides `/`. */
  callbackPath: string | undefined
  admin: AdminHandler
  /** Answers 401 and returns false unless the request carries the admin token. */
  adminOnly: (req: http.IncomingMessage, res: http.ServerResponse) => boolean
  sinks: SinksHandle
  readiness: () => Promise<Readiness>
  /** Undefined when `/metrics` is served on a port of its own. */
  metrics: MetricsResponder | undefined
  logger: ServerLogger
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void

export function createRoutes(parts: RouteParts): Route {
  const { admin, adminOnly, sinks, readiness, metrics, logger } = parts
  const onCallback = toNodeHandler(parts.receiver)
  const callbackPaths = new Set(['/', ...(parts.callbackPath === undefined ? [] : [parts.callbackPath])])
  return (req, res) => {
    const url = req.url ?? '/'
    const path = pathOf(url)
    if (callbackPaths.has(path)) {
      onCallback(req, res)
      return
    }
    if (path === '/api/sinks' || path.startsWith('/api/sinks/')) {
      if (adminOnly(req, res)) handleSinksApi({ ...sinks, logger }, req, res, path, queryOf(url))
      return
    }
    if (path.startsWith('/api/')) {
      admin(req, res, path, queryOf(url))
      return
    }
    const fail = (err: unknown) => internalError(res, logger, err, path)
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { ok: true })
        return
      case '/readyz':
        readiness().then((r) => sendJson(res, r.ready ? 200 : 503, r), fail)
        return
      case '/metrics':
        // Metrics tell traffic, rule names and failure causes: not for whoever reaches the callback port.
        if (metrics === undefined)
          sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'metrics are served on the metrics port (--metrics-port)' } })
        else if (adminOnly(req, res)) metrics(res).catch(fail)
        return
      default:
        sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: `nothing at ${path}; callbacks go to ${[...callbackPaths].join(' or ')}` },
        })
    }
  }
}
