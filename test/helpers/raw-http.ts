import { connect, type AddressInfo, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

export interface RawResponse { status: number, headers: Record<string, string>, body: string }

/** Listens on a free port of 127.0.0.1 and gives the port. */
export async function listenOnFreePort (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

/**
 * Opens a connection, lets `talk` write on it (all at once, slowly, in parts), and resolves with
 * everything the server wrote once the connection closes; rejects after `giveUpMs`.
 */
export async function rawExchange (port: number, talk: string | ((socket: Socket) => void), giveUpMs = 5000): Promise<string> {
  return await new Promise((resolve, reject) => {
    let out = ''
    const socket = connect(port, '127.0.0.1', () => {
      if (typeof talk === 'string') socket.write(talk)
      else talk(socket)
    })
    const giveUp = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server did not close the connection within ${giveUpMs} ms; it wrote: ${JSON.stringify(out)}`))
    }, giveUpMs)
    socket.on('data', (d) => { out += String(d) })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(giveUp)
      resolve(out)
    })
  })
}

/** The first HTTP/1.1 response in `text` (headers lower-cased). */
export function parseResponse (text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(text)}`)
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => {
    const colon = l.indexOf(':')
    return [l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()]
  }))
  const length = Number(headers['content-length'] ?? text.length - end - 4)
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) }
}
