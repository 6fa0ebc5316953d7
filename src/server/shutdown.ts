/**
 * Graceful stop of the main port: stop accepting, tell clients of requests in flight not to reuse
 * their connection, wait for those requests (at most `shutdownTimeoutMs`), then close what is left.
 */
import type http from 'node:http'
import type { ServerLogger } from './logger.js'

export interface RequestTracker {
  /** True once `drain` was called: every answer from then on says `connection: close`. */
  readonly stopping: boolean
  /** Wraps the route: counts the request in flight until its response closes; a throw is answered by `onThrow`. */
  listener(
    route: http.RequestListener,
    onThrow: (req: http.IncomingMessage, res: http.ServerResponse, err: unknown) => void,
  ): http.RequestListener
  /** Stops `server` accepting and waits for the requests in flight, at most `timeoutMs`; then closes every connection. */
  drain(server: http.Server, timeoutMs: number, logger: ServerLogger): Promise<void>
}

export function trackRequests(): RequestTracker {
  const inFlight = new Set<http.ServerResponse>()
  let drained: (() => void) | undefined
  let stopping = false
  return {
    get stopping() {
      return stopping
    },
    listener: (route, onThrow) => (req, res) => {
      inFlight.add(res)
      res.once('close', () => {
        inFlight.delete(res)
        if (inFlight.size === 0 && drained !== undefined) drained()
      })
      // Once stopping, every answer tells the client to stop reusing the connection.
      if (stopping) res.setHeader('connection', 'close')
      // No handler may throw past its request: whatever escapes is answered by onThrow.
      try {
        route(req, res)
      } catch (err) {
        onThrow(req, res, err)
      }
    },
    async drain(server, timeoutMs, logger) {
      stopping = true
      logger.info({ inFlight: inFlight.size }, 'shutting down: no new connections; finishing in-flight requests')
      // Requests already in flight answer with `connection: close`, so their clients do not reuse the connection.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close')
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve
          const t = setTimeout(() => {
            logger.warn({ inFlight: inFlight.size }, 'shutdown timeout: closing connections with requests still in flight')
            resolve()
          }, timeoutMs)
          t.unref()
        })
      }
      server.closeAllConnections()
      await stopped
    },
  }
}
