import { RedisScript } from './redis-script';

/**
 * KEYS: 1 ready, 2 failures, 3 dead, 4 stuck, 5 dead ids. ARGV: envelope ids.
 * Puts each dead row's key back in the schedule with its attempts forgotten.
 * Replies how many it revived.
 */
export const replayScript = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local revived = 0
for _, id in ipairs(ARGV) do
  local key = redis.call('HGET', KEYS[5], id)
  if key then
    redis.call('HDEL', KEYS[5], id)
    local failure = redis.call('HGET', KEYS[2], key)
    if failure and cjson.decode(failure).i == id and redis.call('ZSCORE', KEYS[3], key) then
      redis.call('HDEL', KEYS[2], key)
      redis.call('ZREM', KEYS[3], key)
      redis.call('ZREM', KEYS[4], key)
      redis.call('ZADD', KEYS[1], now, key)
      revived = revived + 1
    end
  end
end
return revived
`);

/**
 * KEYS: 1 log, 2 dead. Replies { pending, oldest pending age ms, dead }: the
 * stream holds exactly the unpublished rows, its first entry is the oldest,
 * and its id carries the server time it was written.
 */
export const statsScript = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local pending = redis.call('XLEN', KEYS[1])
local age = 0
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if first then age = math.max(0, now - tonumber(string.match(first[1], '^(%d+)'))) end
return { pending, age, redis.call('ZCARD', KEYS[2]) }
`);

/**
 * KEYS: 1 stuck, 2 failures, 3 log. ARGV: 1 limit. Replies, oldest first,
 * { stream id, fields, attempts, error, retry time ms or -1 when dead }.
 */
export const listStuckScript = new RedisScript(`
local out = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local failure = redis.call('HGET', KEYS[2], key)
  if failure then
    local f = cjson.decode(failure)
    local entry = redis.call('XRANGE', KEYS[3], f.s, f.s)[1]
    if entry then out[#out + 1] = { entry[1], entry[2], f.a, f.e, f.r } end
  end
end
return out
`);

/**
 * KEYS: 1 log. ARGV: 1 group, 2 idle ms, 3 this store's consumer. Deletes
 * consumers of the group that hold nothing and were idle longer than the
 * given time (relays that stopped or died), so the group does not grow with
 * every restart. Replies how many it deleted.
 */
export const pruneConsumersScript = new RedisScript(`
local deleted = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info.name ~= ARGV[3] and info.pending == 0 and info.idle > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info.name)
    deleted = deleted + 1
  end
end
return deleted
`);
