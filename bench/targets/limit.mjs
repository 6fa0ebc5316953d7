// The ceiling for any Node receiver on this machine: read the body, answer the fixed OK envelope.
import http from 'node:http'

const OK = '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(OK) }
const server = http.createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => res.writeHead(200, headers).end(OK))
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'))

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections())
