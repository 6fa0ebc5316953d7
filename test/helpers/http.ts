import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

/** Starts a node:http server on 127.0.0.1 with an ephemeral port. */
export async function listen(listener: http.RequestListener): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const server = http.createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A raw HTTP/1.1 exchange over a socket, to send what fetch() would not (a lying content-length, endless chunks). */
export function rawExchange(
  port: number,
  head: string,
  writeBody: (socket: net.Socket) => void,
  timeoutMs = 3000,
): Promise<{ status: number; text: string; bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms (received: ${JSON.stringify(data.slice(0, 200))})`))
    }, timeoutMs)
    socket.on('connect', () => {
      socket.write(head)
      writeBody(socket)
    })
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      const end = data.indexOf('\r\n\r\n')
      if (end === -1) return
      const headers = data.slice(0, end)
      const length = /content-length: (\d+)/i.exec(headers)
      if (length && data.length - end - 4 >= Number(length[1])) {
        clearTimeout(timer)
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)![1])
        resolve({ status, text: data.slice(end + 4), bytesWritten: socket.bytesWritten })
        socket.destroy()
      }
    })
    socket.on('error', () => {})
  })
}
