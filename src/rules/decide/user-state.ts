import type { ClassCode } from './types.js'

/** One entry of a user's impression ledger. `r`: reserved, not yet confirmed; `c`: confirmed shown. */
export interface Impression {
  ts: number
  state: 'r' | 'c'
  classCode: ClassCode
  campaignCode: string
  categoryCode: string
  placementCode: string
  nonce: string
}

export interface Preferences {
  marketing: 'on' | 'off'
  /** Category name → off; categories absent here are on. */
  categoriesOff: string[]
  snoozeUntil: number | null
}

export interface Fatigue {
  /** Campaign code → ms until which the campaign is backed off. */
  backoffUntil: Record<string, number>
  /** Campaign codes the user complained about: stopped for good. */
  complained: string[]
}

export interface UserState {
  ledger: Impression[]
  prefs: Preferences | null
  fatigue: Fatigue | null
}
