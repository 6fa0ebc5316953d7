/**
 * HTTPS straight from Node for `timhook serve --tls-cert --tls-key`: the certificate (chain, PEM)
 * and key are read and checked at start — an unreadable file or a key that does not match the
 * certificate stops the start with an error naming the file — and read again on SIGHUP, so a
 * renewed certificate (certbot, cert-manager, …) is served to new connections without a restart.
 * A reload that fails keeps the certificate in use and logs why.
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { createSecureContext } from 'node:tls'
import { ConfigError } from './config.js'
import type { ServerLogger } from './logger.js'

export interface TlsFiles {
  tlsCert?: string | undefined
  tlsKey?: string | undefined
}

export interface TlsMaterial {
  cert: Buffer
  key: Buffer
}

function readPem(field: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new ConfigError(`${field}: cannot read ${path}: ${(err as Error).message}`)
  }
}

/** The certificate and key of `files`, checked to form a usable pair; undefined when TLS is off. */
export function readTls(files: TlsFiles): TlsMaterial | undefined {
  if (files.tlsCert === undefined && files.tlsKey === undefined) return undefined
  if (files.tlsCert === undefined || files.tlsKey === undefined) {
    throw new ConfigError(
      `${files.tlsCert === undefined ? 'tlsCert' : 'tlsKey'}: required with ${files.tlsCert === undefined ? 'tlsKey' : 'tlsCert'}; set both --tls-cert and --tls-key`,
    )
  }
  const material = { cert: readPem('tlsCert', files.tlsCert), key: readPem('tlsKey', files.tlsKey) }
  try {
    createSecureContext(material)
  } catch (err) {
    throw new ConfigError(
      `tlsCert/tlsKey: ${files.tlsCert} and ${files.tlsKey} are not a PEM certificate and its private key: ${(err as Error).message}`,
    )
  }
  return material
}

/** An HTTPS server with `tls`, else a plain HTTP one; the same listener and server options either way. */
export function createServer(tls: TlsMaterial | undefined, listener: http.RequestListener, options: http.ServerOptions = {}): http.Server {
  return tls === undefined ? http.createServer(options, listener) : https.createServer({ ...options, ...tls }, listener)
}

/** Reloads the certificate and key on SIGHUP until `close()`; `reload()` does it now. */
export function watchTls(server: http.Server, files: TlsFiles, logger: ServerLogger): { reload: () => void; close: () => void } {
  const reload = () => {
    try {
      const material = readTls(files)
      if (material === undefined) return
      ;(server as https.Server).setSecureContext(material)
      logger.info({ cert: files.tlsCert }, 'TLS certificate and key reloaded')
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'TLS reload failed; the previous certificate stays in use')
    }
  }
  process.on('SIGHUP', reload)
  return { reload, close: () => void process.off('SIGHUP', reload) }
}
