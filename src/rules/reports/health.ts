import type { Policy } from '../policy/schema.js'
import type { CampaignInfo, CampaignRow } from './campaigns.js'

export type HealthRule = NonNullable<Policy['health']>

/** The acting key name of automatic penalties in the audit trail. */
export const HEALTH_ACTOR = 'system:health'

export const DEFAULT_HEALTH_CAPS: NonNullable<HealthRule['caps']> = [{ id: 'health-limit', per: 'campaign', limit: 1, window: '7d' }]

export interface HealthFinding { campaignId: string, reason: string }

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`

/**
 * Marketing campaigns the rule penalises: at least `minImpressions` shown in the window and a
 * complaint or dismiss rate at or above its threshold. Campaigns under a penalty are left alone.
 */
export function unhealthyCampaigns (rows: CampaignRow[], registry: CampaignInfo[], rule: HealthRule): HealthFinding[] {
  const known = new Map(registry.map((c) => [c.id, c]))
  const findings: HealthFinding[] = []
  for (const row of rows) {
    const info = known.get(row.campaignId)
    if (info === undefined || info.class !== 'marketing' || info.penalty !== null) continue
    if (row.shown < rule.minImpressions) continue
    const over = [
      rule.complaintRate !== undefined && row.complained / row.shown >= rule.complaintRate
        ? `complaint rate ${percent(row.complained / row.shown)} >= ${percent(rule.complaintRate)}`
        : null,
      rule.dismissRate !== undefined && row.dismissed / row.shown >= rule.dismissRate
        ? `dismiss rate ${percent(row.dismissed / row.shown)} >= ${percent(rule.dismissRate)}`
        : null
    ].filter((r) => r !== null)
    if (over.length > 0) findings.push({ campaignId: row.campaignId, reason: `health: ${over.join(', ')} over ${row.shown} impressions in ${rule.window}` })
  }
  return findings
}
