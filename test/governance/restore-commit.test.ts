/**
 * The restore commit on both governance stores (gov-commit.lua and the memory store must agree):
 * it applies only to the store as read, replaces the whole configuration, and never lets the
 * revision fall below the one the restoring instance had loaded.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GovernanceStore } from '../../src/store/governance-store.js'
import { MemoryGovernanceStore } from '../../src/memory/governance-store.js'
import { restoreCommit, type LoadedConfig } from '../../src/services/governance/restore.js'
import { campaign, policy, redisGovernance, STORE_KINDS, uniquePrefix } from '../helpers/app.js'

const at = '2026-06-01T12:00:00.000Z'
const kept = <T>(value: T) => ({ value, raw: JSON.stringify(value) })
const storedCampaign = (id: string) => ({ campaign: campaign(id), updatedAt: at, updatedBy: 'ops' })

/** What an instance had loaded at revision 40: policy version 7, two campaigns, one penalty. */
const GOOD: LoadedConfig = {
  revision: 40,
  policy: { value: { version: 7, document: policy({ cooldown: '5m' }), updatedAt: at, updatedBy: 'ops' }, raw: '' },
  campaigns: new Map([['a', kept(storedCampaign('a').campaign)], ['b', kept(storedCampaign('b').campaign)]]),
  penalties: new Map([['a', kept({ action: 'suspend' as const, reason: 'complaints', until: null, caps: [], at, by: 'ops' })]])
}
GOOD.policy.raw = JSON.stringify(GOOD.policy.value)
// As stored, a campaign record carries who wrote it; the restore writes the raw record back.
for (const [id, c] of GOOD.campaigns) c.raw = JSON.stringify(storedCampaign(id))

describe.each(STORE_KINDS)('the restore commit (%s governance store)', (kind) => {
  const open: GovernanceStore[] = []
  afterEach(async () => { await Promise.all(open.splice(0).map((s) => s.close())) })
  const fresh = (): GovernanceStore => {
    const store = kind === 'memory' ? new MemoryGovernanceStore() : redisGovernance(uniquePrefix())
    open.push(store)
    return store
  }
  /** A store that came back from an older copy: policy version 2, a campaign deleted since, revision 3. */
  async function olderCopy (store: GovernanceStore): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const ok = await store.commit({
        writes: [
          { table: 'policy', id: 'current', value: JSON.stringify({ ...GOOD.policy.value, version: 2, document: policy() }) },
          { table: 'campaigns', id: 'gone', value: JSON.stringify(storedCampaign('gone')) }
        ],
        audit: []
      })
      expect(ok).toBe(true)
    }
  }

  it('writes the loaded configuration back over an empty store, with the revision past the loaded one', async () => {
    const store = fresh()
    const found = await store.snapshot()
    expect(await store.commit(restoreCommit(GOOD, found, 'the stored policy is missing', Date.parse(at)))).toBe(true)
    const now = await store.snapshot()
    expect(now.revision).toBe(41)
    expect(now.policy).toBe(GOOD.policy.raw)
    // A hash has no order: compare as objects.
    expect(Object.fromEntries(now.campaigns)).toEqual(Object.fromEntries([...GOOD.campaigns].map(([id, c]) => [id, c.raw])))
    expect([...now.penalties.keys()]).toEqual(['a'])
    const audit = (await store.audit(0, 10)).items
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ action: 'governance.restore', by: 'restore', before: { revision: 0, policyVersion: null, campaigns: 0 }, after: { revision: 41, policyVersion: 7 } })
    expect((await store.history(0, 10)).items.map((h) => [h.version, h.by])).toEqual([[7, 'restore']])
  })

  it('replaces an older copy whole: a record deleted since does not come back', async () => {
    const store = fresh()
    await olderCopy(store)
    const found = await store.snapshot()
    expect(await store.commit(restoreCommit(GOOD, found, 'the stored revision went back', Date.parse(at)))).toBe(true)
    const now = await store.snapshot()
    expect([...now.campaigns.keys()].sort()).toEqual(['a', 'b'])
    expect(JSON.parse(now.policy ?? 'null').version).toBe(7)
    expect(now.revision).toBe(41)
  })

  it('applies only to the store as read: of two instances restoring the same snapshot, one wins', async () => {
    const store = fresh()
    const found = await store.snapshot()
    const results = await Promise.all([1, 2, 3].map(() => store.commit(restoreCommit(GOOD, found, 'the stored policy is missing', Date.parse(at)))))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect((await store.audit(0, 10)).items).toHaveLength(1)
    expect((await store.snapshot()).revision).toBe(41)
  })

  it('fails when anything changed since the read, even a record the restore does not write', async () => {
    const store = fresh()
    await olderCopy(store)
    const found = await store.snapshot()
    expect(await store.commit({ writes: [{ table: 'penalties', id: 'gone', value: JSON.stringify(GOOD.penalties.get('a')?.value) }], audit: [] })).toBe(true)
    expect(await store.commit(restoreCommit(GOOD, found, 'the stored revision went back', Date.parse(at)))).toBe(false)
    expect(JSON.parse((await store.snapshot()).policy ?? 'null').version).toBe(2)
  })
})
