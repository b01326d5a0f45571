/** What the store holds for one report day. */
export interface StoredDay {
  day: string
  /** Candidate counts by `campaign|placement|class|cohort|a or s|reason|1 or 0`. */
  candidates: Record<string, number>
  /** Decision counts by `cohort|decisions|allowed|degraded|mslots|mallowed`. */
  decisions: Record<string, number>
  /** Event counts by `campaign|cohort|class|type`. */
  events: Record<string, number>
  /** Distinct users who asked for a decision, per cohort (approximate in Redis: HyperLogLog). */
  users: { treated: number, holdout: number }
}
