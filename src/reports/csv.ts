import { REASONS } from '../decision/types.js'
import type { CampaignRow } from './campaigns.js'

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField (value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

const SUPPRESSED = REASONS.filter((r) => r !== 'eligible')
const COLUMNS = ['campaignId', 'class', 'category', 'status', 'requested', 'allowed', 'shown',
  ...SUPPRESSED.map((r) => `suppressed_${r}`), 'dismissed', 'clicked', 'complained', 'converted', 'discarded',
  'dismissRate', 'complaintRate', 'penaltyAction', 'penaltyReason', 'penaltyUntil']

function cells (r: CampaignRow): unknown[] {
  return [r.campaignId, r.class, r.category, r.status, r.requested, r.allowed, r.shown,
    ...SUPPRESSED.map((reason) => r.suppressed[reason] ?? 0), r.dismissed, r.clicked, r.complained, r.converted, r.discarded,
    r.dismissRate, r.complaintRate, r.penalty?.action, r.penalty?.reason, r.penalty?.until]
}

/** The campaign report as CSV: a header row, CRLF line ends. */
export function campaignCsv (rows: CampaignRow[]): string {
  return [COLUMNS, ...rows.map(cells)].map((line) => line.map(csvField).join(',')).join('\r\n') + '\r\n'
}
