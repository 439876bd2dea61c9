import { RedisScript } from './redis-script';

// A key holds "i:<token>" while a consumer has the event (expiring with the
// lease) and "d" once it is done (expiring with the dedupe window). Every
// change after acquire compares the token inside one script, so a holder whose
// lease expired and moved to someone else can neither renew, finish nor drop it.

/** KEYS[1] key; ARGV[1] token, ARGV[2] lease ms. Replies acquired | in-flight | done. */
export const acquireScript = new RedisScript(`
local value = redis.call('GET', KEYS[1])
if not value then
  redis.call('SET', KEYS[1], 'i:' .. ARGV[1], 'PX', ARGV[2])
  return 'acquired'
end
if value == 'd' then return 'done' end
return 'in-flight'
`);

/** KEYS[1] key; ARGV[1] token, ARGV[2] lease ms. Replies 1 when renewed. */
export const renewScript = new RedisScript(`
if redis.call('GET', KEYS[1]) ~= 'i:' .. ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** KEYS[1] key; ARGV[1] token, ARGV[2] window ms. Replies 1 when marked. */
export const markDoneScript = new RedisScript(`
if redis.call('GET', KEYS[1]) ~= 'i:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
return 1
`);

/** KEYS[1] key; ARGV[1] token. Replies 1 when released. */
export const releaseScript = new RedisScript(`
if redis.call('GET', KEYS[1]) ~= 'i:' .. ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);
