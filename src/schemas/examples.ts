/**
 * Examples of the main operations for the contract (openapi.yaml), by operationId: a request
 * body and answers by status. The contract test validates each against its schema.
 */
export interface OperationExamples {
  request?: unknown
  responses?: Record<number, unknown>
}

const POLICY = {
  defaultTimezone: 'Europe/Paris',
  caps: [
    { id: 'daily', per: 'user', limit: 3, window: '1d' },
    { id: 'loans-daily', per: 'category', match: { category: 'loans' }, limit: 1, window: 'calendarDay' }
  ],
  cooldown: '10m',
  quietHours: { start: '22:00', end: '08:00' },
  doNotInterrupt: ['checkout'],
  fatigue: { dismissals: 2, within: '3d', backoff: '7d' },
  mode: 'enforce',
  onStoreFailure: { marketing: 'suppress', service: 'allow', critical: 'allow' }
}

const PREFERENCES = { marketing: 'on', categories: { loans: 'off' }, snoozeUntil: null }
const DECISION_ID = '0b6f3c1e-8a43-4a8e-9d61-2f5d7c9a1b20'

export const EXAMPLES: Record<string, OperationExamples> = {
  decide: {
    request: {
      userId: 'user-8f14e45f',
      placement: 'home_banner',
      candidates: [{ campaignId: 'spring-sale' }, { campaignId: 'quick-loan' }],
      requestId: 'req-5c2a91',
      context: { timezone: 'Europe/Paris', activity: 'browsing', platform: 'web' }
    },
    responses: {
      200: {
        decisionId: DECISION_ID,
        show: { campaignId: 'spring-sale' },
        candidates: [
          { campaignId: 'spring-sale', allowed: true, reason: 'eligible' },
          { campaignId: 'quick-loan', allowed: false, reason: 'cap_exceeded', capId: 'loans-daily', retryAfterSeconds: 41_200 }
        ],
        policyVersion: 7,
        mode: 'enforce',
        cohort: 'treated'
      },
      400: {
        error: 'bad_request',
        message: 'invalid body /candidates: must NOT have fewer than 1 items',
        details: [{ path: '/candidates', message: 'must NOT have fewer than 1 items' }]
      }
    }
  },
  recordEvents: {
    request: {
      events: [
        { decisionId: DECISION_ID, userId: 'user-8f14e45f', campaignId: 'spring-sale', type: 'shown', at: '2026-06-01T09:30:00Z' },
        { decisionId: DECISION_ID, userId: 'user-8f14e45f', campaignId: 'spring-sale', type: 'dismissed', at: '2026-06-01T09:30:04Z' }
      ]
    },
    responses: {
      202: { accepted: 1, rejected: [{ index: 1, reason: 'duplicate' }] },
      400: {
        error: 'bad_request',
        message: 'invalid body /events/0/type: must be one of: shown, discarded, dismissed, clicked, converted, complained',
        details: [{ path: '/events/0/type', message: 'must be one of: shown, discarded, dismissed, clicked, converted, complained' }]
      }
    }
  },
  getPreferences: { responses: { 200: PREFERENCES } },
  putPreferences: { request: PREFERENCES, responses: { 200: PREFERENCES } },
  getPolicy: {
    responses: { 200: { version: 7, document: POLICY, updatedAt: '2026-05-28T14:02:11Z', updatedBy: 'ops-admin' } }
  },
  putPolicy: {
    request: POLICY,
    responses: { 200: { version: 8, document: POLICY, updatedAt: '2026-06-01T08:00:00Z', updatedBy: 'ops-admin' } }
  }
}
