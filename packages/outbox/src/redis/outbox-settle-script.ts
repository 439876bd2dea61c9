import { RedisScript } from './redis-script';

/**
 * Records what a relay published and ends its claim's lease, key by key. A key
 * whose lease now carries another token was claimed again by another relay:
 * its rows are left alone (fenced).
 *
 * KEYS: 1 log, 2 ready, 3 leases, 4 failures, 5 dead, 6 stuck, 7 dead ids.
 * ARGV: 1 group, 2 token, 3 queue prefix, 4 JSON plan: per claimed key
 * { k: key, n: rows claimed, p: [published envelope ids, in order],
 *   f: { i: envelope id, e: error, d: retry delay ms, -1 when dead } | absent }.
 * Replies { published, fenced }.
 */
export const settleScript = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local published, fenced = 0, 0

for _, item in ipairs(cjson.decode(ARGV[4])) do
  local key, queue = item.k, ARGV[3] .. item.k
  if redis.call('HGET', KEYS[3], key) ~= ARGV[2] then
    fenced = fenced + #item.p + (item.f and 1 or 0)
  else
    -- Envelope id -> stream id over the run this claim took (the relay names rows by envelope id).
    local sids = {}
    for _, sid in ipairs(redis.call('LRANGE', queue, 0, item.n - 1)) do
      local entry = redis.call('XRANGE', KEYS[1], sid, sid)[1]
      if entry then
        local fields = entry[2]
        for i = 1, #fields, 2 do
          if fields[i] == 'i' then sids[fields[i + 1]] = sid break end
        end
      end
    end
    local failure = redis.call('HGET', KEYS[4], key)
    local previous = failure and cjson.decode(failure)
    for _, id in ipairs(item.p) do
      local sid = sids[id]
      if sid then
        redis.call('LREM', queue, 1, sid)
        redis.call('XACK', KEYS[1], ARGV[1], sid)
        redis.call('XDEL', KEYS[1], sid)
        published = published + 1
        if previous and previous.s == sid then
          redis.call('HDEL', KEYS[4], key)
          redis.call('ZREM', KEYS[6], key)
          previous = nil
        end
      end
    end
    redis.call('HDEL', KEYS[3], key)
    local f = item.f
    local sid = f and sids[f.i]
    if sid then
      local attempts = 1
      if previous and previous.s == sid then attempts = previous.a + 1 end
      local retryAt = -1
      if f.d >= 0 then retryAt = now + f.d end
      redis.call('HSET', KEYS[4], key, cjson.encode({ s = sid, i = f.i, a = attempts, e = f.e, r = retryAt }))
      redis.call('ZADD', KEYS[6], tonumber(string.match(sid, '^(%d+)')), key)
      if retryAt >= 0 then
        redis.call('ZADD', KEYS[2], retryAt, key)
      else
        -- Dead: out of the schedule, blocking its key until replayed.
        redis.call('ZREM', KEYS[2], key)
        redis.call('ZADD', KEYS[5], now, key)
        redis.call('HSET', KEYS[7], f.i, key)
      end
    elseif redis.call('LLEN', queue) > 0 then
      redis.call('ZADD', KEYS[2], now, key)
    else
      redis.call('ZREM', KEYS[2], key)
    end
  end
end
return { published, fenced }
`);
