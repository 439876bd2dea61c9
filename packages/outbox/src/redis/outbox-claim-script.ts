import { RedisScript } from './redis-script';

/**
 * Intake, then claim. Both happen in one script so two relays never see the
 * same key as free.
 *
 * KEYS: 1 log, 2 ready, 3 leases, 4 failures, 5 dead.
 * ARGV: 1 group, 2 consumer, 3 token, 4 row limit, 5 lease ms, 6 intake count,
 * 7 queue prefix. Replies { stream id, fields, attempts } per claimed row.
 */
export const claimScript = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local group, consumer, queues = ARGV[1], ARGV[2], ARGV[7]
local limit = tonumber(ARGV[4])

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
end

-- Intake: entries no relay has read yet join their key's queue in stream
-- (= commit) order. The group's cursor makes this exactly once. A key new here
-- becomes ready; a leased, backing-off or dead key keeps its state.
local fresh = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', ARGV[6], 'STREAMS', KEYS[1], '>')
if fresh then
  for _, entry in ipairs(fresh[1][2]) do
    local key = field(entry[2], 'k')
    redis.call('RPUSH', queues .. key, entry[1])
    if not redis.call('ZSCORE', KEYS[5], key) then
      redis.call('ZADD', KEYS[2], 'NX', now, key)
    end
  end
end

-- Claim: keys whose time has come (free, retry due, or lease expired: a dead
-- relay's keys come back here), each with the run from its oldest row.
local out = {}
local rows = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)) do
  if rows >= limit then break end
  local queue = queues .. key
  local ids = redis.call('LRANGE', queue, 0, limit - rows - 1)
  local failedId, attempts = nil, 0
  local failure = redis.call('HGET', KEYS[4], key)
  if failure then
    local f = cjson.decode(failure)
    failedId, attempts = f.s, f.a
  end
  local run = 0
  for i = 1, #ids, 200 do
    local chunk = { unpack(ids, i, math.min(i + 199, #ids)) }
    -- XCLAIM moves the entries to this relay's pending list, so XPENDING
    -- shows who holds what and how often each was handed out.
    local byId = {}
    for _, entry in ipairs(redis.call('XCLAIM', KEYS[1], group, consumer, 0, unpack(chunk))) do
      if entry[2] then byId[entry[1]] = entry[2] end
    end
    for _, id in ipairs(chunk) do
      local fields = byId[id]
      if not fields then
        -- Not pending any more (acknowledged or deleted by hand): publish it
        -- if it still exists, otherwise drop it so it cannot block its key.
        local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
        if entry then fields = entry[2] else redis.call('LREM', queue, 1, id) end
      end
      if fields then
        run = run + 1
        out[#out + 1] = { id, fields, id == failedId and attempts or 0 }
      end
    end
  end
  if run > 0 then
    redis.call('HSET', KEYS[3], key, ARGV[3])
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), key)
    rows = rows + run
  elseif redis.call('LLEN', queue) == 0 then
    redis.call('ZREM', KEYS[2], key)
  end
end
return out
`);
