/**
 * Which store errors feed the circuit breaker: the store's own faults do, a reply to one bad
 * call does not (a client, or a bug, must not be able to open the circuit for everyone).
 */
import { ReplyError } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { StoreDeadlineError } from '../src/redis/deadline.js'
import { isStoreFault } from '../src/redis/store-faults.js'

const reply = (message: string): Error => new ReplyError(message) as Error

describe('store faults', () => {
  it('are timeouts, connection errors and replies saying Redis cannot serve', () => {
    for (const err of [
      new StoreDeadlineError(50),
      new Error('Command timed out'),
      new Error('Connection is closed.'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      reply('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.'),
      reply('LOADING Redis is loading the dataset in memory'),
      reply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.'),
      reply('CLUSTERDOWN The cluster is down'),
      reply('TRYAGAIN Multiple keys request during rehashing of slot'),
      reply('READONLY You can\'t write against a read only replica.'),
      reply('OOM command not allowed when used memory > \'maxmemory\'.'),
      reply('ERR Error running script (call to f_0123): @user_script:9: @user_script: 9: -OOM command not allowed when used memory > \'maxmemory\'.')
    ]) expect(isStoreFault(err), err.message).toBe(true)
  })

  it('are not a script\'s runtime error or a reply to one call\'s arguments', () => {
    for (const err of [
      reply('ERR user_script:52: attempt to compare nil with number script: 5c0b1f, on @user_script:52.'),
      reply('WRONGTYPE Operation against a key holding the wrong kind of value script: 5c0b1f, on @user_script:47.'),
      reply('ERR Error running script (call to f_0123): @user_script:3: user_script:3: bad argument #1 to \'decode\''),
      reply('ERR value is not an integer or out of range')
    ]) expect(isStoreFault(err), err.message).toBe(false)
  })
})
