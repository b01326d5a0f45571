import { add, candidateCounts, eventCounts } from './parse.js'
import type { StoredDay } from './stored-day.js'

/** What the registry says of a campaign now. */
export interface CampaignInfo {
  id: string
  name: string
  class: string
  category: string
  status: string
  penalty: { action: string, reason: string, until: string | null, by: string } | null
}

export interface CampaignRow {
  campaignId: string
  /** The registry's name for it; null for ids the registry does not know. */
  name: string | null
  class: string | null
  category: string | null
  status: string | null
  requested: number
  allowed: number
  shown: number
  suppressed: Record<string, number>
  dismissed: number
  clicked: number
  complained: number
  converted: number
  discarded: number
  /** dismissed / shown; null without impressions. */
  dismissRate: number | null
  complaintRate: number | null
  penalty: CampaignInfo['penalty']
}

const EVENT_FIELDS = { shown: 'shown', dismissed: 'dismissed', clicked: 'clicked', complained: 'complained', converted: 'converted', discarded: 'discarded' } as const

function emptyRow (id: string, info: CampaignInfo | undefined): CampaignRow {
  return {
    campaignId: id,
    name: info?.name ?? null,
    class: info?.class ?? null,
    category: info?.category ?? null,
    status: info?.status ?? null,
    requested: 0,
    allowed: 0,
    shown: 0,
    suppressed: {},
    dismissed: 0,
    clicked: 0,
    complained: 0,
    converted: 0,
    discarded: 0,
    dismissRate: null,
    complaintRate: null,
    penalty: info?.penalty ?? null
  }
}

/**
 * Per campaign over the stored days. With a category or status filter only registered
 * campaigns that match are listed; without one, counted campaigns no longer registered too.
 */
export function campaignReport (stored: StoredDay[], registry: CampaignInfo[], filter: { category?: string, status?: string }): CampaignRow[] {
  const filtered = filter.category !== undefined || filter.status !== undefined
  const known = new Map(registry.map((c) => [c.id, c]))
  const rows = new Map<string, CampaignRow>()
  for (const c of registry) {
    if (filter.category !== undefined && c.category !== filter.category) continue
    if (filter.status !== undefined && c.status !== filter.status) continue
    rows.set(c.id, emptyRow(c.id, c))
  }
  const rowOf = (id: string): CampaignRow | undefined => {
    if (!rows.has(id) && !filtered) rows.set(id, emptyRow(id, known.get(id)))
    return rows.get(id)
  }
  for (const day of stored) {
    for (const c of candidateCounts(day)) {
      const row = rowOf(c.campaign)
      if (row === undefined) continue
      row.requested += c.n
      if (c.allowed) row.allowed += c.n
      else add(row.suppressed, c.reason, c.n)
    }
    for (const e of eventCounts(day)) {
      const row = rowOf(e.campaign)
      const field = EVENT_FIELDS[e.type as keyof typeof EVENT_FIELDS]
      if (row !== undefined && field !== undefined) row[field] += e.n
    }
  }
  for (const row of rows.values()) {
    row.dismissRate = row.shown > 0 ? row.dismissed / row.shown : null
    row.complaintRate = row.shown > 0 ? row.complained / row.shown : null
  }
  return [...rows.values()].sort((a, b) => a.campaignId.localeCompare(b.campaignId))
}
