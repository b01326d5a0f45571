import type { TSchema } from '@sinclair/typebox'
import { Campaign, Cap, Policy } from '../rules/policy/schema.js'
import { ErrorBody, Health } from './common.js'
import { CandidateAnswer, DecideAnswer, DecideBody } from './decide.js'
import { ClientEvent, EventsAnswer, EventsBody } from './events.js'
import { AuditItem, CampaignView, PenaltyBody, PolicyHistoryItem, StoredPolicyBody } from './governance.js'
import { PreferencesAnswer, PreferencesBody } from './preferences.js'
import { CenterView, PreferenceHistory } from './preference-center.js'
import { CampaignReport, DailyReport } from './reports.js'
import { SimulateAnswer, SimulateRequest } from './simulate.js'

/**
 * The named schemas of the contract: each `$id` becomes `#/components/schemas/<$id>` and every
 * use of the schema a reference to it, so generated clients get one named type per schema.
 * A route schema holding an `$id` missing here fails the document's generation.
 */
export const COMPONENTS: readonly TSchema[] = [
  ErrorBody, Health,
  DecideBody, DecideAnswer, CandidateAnswer,
  EventsBody, ClientEvent, EventsAnswer,
  PreferencesBody, PreferencesAnswer, CenterView, PreferenceHistory,
  Policy, Cap, Campaign, StoredPolicyBody, PolicyHistoryItem, CampaignView, PenaltyBody, AuditItem,
  DailyReport, CampaignReport,
  SimulateRequest, SimulateAnswer
]
