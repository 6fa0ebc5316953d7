/**
 * An admin page rendered by a reader child process and kept there (src/store/sqlite-reader.ts): the
 * child writes its bytes straight into the admin client's connection, whose socket is lent to it
 * for the write. The page's bytes never enter serve's process: no copy on its event loop, and no
 * memory that serve's garbage collector has to account for and collect (a page read into serve
 * costs it far more in collection work than in copying). Serve writes the headers and ends the
 * response once the child has written the body.
 *
 * Where the socket cannot be lent (HTTPS: the child cannot encrypt on serve's TLS session; Windows;
 * a connection whose socket is not at hand) the bytes are fetched over the IPC channel and written
 * by serve, as a page from a reader thread is.
 */
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'

/** What the reader pool provides for a page its child holds. */
export interface PageHolder {
  /** The child writes the page into the connection behind `handle` (a native socket handle); resolves once it has. */
  write(handle: object): Promise<void>
  /** The page's bytes, over the IPC channel. */
  fetch(): Promise<Uint8Array>
  /** The page will not be asked for: the child forgets it. */
  drop(): void
}

const EMPTY = new Uint8Array(0)

export class HeldPage {
  constructor(
    /** Its size, for `content-length`. */
    readonly byteLength: number,
    private readonly holder: PageHolder,
  ) {}

  /** The page's bytes (tests; a connection the child cannot write to). */
  bytes(): Promise<Uint8Array> {
    return this.holder.fetch()
  }

  /** The page will not be sent. */
  drop(): void {
    this.holder.drop()
  }

  /**
   * Answers `res` with the page: 200, `headers` and the body, written by the child where it can.
   * Rejects (the response destroyed when already under way) if the child fails or dies meanwhile.
   */
  async writeTo(res: ServerResponse, headers: Record<string, string>): Promise<void> {
    // A pipelined request: its response gets the connection once the one before it has ended.
    if (res.socket === null && !res.destroyed) await Promise.race([once(res, 'socket'), once(res, 'close')])
    if (res.destroyed || res.headersSent) {
      this.drop()
      res.destroy()
      return
    }
    if (res.req.method === 'HEAD') {
      // The headers only: a body written by the child would be read as the next response.
      this.drop()
      res.writeHead(200, { ...headers, 'content-length': String(this.byteLength) })
      res.end()
      return
    }
    const socket = res.socket as (Socket & { _handle?: object | null }) | null
    const handle = socket?._handle
    if (socket === null || socket instanceof TLSSocket || handle === undefined || handle === null || process.platform === 'win32') {
      const bytes = await this.holder.fetch()
      res.writeHead(200, { ...headers, 'content-length': String(bytes.byteLength) })
      res.end(bytes)
      return
    }
    res.writeHead(200, { ...headers, 'content-length': String(this.byteLength) })
    res.flushHeaders()
    // The headers must be in the connection before the child writes the body after them. An empty
    // write's callback follows every write queued before it ('drain' would not: it only follows a
    // write that filled the socket's buffer, and headers queued behind a full kernel buffer do not).
    if (socket.writableLength > 0) await new Promise<void>((resolve) => socket.write(EMPTY, () => resolve()))
    if (socket.destroyed) {
      this.drop()
      return
    }
    try {
      await this.holder.write(handle)
    } catch (err) {
      res.destroy()
      throw err
    }
    // The body is written already: `end` adds nothing, and the response is complete.
    res.end()
  }
}
