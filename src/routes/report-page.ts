import { readFileSync } from 'node:fs'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const read = (name: string): string => readFileSync(new URL(`../reports/page/${name}`, import.meta.url), 'utf8')
const FILES = {
  '/reports': { type: 'text/html; charset=utf-8', body: read('index.html') },
  '/reports/app.js': { type: 'text/javascript; charset=utf-8', body: read('app.js') },
  '/reports/style.css': { type: 'text/css; charset=utf-8', body: read('style.css') }
}

/** The report page: public HTML and script that hold no data; the data needs a reports key. */
const reportPageRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
export default reportPageRoutes
