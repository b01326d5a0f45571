import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { campaignCsv } from '../rules/reports/csv.js'
import { errorResponses } from '../schemas/common.js'
import { CampaignReport, CampaignReportQuery, DailyReport, ReportRange } from '../schemas/reports.js'

const wantsCsv = (accept: string | undefined): boolean => accept !== undefined && /\btext\/csv\b/i.test(accept)

const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/reports/daily', {
    config: { scope: 'reports' },
    schema: {
      operationId: 'dailyReport',
      tags: ['reports'],
      summary: 'Per day: requests, decisions, pop-ups allowed and shown, suppressions, and the reduction figures',
      description: 'Days are calendar days in the policy\'s default time zone; at most 400 days per query.',
      security: [{ apiKey: [] }],
      querystring: ReportRange,
      response: { 200: DailyReport, ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request) => await app.reports.daily(request.query.from, request.query.to))

  app.get('/v1/reports/campaigns', {
    config: { scope: 'reports' },
    schema: {
      operationId: 'campaignReport',
      tags: ['reports'],
      summary: 'Per campaign: requested, allowed, shown, suppressed by reason, feedback and rates, penalty',
      description: 'JSON by default; `Accept: text/csv` gives CSV (RFC 4180, a header row).',
      security: [{ apiKey: [] }],
      querystring: CampaignReportQuery,
      response: { 200: CampaignReport, ...errorResponses(400, 401, 403, 503) }
    }
  }, async (request, reply) => {
    const { from, to } = request.query
    const campaigns = await app.reports.campaigns(request.query)
    if (!wantsCsv(request.headers.accept)) return { from, to, campaigns }
    // The CSV body is not the JSON schema's shape: sent as text, past the typed reply.
    return await (reply as FastifyReply)
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="campaigns-${from}-${to}.csv"`)
      .send(campaignCsv(campaigns))
  })
}
export default fp(reportRoutes, { name: 'popguard-routes-reports', dependencies: ['popguard-openapi', 'popguard-auth', 'popguard-reports'], encapsulate: true })
