/**
 * A CPU limit for one benchmarked process, as a container's `--cpus` or a pod's CPU limit sets it
 * (a Linux CFS quota in a cgroup of its own). On a small machine this keeps what is measured
 * apart from what measures it: popguard gets its share of a core, the load generator and Redis
 * the rest, so an overload is popguard's and not the machine's. Needs a writable cgroup CPU
 * controller (v1 `cpu` or v2 `cpu.max`: root on Linux); `cpuLimitSupport()` says why not.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const V1 = '/sys/fs/cgroup/cpu'
const V2 = '/sys/fs/cgroup'
/** A short period keeps throttling pauses short: at most (1 - share) x 10 ms at a time. */
const PERIOD_US = 10_000

type Layout = { kind: 'v1', root: string } | { kind: 'v2', root: string }

function layout (): Layout | string {
  if (existsSync(join(V1, 'cpu.cfs_quota_us'))) return { kind: 'v1', root: V1 }
  if (existsSync(join(V2, 'cgroup.controllers'))) {
    if (!readFileSync(join(V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return 'cgroup v2 without the cpu controller'
    return { kind: 'v2', root: V2 }
  }
  return 'no cgroup CPU controller at /sys/fs/cgroup'
}

/** null when limits can be set here, or why not. */
export function cpuLimitSupport (): string | null {
  const l = layout()
  if (typeof l === 'string') return l
  const probe = join(l.root, `popguard-bench-probe-${process.pid}`)
  try {
    mkdirSync(probe)
    rmdirSync(probe)
    return null
  } catch (err) {
    return `cannot create a cgroup (${(err as NodeJS.ErrnoException).code ?? 'error'}; run as root)`
  }
}

export interface CpuLimit {
  /** Moves a process (all its threads) under the limit. */
  add: (pid: number) => void
  /** Removes the group once its processes have exited. */
  remove: () => void
}

/** A cgroup limited to `cores` (e.g. 0.5) of CPU time. Throws when cpuLimitSupport() would say why not. */
export function createCpuLimit (name: string, cores: number): CpuLimit {
  if (!(cores > 0)) throw new Error(`CPU limit: cores must be above 0, got ${cores}`)
  const l = layout()
  if (typeof l === 'string') throw new Error(`CPU limit: ${l}`)
  const dir = join(l.root, `popguard-bench-${process.pid}-${name}`)
  mkdirSync(dir, { recursive: true })
  const quota = Math.max(1000, Math.round(cores * PERIOD_US))
  if (l.kind === 'v1') {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US))
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota))
  } else {
    writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`)
  }
  return {
    add: (pid) => { writeFileSync(join(dir, 'cgroup.procs'), String(pid)) },
    remove: () => {
      try { rmdirSync(dir) } catch { /* a process still inside: the group goes with the next reboot */ }
    }
  }
}
