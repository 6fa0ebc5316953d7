/**
 * `timhook serve` as a function: opens the store, builds the receiver, wires recording, policy and
 * sinks, and listens. Each part is its own file: the routes (`routes.ts`), readiness
 * (`readiness.ts`), metrics (`metrics-endpoint.ts`), the graceful stop (`shutdown.ts`), the store
 * outage log (`store-outage.ts`); this file puts them together and undoes a start that fails.
 */
import type http from 'node:http'
import { createReceiver, type Logger, type Receiver } from '../receiver/index.js'
import { isPostgresUrl, openStore } from '../store/open-store.js'
import { backgroundLauncher } from '../store/spawn-thread.js'
import type { Store } from '../store/store.js'
import { bearerGuard, createAdminApi, internalError } from './admin-api.js'
import { attachPolicy, type PolicyHandle } from './attach-policy.js'
import { attachRecorder } from './attach-recorder.js'
import { attachSinks, type SinksHandle, type SinkTuning } from './attach-sinks.js'
import type { ServerConfig } from './config.js'
import { closeNow, connectionLimits, listen } from './listen.js'
import { createLogger, type ServerLogger } from './logger.js'
import { metricsResponder, startMetricsServer } from './metrics-endpoint.js'
import { createMetrics, type ServerMetrics } from './metrics.js'
import { createReadiness } from './readiness.js'
import { createRoutes } from './routes.js'
import { trackRequests } from './shutdown.js'
import { watchStampShift } from './stamp-shift.js'
import { watchStoreOutage } from './store-outage.js'
import { createServer, readTls, type TlsMaterial, watchTls } from './tls.js'

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

/** The store with the server's limits, its metrics, and the outage log watching its commits. */
async function openRecording(config: ServerConfig, logger: ServerLogger) {
  let countConflict = () => {}
  const store = await openStore(config.db, {
    schema: config.pgSchema,
    poolSize: config.pgPoolSize,
    commitsInFlight: config.pgCommitsInFlight,
    adminTimeoutMs: config.adminReadTimeoutMs,
    readBudgetMs: config.adminReadTimeoutMs,
    maxConcurrentReads: config.maxAdminReads,
    readers: config.adminReaders,
    isolation: config.background,
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
  watchStampShift(store, logger)
  return { store, metrics, outage: watchStoreOutage(store, logger) }
}

function receiverFor(config: ServerConfig, logger: Logger): Receiver {
  const { sdkAppId, token, maxSkewSeconds, bodyLimit, deadlineMs, strict } = config
  return createReceiver({ sdkAppId, token, maxSkewSeconds, bodyLimit, deadlineMs, strict, logger })
}

function warnWithoutToken(config: ServerConfig, logger: ServerLogger): void {
  if (config.token !== undefined) return
  logger.warn(
    { risk: 'forged callbacks' },
    'no callback token (--token): Sign is not checked, so anyone who can reach this port can send callbacks that are stored and answered as if Tencent sent them; set the callback authentication token from the IM console',
  )
}

/** Where the background work (SQLite admin reads, sinks) runs, and at what priority (docs/server.md "Operating limits"). */
function logBackground(config: ServerConfig, logger: ServerLogger): void {
  if (isPostgresUrl(config.db) && config.sinks.length === 0) return
  const priority = config.background === 'process' ? backgroundLauncher().priority : 'idle threads (V8 helpers at normal priority)'
  logger.info({ background: config.background, priority }, 'background work (SQLite admin reads, sinks) runs apart from the event loop')
}

/** The main port's server: connection limits and the connection cap (a connection past it is closed at once and counted). */
function createMainServer(config: ServerConfig, tls: TlsMaterial | undefined, listener: http.RequestListener, metrics: ServerMetrics) {
  const server = createServer(tls, listener, connectionLimits(config))
  server.keepAliveTimeout = config.keepAliveTimeoutMs
  server.maxConnections = config.maxConnections
  server.on('drop', () => metrics.connectionsDropped.inc())
  return server
}

/** Runs the undo steps of a start that failed, last first, then rethrows. */
async function undo(steps: Array<() => unknown>, err: unknown): Promise<never> {
  for (const step of steps.reverse()) await step()
  throw err
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
  const { store, metrics, outage } = await openRecording(config, logger)
  const undoSteps: Array<() => unknown> = [() => outage.close(), () => store.close()]
  const receiver = receiverFor(config, outage.receiverLogger)
  attachRecorder(receiver, { store, metrics, logger })
  let policy: PolicyHandle | undefined
  let sinks: SinksHandle
  try {
    policy = config.policy === undefined ? undefined : attachPolicy(receiver, config.policy, { metrics, logger })
    undoSteps.push(() => policy?.close())
    sinks = await attachSinks(config.sinks, config.db, config.pgSchema, store, metrics, logger, options.sinks, config.background)
    undoSteps.push(() => sinks.close())
  } catch (err) {
    return undo(undoSteps, err)
  }
  warnWithoutToken(config, logger)
  logBackground(config, logger)

  const requests = trackRequests()
  const respondMetrics = metricsResponder(metrics)
  const route = createRoutes({
    receiver,
    callbackPath: config.callbackPath,
    admin: createAdminApi(store, config.adminToken, logger),
    adminOnly: bearerGuard(config.adminToken),
    sinks,
    readiness: createReadiness(store, () => requests.stopping),
    metrics: config.metricsPort === undefined ? respondMetrics : undefined,
    logger,
  })
  const onThrow = (req: http.IncomingMessage, res: http.ServerResponse, err: unknown) => internalError(res, logger, err, req.url ?? '/')
  const server = createMainServer(config, tls, requests.listener(route, onThrow), metrics)

  let bound: { port: number; url: string }
  let metricsPort: { server: http.Server; url: string } | undefined
  try {
    bound = await listen(server, config.port, config.host, tls === undefined ? 'http' : 'https')
    undoSteps.push(() => closeNow(server))
    if (config.metricsPort !== undefined) metricsPort = await startMetricsServer(config, respondMetrics, logger)
  } catch (err) {
    return undo(undoSteps, err)
  }
  const tlsWatch = tls === undefined ? undefined : watchTls(server, config, logger)

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      tlsWatch?.close()
      await requests.drain(server, config.shutdownTimeoutMs, logger)
      if (metricsPort !== undefined) await closeNow(metricsPort.server)
      policy?.close()
      await store.close()
      outage.close()
      // After the last commit, so what was acknowledged is in the outbox; undelivered events wait there for the next start.
      await sinks.close()
      if (store.pending > 0) logger.error({ records: store.pending }, 'closed with records that could not be committed')
      logger.info({}, 'stopped')
    })())

  return {
    url: bound.url,
    metricsUrl: metricsPort?.url,
    port: bound.port,
    store,
    metrics,
    receiver,
    logger,
    sinks,
    storage: describeStorage(config),
    reloadPolicy: () => policy?.reload(),
    reloadTls: () => tlsWatch?.reload(),
    close,
  }
}
