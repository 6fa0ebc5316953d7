/**
 * `/metrics`: the Prometheus text, on the main port behind the admin token, or on a port of its own
 * (`metricsPort`, meant for an internal interface) without a token and with nothing else on it.
 */
import type http from 'node:http'
import { pathOf } from '../receiver/request-target.js'
import { internalError, sendJson } from './admin-api.js'
import type { ServerConfig } from './config.js'
import { connectionLimits, listen } from './listen.js'
import type { ServerLogger } from './logger.js'
import type { ServerMetrics } from './metrics.js'
import { createServer } from './tls.js'

/** Writes the metrics to `res` (500 naming the cause when they cannot be gathered). */
export type MetricsResponder = (res: http.ServerResponse) => Promise<void>

export function metricsResponder(metrics: ServerMetrics): MetricsResponder {
  return (res) =>
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType })
        res.end(text)
      },
      (err: unknown) => sendJson(res, 500, { error: { code: 'METRICS_FAILED', message: String(err) } }),
    )
}

/** Connections the metrics port keeps open at most: a scraper or two, not traffic. */
export const METRICS_MAX_CONNECTIONS = 100

/** Starts the metrics port; resolves with the server and its URL (`http://host:port`). */
export async function startMetricsServer(
  config: Pick<ServerConfig, 'metricsPort' | 'metricsHost' | 'headersTimeoutMs' | 'requestTimeoutMs'>,
  respond: MetricsResponder,
  logger: ServerLogger,
): Promise<{ server: http.Server; url: string }> {
  const server = createServer(
    undefined,
    (req, res) => {
      const path = pathOf(req.url ?? '/')
      try {
        if (path === '/metrics') respond(res).catch((err: unknown) => internalError(res, logger, err, path))
        else sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'only /metrics is served on this port' } })
      } catch (err) {
        internalError(res, logger, err, path)
      }
    },
    connectionLimits(config),
  )
  server.maxConnections = METRICS_MAX_CONNECTIONS
  const { url } = await listen(server, config.metricsPort, config.metricsHost, 'http')
  return { server, url }
}
