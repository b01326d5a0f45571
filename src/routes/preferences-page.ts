import { readFileSync } from 'node:fs'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { PAGE_LANGUAGES, type PageLanguage } from '../schemas/preference-center.js'
import { pageCsp } from './page-csp.js'

const read = (name: string): string => readFileSync(new URL(`./preferences-page/${name}`, import.meta.url), 'utf8')

/** The page's strings, one file per language; every language has every key (test/preference-center/strings.test.ts). */
export const STRINGS: Record<PageLanguage, Record<string, string>> = Object.fromEntries(
  PAGE_LANGUAGES.map((l) => [l, JSON.parse(read(`strings/${l}.json`)) as Record<string, string>])
) as Record<PageLanguage, Record<string, string>>

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The page in one language: the template's {{key}} filled with that language's strings, escaped. */
function pageIn (lang: PageLanguage): string {
  const values: Record<string, string> = { ...STRINGS[lang], lang, otherLang: lang === 'en' ? 'zh-Hans' : 'en' }
  return read('index.html').replace(/\{\{(\w+)\}\}/g, (_, key: string) => escapeHtml(values[key] ?? ''))
}
const PAGES = Object.fromEntries(PAGE_LANGUAGES.map((l) => [l, pageIn(l)])) as Record<PageLanguage, string>

/** `lang` when it names a language of the page (zh, zh-CN, zh-Hans… are Simplified Chinese), else null. */
function languageOf (tag: string): PageLanguage | null {
  const t = tag.trim().toLowerCase()
  if (t === 'en' || t.startsWith('en-')) return 'en'
  if (t === 'zh' || t === 'zh-hans' || t.startsWith('zh-hans-') || t === 'zh-cn' || t === 'zh-sg') return 'zh-Hans'
  return null
}

/** The `lang` parameter if the page has it, else the first language of Accept-Language it has (by q), else English. */
export function pageLanguage (param: string | undefined, acceptLanguage: string | undefined): PageLanguage {
  const chosen = param === undefined ? null : languageOf(param)
  if (chosen !== null) return chosen
  const ranked = (acceptLanguage ?? '').slice(0, 1024).split(',').slice(0, 32).map((part, i) => {
    const [tag = '', ...params] = part.split(';')
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1)
    return { lang: languageOf(tag), q: Number.isFinite(q) ? q : 0, i }
  }).filter((r) => r.lang !== null && r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i)
  return ranked[0]?.lang ?? 'en'
}

const ASSETS = {
  '/preferences/app.js': { type: 'text/javascript; charset=utf-8', body: read('app.js') },
  '/preferences/style.css': { type: 'text/css; charset=utf-8', body: read('style.css') },
  ...Object.fromEntries(PAGE_LANGUAGES.map((l) => [`/preferences/strings/${l}.json`, { type: 'application/json; charset=utf-8', body: JSON.stringify(STRINGS[l]) }]))
}

const PageQuery = Type.Object({
  lang: Type.Optional(Type.String({ maxLength: 35, description: '`en` or `zh-Hans` (also `zh`, `zh-CN`); otherwise Accept-Language chooses, then English.' })),
  token: Type.Optional(Type.String({ maxLength: 4096, description: 'The link token (also accepted as `#token=`): the page moves it out of the address bar at once.' }))
})

/** The preference centre's page: public HTML, script, style and strings that hold no data; the data needs the link's token. */
const preferencesPageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const frameAncestors = app.config.preferenceLinks?.frameAncestors ?? []
  await app.register(helmet, {
    contentSecurityPolicy: pageCsp(frameAncestors),
    // X-Frame-Options knows no list of pages: it is sent only when no page may frame this one.
    frameguard: frameAncestors.length === 0 ? { action: 'deny' } : false,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false
  })
  app.get('/preferences', {
    schema: {
      operationId: 'preferencesPage',
      tags: ['preference-center'],
      summary: 'The preference centre for one user (opened from a link with a token)',
      description: 'HTML in English or Simplified Chinese; its data comes from the `/v1/preference-center` operations with the link\'s token.',
      querystring: PageQuery,
      response: { 200: Type.String() }
    }
  }, async (request, reply) => {
    const lang = pageLanguage(request.query.lang, request.headers['accept-language'])
    return await reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-language', lang)
      .header('vary', 'accept-language').send(PAGES[lang])
  })
  for (const [url, file] of Object.entries(ASSETS)) {
    const name = url.slice('/preferences/'.length)
    app.get(url, {
      schema: {
        operationId: `preferencesPage${name.split(/[/.-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`,
        tags: ['preference-center'],
        summary: `An asset of the preference centre (${url})`,
        response: { 200: Type.String() }
      }
    }, async (_request, reply) => await reply.type(file.type).header('cache-control', 'no-cache').send(file.body))
  }
}
export default fp(preferencesPageRoutes, { name: 'popguard-routes-preferences-page', dependencies: ['popguard-openapi', 'popguard-context'], encapsulate: true })
