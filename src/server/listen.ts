/** The HTTP listener's own settings: connection limits, listening, the URL it is reached at. */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ServerConfig } from './config.js'

/**
 * How long a connection may take to send a request: a server-to-server caller (Tencent, a load
 * balancer) sends one at once and whole, so the defaults are 10 s for the headers and for the whole
 * request (Node's are 60 s and 300 s: a client trickling a byte now and then held a connection for
 * minutes). Node checks these every `connectionsCheckingInterval` (30 s by default); checking
 * every quarter of the headers timeout (at most every second) closes a slow connection close to
 * its deadline.
 */
export function connectionLimits(config: Pick<ServerConfig, 'headersTimeoutMs' | 'requestTimeoutMs'>): http.ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
  }
}

/** Listens on `port` at `host`; resolves with the port actually bound (useful with port 0) and the URL it is reached at. */
export function listen(
  server: http.Server,
  port: number | undefined,
  host: string,
  scheme: 'http' | 'https',
): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const bound = (server.address() as AddressInfo).port
      resolve({ port: bound, url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${bound}` })
    })
  })
}

/** Stops accepting and resolves once every connection is closed (open ones are closed now). */
export function closeNow(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
