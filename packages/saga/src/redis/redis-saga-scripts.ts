import { APPEND_LUA, RedisScript, type ScriptArgument } from './redis-outbox-link';

export type { ScriptArgument };

const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/** Arguments per event of the write script: those of the outbox's append script. */
export const APPEND_ARGS = 7;

/**
 * Creates or compare-and-sets an instance, re-indexes its timer and status,
 * and appends the transition's commands to the outbox: all or nothing.
 *
 * Nothing is written before every check passed (existence or version, key
 * types), and Redis refuses a script out of memory at its first write only, so
 * a refused or failed script writes nothing. The commands are appended by the
 * outbox's own append script (APPEND_LUA, wrapped in a function whose KEYS and
 * ARGV shadow the script's), so the entries are exactly the ones its
 * RedisOutboxStore relays.
 *
 * KEYS: 1 instance, 2 timers, 3 timer tokens, 4-6 status indexes of the saga
 * (running, completed, compensated), 7 outbox log, 8 outbox sequences.
 * ARGV: 1 'create' | 'update', 2 expected stored version (update), 3 new
 * version, 4 status, 5 instance JSON, 6 timer member, 7 id, 8 timer due time
 * ('' for none), 9 timer token, 10 tombstone TTL ms, 11 number of events, then
 * APPEND_ARGS per event. Replies 'ok', 'exists' or 'conflict'.
 */
export const writeScript = new RedisScript(`
local function append(KEYS, ARGV)
${APPEND_LUA}
end

local instance = KEYS[1]
if ARGV[1] == 'create' then
  if redis.call('EXISTS', instance) == 1 then return 'exists' end
elseif redis.call('HGET', instance, 'v') ~= ARGV[2] then
  return 'conflict'
end

local status = ARGV[4]
local indexes = { running = KEYS[4], completed = KEYS[5], compensated = KEYS[6] }
local target = indexes[status]
if not target then return redis.error_reply('ERR unknown saga status ' .. status) end
local expected = {
  { KEYS[1], 'hash' }, { KEYS[2], 'zset' }, { KEYS[3], 'hash' }, { target, 'zset' },
  { KEYS[7], 'stream' }, { KEYS[8], 'hash' },
}
for _, check in ipairs(expected) do
  local kind = redis.call('TYPE', check[1]).ok
  if kind ~= 'none' and kind ~= check[2] then
    return redis.error_reply('WRONGTYPE saga store key ' .. check[1] .. ' is a ' .. kind .. ', not a ' .. check[2])
  end
end
local events = tonumber(ARGV[11])
if #ARGV ~= 11 + events * ${APPEND_ARGS} then return redis.error_reply('ERR saga write: wrong number of arguments') end

${NOW_MS}
local previous = redis.call('HGET', instance, 's')
redis.call('HSET', instance, 'v', ARGV[3], 's', status, 'j', ARGV[5])
if ARGV[8] == '' then
  redis.call('ZREM', KEYS[2], ARGV[6])
  redis.call('HDEL', KEYS[3], ARGV[6])
else
  redis.call('ZADD', KEYS[2], ARGV[8], ARGV[6])
  redis.call('HSET', KEYS[3], ARGV[6], ARGV[9])
end
if previous and previous ~= status and indexes[previous] then
  redis.call('ZREM', indexes[previous], ARGV[7])
end
if status == 'running' then
  redis.call('PERSIST', instance)
  redis.call('ZADD', target, '+inf', ARGV[7])
else
  -- A tombstone: late replies and timers find it and are ignored, then it expires.
  local ttl = tonumber(ARGV[10])
  redis.call('PEXPIRE', instance, ttl)
  redis.call('ZREMRANGEBYSCORE', target, '-inf', now)
  redis.call('ZADD', target, now + ttl, ARGV[7])
end

for i = 0, events - 1 do
  local at = 12 + i * ${APPEND_ARGS}
  append({ KEYS[7], KEYS[8] }, { unpack(ARGV, at, at + ${APPEND_ARGS} - 1) })
end
return 'ok'
`);

/**
 * Takes up to ARGV[2] timers due at ARGV[1] and pushes each to ARGV[3] (now +
 * lease), so no other runtime fires it meanwhile. A timer without a token is
 * an orphan: dropped.
 *
 * KEYS: 1 timers, 2 timer tokens. Replies { member, token, member, token ... }.
 */
export const claimScript = new RedisScript(`
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  local token = redis.call('HGET', KEYS[2], member)
  if token then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[3], member)
    out[#out + 1] = member
    out[#out + 1] = token
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
`);

/**
 * Instances of a saga by status, skipping expired tombstones.
 *
 * KEYS: the status indexes to read, in order. ARGV: 1 instance key prefix of
 * the saga, 2 limit. Replies the instances' JSON.
 */
export const findScript = new RedisScript(`
${NOW_MS}
local limit = tonumber(ARGV[2])
local out = {}
for _, index in ipairs(KEYS) do
  if #out >= limit then break end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', index, '(' .. now, '+inf', 'LIMIT', 0, limit - #out)) do
    local json = redis.call('HGET', ARGV[1] .. id, 'j')
    if json then out[#out + 1] = json end
  end
end
return out
`);
