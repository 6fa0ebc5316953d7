/** The logging surface timhook uses: a subset of pino's, so a pino logger can be passed as is. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

const noop = () => {}

/** The default: logs nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
