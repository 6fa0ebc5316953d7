/**
 * `timhook serve` as a function: opens the store, builds the receiver, wires recording, policy,
 * metrics and the admin API, and listens. The callback path goes straight to the receiver's node:http handler
 * (no framework on it); everything else goes through a small router.
 */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { toNodeHandler } from '../adapters/node.js'
import { createReceiver, type Logger, type Receiver } from '../receiver/index.js'
import { pathOf, queryOf } from '../receiver/request-target.js'
import { isPostgresUrl, openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { bearerGuard, createAdminApi, internalError, sendJson } from './admin-api.js'
import { attachRecorder } from './attach-recorder.js'
import type { ServerConfig } from './config.js'
import { createLogger, type ServerLogger } from './logger.js'
import { createMetrics, type ServerMetrics } from './metrics.js'
import { attachPolicy, type PolicyHandle } from './attach-policy.js'
import { createServer, readTls, watchTls } from './tls.js'
import { attachSinks, type SinksHandle, type SinkTuning } from './attach-sinks.js'
import { handleSinksApi } from './sinks-api.js'

export interface RunningServer {
  /** `http://host:port` (`https://` with TLS), with the port actually bound (useful with port 0). */
  readonly url: string
  /** Where `/metrics` is served without a token, when `metricsPort` is set: `http://host:port`. */
  readonly metricsUrl: string | undefined
  readonly port: number
  readonly store: Store
  readonly metrics: ServerMetrics
  readonly receiver: Receiver
  readonly logger: ServerLogger
  /** The sinks, their outbox and delivery loops (empty without `sinks`). */
  readonly sinks: SinksHandle
  /** Where records go, for people: `SQLite ./timhook.db` or `PostgreSQL 127.0.0.1:5432/timhook (schema public)`. */
  readonly storage: string
  /** Reloads the policy file now (what SIGHUP does); a bad file leaves the previous rules in force. */
  reloadPolicy(): void
  /** Reads the TLS certificate and key again (what SIGHUP does); a failure keeps the current ones. */
  reloadTls(): void
  /** Graceful stop: stop accepting, finish in-flight requests, flush, close. Idempotent. */
  close(): Promise<void>
}

export interface StartOptions {
  logger?: ServerLogger
  /** Sink loop timings (tests shorten the lease). */
  sinks?: SinkTuning
}

const hostPart = (host: string) => (host.includes(':') ? `[${host}]` : host)

/** A URL for people: no password. */
export function describeStorage(config: Pick<ServerConfig, 'db' | 'pgSchema'>): string {
  if (!isPostgresUrl(config.db)) return `SQLite ${config.db}`
  try {
    const u = new URL(config.db)
    return `PostgreSQL ${u.host}${u.pathname} (schema ${config.pgSchema})`
  } catch {
    return 'PostgreSQL'
  }
}

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

/**
 * Starts the server.
 * @example
 * const server = await startServer(loadConfig({ flags: { sdkAppId: ['1400000000'], port: 8080 } }))
 * process.on('SIGTERM', () => server.close())
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const tls = readTls(config)
  const storage = describeStorage(config)
  let countConflict = () => {}
  const store = await openStore(config.db, {
    schema: config.pgSchema,
    poolSize: config.pgPoolSize,
    commitsInFlight: config.pgCommitsInFlight,
    adminTimeoutMs: config.adminReadTimeoutMs,
    readBudgetMs: config.adminReadTimeoutMs,
    maxConcurrentReads: config.maxAdminReads,
    maxBatch: config.maxBatch,
    maxPendingRecords: config.maxPendingRecords,
    maxPendingBytes: config.maxPendingBytes,
    onIdleError: (err) => logger.warn({ err: err.message }, 'a PostgreSQL connection was lost; it will be replaced'),
    // Not an outage: PostgreSQL aborted a commit that met another one; it is retried at once.
    onConflict: (err, attempt) => {
      countConflict()
      logger.warn({ err: err.message, attempt }, 'store commit met a concurrent one (serialization failure or deadlock); retrying it')
    },
  })
  const metrics = createMetrics(store)
  countConflict = () => metrics.storeConflicts.inc()
  const outage = watchStoreOutage(store, logger)

  const receiver = createReceiver({
    sdkAppId: config.sdkAppId,
    token: config.token,
    maxSkewSeconds: config.maxSkewSeconds,
    bodyLimit: config.bodyLimit,
    deadlineMs: config.deadlineMs,
    strict: config.strict,
    logger: outage.receiverLogger,
  })
  attachRecorder(receiver, { store, metrics, logger })
  let policy: PolicyHandle | undefined
  try {
    policy = config.policy === undefined ? undefined : attachPolicy(receiver, config.policy, { metrics, logger })
  } catch (err) {
    await store.close()
    outage.close()
    throw err
  }

  let sinks: SinksHandle
  try {
    sinks = await attachSinks(config.sinks, config.db, config.pgSchema, store, metrics, logger, options.sinks)
  } catch (err) {
    policy?.close()
    await store.close()
    outage.close()
    throw err
  }
  if (config.token === undefined) {
    logger.warn(
      { risk: 'forged callbacks' },
      'no callback token (--token): Sign is not checked, so anyone who can reach this port can send callbacks that are stored and answered as if Tencent sent them; set the callback authentication token from the IM console',
    )
  }
  const admin = createAdminApi(store, config.adminToken, logger)
  const adminOnly = bearerGuard(config.adminToken)
  const serveMetrics = (res: http.ServerResponse) =>
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType })
        res.end(text)
      },
      (err: unknown) => sendJson(res, 500, { error: { code: 'METRICS_FAILED', message: String(err) } }),
    )
  let metricsServer: http.Server | undefined
  const callbackPaths = new Set(['/', ...(config.callbackPath === undefined ? [] : [config.callbackPath])])
  let stopping = false
  const inFlight = new Set<http.ServerResponse>()
  let drained: (() => void) | undefined

  const readiness = async (): Promise<{ ready: boolean; error?: string }> => {
    if (stopping) return { ready: false, error: 'shutting down' }
    // Not ready while commits fail (the database is gone, hung, full or locked), whatever a ping says.
    const failing = store.lastCommitError
    if (failing !== undefined) return { ready: false, error: `store commits fail: ${failing.message}` }
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        store.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 1000 ms')), 1000))),
      ])
      return { ready: true }
    } catch (err) {
      return { ready: false, error: err instanceof Error ? err.message : String(err) }
    } finally {
      clearTimeout(timer)
    }
  }

  const onCallback = toNodeHandler(receiver)
  const route = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Once stopping, every answer tells the client to stop reusing the connection.
    if (stopping) res.setHeader('connection', 'close')
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
        if (metricsServer !== undefined)
          sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'metrics are served on the metrics port (--metrics-port)' } })
        else if (adminOnly(req, res)) serveMetrics(res).catch(fail)
        return
      default:
        sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: `nothing at ${path}; callbacks go to ${[...callbackPaths].join(' or ')}` },
        })
    }
  }

  const server = createServer(
    tls,
    (req, res) => {
      inFlight.add(res)
      res.once('close', () => {
        inFlight.delete(res)
        if (inFlight.size === 0 && drained !== undefined) drained()
      })
      // No handler may throw past its request: whatever escapes is answered 500 and logged.
      try {
        route(req, res)
      } catch (err) {
        internalError(res, logger, err, req.url ?? '/')
      }
    },
    connectionLimits(config),
  )
  server.keepAliveTimeout = config.keepAliveTimeoutMs
  // Past the cap a new connection is closed at once (and counted), so the open ones keep being served.
  server.maxConnections = config.maxConnections
  server.on('drop', () => metrics.connectionsDropped.inc())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch(async (err: unknown) => {
    policy?.close()
    await sinks.close()
    await store.close()
    outage.close()
    throw err
  })
  const port = (server.address() as AddressInfo).port
  const url = `${tls === undefined ? 'http' : 'https'}://${hostPart(config.host)}:${port}`
  const tlsWatch = tls === undefined ? undefined : watchTls(server, config, logger)
  let metricsUrl: string | undefined
  if (config.metricsPort !== undefined) {
    // Its own port, meant for an internal interface: /metrics without a token, nothing else.
    const m = createServer(
      undefined,
      (req, res) => {
        try {
          const path = (req.url ?? '/').split('?')[0]!
          if (path === '/metrics') serveMetrics(res).catch((err: unknown) => internalError(res, logger, err, path))
          else sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'only /metrics is served on this port' } })
        } catch (err) {
          internalError(res, logger, err, req.url ?? '/')
        }
      },
      connectionLimits(config),
    )
    m.maxConnections = 100
    try {
      await new Promise<void>((resolve, reject) => {
        m.once('error', reject)
        m.listen(config.metricsPort, config.metricsHost, () => {
          m.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      tlsWatch?.close()
      policy?.close()
      await sinks.close()
      await store.close()
      outage.close()
      throw err
    }
    metricsServer = m
    metricsUrl = `http://${hostPart(config.metricsHost)}:${(m.address() as AddressInfo).port}`
  }

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      stopping = true
      tlsWatch?.close()
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
          }, config.shutdownTimeoutMs)
          t.unref()
        })
      }
      server.closeAllConnections()
      await stopped
      if (metricsServer !== undefined) {
        const m = metricsServer
        await new Promise<void>((resolve) => (m.close(() => resolve()), m.closeAllConnections()))
      }
      policy?.close()
      await store.close()
      outage.close()
      // After the last commit, so what was acknowledged is in the outbox; undelivered events wait there for the next start.
      await sinks.close()
      if (store.pending > 0) logger.error({ records: store.pending }, 'closed with records that could not be committed')
      logger.info({}, 'stopped')
    })())

  return {
    url,
    metricsUrl,
    port,
    store,
    metrics,
    receiver,
    logger,
    sinks,
    storage,
    reloadPolicy: () => policy?.reload(),
    reloadTls: () => tlsWatch?.reload(),
    close,
  }
}

/** How often a store outage is summed up in the log. */
export const OUTAGE_SUMMARY_MS = 10_000

/**
 * Logs a store outage as one line when it starts, one summary line per interval while it lasts
 * (failed commits, callbacks answered FAIL), and one when commits work again — not a line per
 * failed callback. Also gives the receiver a logger that counts, instead of logging one by one,
 * the after-callbacks answered FAIL because of the store.
 */
export function watchStoreOutage(store: Pick<Store, 'onCommit' | 'pending' | 'lastCommitError'>, logger: Logger) {
  let failing = false
  let since = 0
  let commits = 0
  let callbacks = 0
  let totalCommits = 0
  let totalCallbacks = 0
  let lastError = ''
  let timer: NodeJS.Timeout | undefined
  const summary = () => {
    if (commits === 0 && callbacks === 0) return
    logger.error(
      { failedCommits: commits, failedCallbacks: callbacks, pending: store.pending, err: lastError },
      `store commits still failing: ${commits} failed commits, ${callbacks} after-callbacks answered FAIL in the last ${OUTAGE_SUMMARY_MS / 1000} s`,
    )
    commits = 0
    callbacks = 0
  }
  store.onCommit((r) => {
    if (r.refused !== undefined) return
    if (r.error !== undefined) {
      lastError = String(r.error instanceof Error ? r.error.message : r.error)
      if (!failing) {
        failing = true
        since = Date.now()
        logger.error(
          { err: lastError, records: r.size },
          'store commit failed; after-callbacks are answered FAIL until a commit succeeds (summed up every 10 s)',
        )
        timer = setInterval(summary, OUTAGE_SUMMARY_MS)
        timer.unref()
      } else if (!r.probe) commits++
      if (!r.probe) totalCommits++
      return
    }
    if (failing) {
      failing = false
      clearInterval(timer)
      logger.info(
        { failedCommits: totalCommits, failedCallbacks: totalCallbacks, outageMs: Date.now() - since },
        'store commits work again',
      )
      commits = callbacks = totalCommits = totalCallbacks = 0
    }
  })
  // An after-callback answered FAIL (`TIMHOOK_ACK_FAILED`): in `timhook serve` the only
  // acknowledging listener is the recorder, so it is the store's doing — a failed commit, a full
  // backlog, a commit slower than the deadline. While commits fail those are in the outage
  // summary; otherwise the first of each interval is logged and the rest summed up with it.
  let loggedAt = -Infinity
  let unlogged = 0
  const receiverLogger: Logger = {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => {
      if ((obj as { code?: unknown }).code !== 'TIMHOOK_ACK_FAILED') return void logger.error(obj, msg)
      callbacks++
      totalCallbacks++
      if (failing) return
      const now = Date.now()
      if (now - loggedAt < OUTAGE_SUMMARY_MS) {
        unlogged++
        return
      }
      loggedAt = now
      logger.error(unlogged > 0 ? { ...obj, alsoFailedSinceLastLine: unlogged } : obj, msg)
      unlogged = 0
    },
  }
  return { receiverLogger, close: () => clearInterval(timer) }
}
