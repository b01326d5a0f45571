import { stringify } from 'csv-stringify/sync'
import { REASONS } from '../decide/types.js'
import type { CampaignRow } from './campaigns.js'

const SUPPRESSED = REASONS.filter((r) => r !== 'eligible')
const COLUMNS = ['campaignId', 'name', 'class', 'category', 'status', 'requested', 'allowed', 'shown',
  ...SUPPRESSED.map((r) => `suppressed_${r}`), 'dismissed', 'clicked', 'complained', 'converted', 'discarded',
  'dismissRate', 'complaintRate', 'penaltyAction', 'penaltyReason', 'penaltyUntil']

function cells (r: CampaignRow): unknown[] {
  return [r.campaignId, r.name, r.class, r.category, r.status, r.requested, r.allowed, r.shown,
    ...SUPPRESSED.map((reason) => r.suppressed[reason] ?? 0), r.dismissed, r.clicked, r.complained, r.converted, r.discarded,
    r.dismissRate, r.complaintRate, r.penalty?.action, r.penalty?.reason, r.penalty?.until]
}

/**
 * The campaign report as CSV (RFC 4180, a header row, CRLF line ends). Names, categories and
 * penalty reasons are free text: a cell starting with = + - @ tab or CR gets a leading `'`, so a
 * spreadsheet shows it instead of running it as a formula. Numbers are left as they are.
 */
export function campaignCsv (rows: CampaignRow[]): string {
  return stringify([COLUMNS, ...rows.map(cells)], { record_delimiter: 'windows', escape_formulas: true })
}
