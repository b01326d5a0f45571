import { readFileSync } from 'node:fs'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { pageCsp } from './page-csp.js'

const read = (name: string): string => readFileSync(new URL(`./report-page/${name}`, import.meta.url), 'utf8')
const FILES = {
  '/reports': { type: 'text/html; charset=utf-8', body: read('index.html') },
  '/reports/app.js': { type: 'text/javascript; charset=utf-8', body: read('app.js') },
  '/reports/style.css': { type: 'text/css; charset=utf-8', body: read('style.css') }
}

/** The page holds a reports key: see pageCsp; nothing may frame it. */
const PAGE_CSP = pageCsp()

/** The report page: public HTML and script that hold no data; the data needs a reports key. */
const reportPageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Registered inside this plugin: the headers apply to the page's routes only, not to the API.
  await app.register(helmet, {
    contentSecurityPolicy: PAGE_CSP,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // The page may be served over plain HTTP inside a network; HSTS is the TLS terminator's call.
    strictTransportSecurity: false
  })
  for (const [url, file] of Object.entries(FILES)) {
    app.get(url, {
      schema: {
        operationId: url === '/reports' ? 'reportPage' : `reportPage${url.endsWith('.js') ? 'Script' : 'Style'}`,
        tags: ['reports'],
        summary: url === '/reports' ? 'The report page for marketers (sign in with a reports key)' : `An asset of the report page (${url})`,
        response: { 200: Type.String() }
      }
    }, async (request, reply) => await reply.type(file.type).header('cache-control', 'no-cache').send(file.body))
  }
}
// Encapsulated: helmet's headers stay with the page's routes.
export default fp(reportPageRoutes, { name: 'popguard-routes-report-page', dependencies: ['popguard-openapi'], encapsulate: true })
