import { COMMAND_FIELDS } from './leased-sends';
import { APPEND_LUA, RedisScript, type ScriptArgument } from './redis-outbox-link';

export type { ScriptArgument };

const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * Lua shared by the scripts that end leases. Needs `prefix`, `sends`, `log`
 * and `seqs` (key prefix, leases, the outbox's stream and sequences) in scope.
 *
 * Commands a runtime publishes itself are leased to it: the script call that
 * wrote them names one lease (ARGV), `sends` scores it with its expiry,
 * `lease:<id>` holds the members ("<saga>:<id>") whose commands it covers,
 * `lease:<id>:q` those with commands queued behind it, `lease:<id>:f` those
 * that finished with it. In the instance hash, `p` holds the commands of its
 * last such write (packed fields, see commandFields), `pv` that write's
 * version and `pb` its lease; `q<version>` commands queued behind the lease
 * (`qf`, `ql` the first and last queued version). `x` is the outbox entry
 * last appended for the instance: while it is unpublished, later commands of
 * the instance go to the outbox too, behind it.
 */
const LEASE_LUA = `
local function append(KEYS, ARGV)
${APPEND_LUA}
end

-- Appends one write's commands to the outbox, exactly as RedisOutbox would.
local function relay(instance, blob)
  local count, at = 0, 1
  while at <= #blob do
    local c = { struct.unpack('>' .. string.rep('I4c0', ${COMMAND_FIELDS}), blob, at) }
    at = table.remove(c)
    append({ log, seqs }, c)
    count = count + 1
  end
  if count > 0 then
    redis.call('HSET', instance, 'x', redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)[1][1])
  end
  return count
end

-- Commands queued behind a lease go to the outbox, in write order.
local function relayQueued(instance)
  local queued = redis.call('HMGET', instance, 'qf', 'ql')
  local first, last = tonumber(queued[1]), tonumber(queued[2])
  if not first then return 0 end
  local moved, fields = 0, { 'qf', 'ql' }
  for version = first, last do
    local blob = redis.call('HGET', instance, 'q' .. version)
    if blob then moved = moved + relay(instance, blob) end
    fields[#fields + 1] = 'q' .. version
  end
  redis.call('HDEL', instance, unpack(fields))
  return moved
end

-- The commands one instance holds under lease \`id\`: sent to the outbox when
-- \`relayed\`, then forgotten. Nil when the instance is not under that lease.
local function releaseOne(instance, id, relayed)
  local current = redis.call('HMGET', instance, 'pb', 'p')
  if current[1] ~= id then return nil end
  local moved = 0
  if relayed and current[2] then moved = relay(instance, current[2]) end
  redis.call('HDEL', instance, 'p', 'pv', 'pb')
  return moved
end

-- Ends lease \`id\`. Its commands were published unless \`ranOut\`: then they go
-- to the outbox. Queued commands go there either way. Returns how many went.
-- \`finished\`: some instance finished with it (else none did).
local function endLease(id, ranOut, finished)
  local key = prefix .. 'lease:' .. id
  local moved = 0
  if ranOut then
    for _, member in ipairs(redis.call('SMEMBERS', key)) do
      moved = moved + (releaseOne(prefix .. 'i:' .. member, id, true) or 0)
    end
  end
  for _, member in ipairs(redis.call('SMEMBERS', key .. ':q')) do
    moved = moved + relayQueued(prefix .. 'i:' .. member)
  end
  -- Finished instances keep no commands in their tombstone.
  if finished then
    for _, member in ipairs(redis.call('SMEMBERS', key .. ':f')) do
      releaseOne(prefix .. 'i:' .. member, id, false)
    end
  end
  redis.call('DEL', key, key .. ':q', key .. ':f')
  redis.call('ZREM', sends, id)
  return moved
end
`;

/**
 * Writes and lease ends of one turn, in order, each all-or-nothing on its own.
 *
 * A write creates or compare-and-sets an instance, re-indexes its timer and
 * status, and stores the transition's commands: leased to the writer
 * (dispatch '1', and no earlier commands of the instance still leased or in
 * the outbox), queued behind earlier leased ones, or appended to the outbox.
 * A write's checks (existence or version, key types) all pass before it
 * writes, and Redis refuses a script out of memory at its first write only,
 * so a refused or failed write writes nothing. Commands reach the outbox
 * through its own append script (APPEND_LUA), so they are exactly the entries
 * its RedisOutboxStore relays.
 *
 * KEYS: 1 timers, 2 timer tokens, 3 leases, 4 outbox log, 5 outbox
 * sequences. Instance, status and lease keys are named from the prefix,
 * whose hash tag puts them in the same Cluster slot as KEYS.
 * ARGV: 1 key prefix, 2 tombstone TTL ms, 3 lease ms, 4 this call's lease
 * id, 5 the operations, packed (see packFields), each its kind then fields:
 *   'w' write: instance key, member ("<saga>:<id>"), prefix of its saga's
 *       status indexes, id, mode ('create' | 'update'), expected version
 *       (update), new version, status, instance JSON, timer due time ('' for
 *       none), timer token, dispatch ('1' | '0'), the version of the
 *       instance's last leased write known published ('' if none), the
 *       commands (packed fields, see commandFields; '' for none)
 *   'r' the writer could not publish: instance key, member, lease id (its
 *       commands and those queued behind them go to the outbox)
 *   'e' a lease's commands were all published (or released): lease id,
 *       '1' when an instance finished with it
 * Replies per operation: for a write 'exists', 'conflict', 'ok' (no
 * commands), 'dispatch' (leased to the writer), 'queued', 'relayed' or
 * 'error:...'; for the others the number of commands moved to the outbox.
 */
export const batchScript = new RedisScript(`
-- Every operation is read before any runs: a malformed batch writes nothing.
local packed, operations, at = ARGV[5], {}, 1
local formats = { w = '>' .. string.rep('I4c0', 14), r = '>I4c0I4c0I4c0', e = '>I4c0I4c0' }
while at <= #packed do
  local kind
  kind, at = struct.unpack('>I4c0', packed, at)
  if not formats[kind] then return redis.error_reply('ERR saga batch: unknown operation ' .. kind) end
  local operation = { struct.unpack(formats[kind], packed, at) }
  at = table.remove(operation)
  operation.kind = kind
  operations[#operations + 1] = operation
end

local timers, tokens, sends, log, seqs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local function wrongType(key, wanted)
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'none' and kind ~= wanted then
    return 'WRONGTYPE saga store key ' .. key .. ' is a ' .. kind .. ', not a ' .. wanted
  end
end
for _, check in ipairs({ { timers, 'zset' }, { tokens, 'hash' }, { sends, 'zset' }, { log, 'stream' }, { seqs, 'hash' } }) do
  local wrong = wrongType(check[1], check[2])
  if wrong then return redis.error_reply(wrong) end
end
${NOW_MS}
local prefix, ttl, lease, batch = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
${LEASE_LUA}
local statuses = { running = true, completed = true, compensated = true }
local leased, finished = {}, {}

local function write(a)
  local instance, member, index, id, mode, expected, version, status, json, due, token, dispatch, published, blob =
    a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14]
  local current = redis.pcall('HMGET', instance, 'v', 's', 'pv', 'pb', 'qf', 'x')
  if current.err then return 'error:' .. current.err end
  if mode == 'create' then
    if current[1] then return 'exists' end
  elseif current[1] ~= expected then
    return 'conflict'
  end
  if not statuses[status] then return 'error:ERR unknown saga status ' .. status end
  local previous = current[2]
  if previous ~= status then
    local wrong = wrongType(index .. status, 'zset') or (previous and wrongType(index .. previous, 'zset'))
    if wrong then return 'error:' .. wrong end
  end

  local fields = { 'v', version, 's', status, 'j', json }
  local outcome, relayed = 'ok', false
  if blob ~= '' then
    local held, pb = current[5], current[4]
    -- Are earlier commands of the instance still leased to their writer?
    if not held and pb and current[3] ~= published then
      held = pb == batch or redis.call('SISMEMBER', prefix .. 'lease:' .. pb, member) == 1
    end
    local behind = current[6] and #redis.call('XRANGE', log, current[6], current[6]) > 0
    if held then
      -- These wait behind them, and go to the outbox once that lease ends.
      fields[7], fields[8], fields[9], fields[10] = 'q' .. version, blob, 'ql', version
      if not current[5] then fields[11], fields[12] = 'qf', version end
      redis.call('SADD', prefix .. 'lease:' .. pb .. ':q', member)
      outcome = 'queued'
    elseif dispatch == '1' and not behind then
      fields[7], fields[8], fields[9], fields[10], fields[11], fields[12] =
        'p', blob, 'pv', version, 'pb', batch
      leased[#leased + 1] = member
      if status ~= 'running' then finished[#finished + 1] = member end
      outcome = 'dispatch'
    else
      outcome, relayed = 'relayed', true
    end
    if current[6] and not behind then redis.call('HDEL', instance, 'x') end
  end
  redis.call('HSET', instance, unpack(fields))
  if relayed then relay(instance, blob) end

  if due == '' then
    redis.call('ZREM', timers, member)
    redis.call('HDEL', tokens, member)
  else
    redis.call('ZADD', timers, due, member)
    redis.call('HSET', tokens, member, token)
  end
  if previous ~= status then
    if previous then redis.call('ZREM', index .. previous, id) end
    if status == 'running' then
      if previous then redis.call('PERSIST', instance) end
      redis.call('ZADD', index .. status, '+inf', id)
    else
      -- A tombstone: late replies and timers find it and are ignored, then it expires.
      redis.call('PEXPIRE', instance, ttl)
      redis.call('ZREMRANGEBYSCORE', index .. status, '-inf', now)
      redis.call('ZADD', index .. status, now + ttl, id)
    end
  end
  return outcome
end

local function release(a)
  local instance, member, leaseId = a[1], a[2], a[3]
  local moved = releaseOne(instance, leaseId, true)
  redis.call('SREM', prefix .. 'lease:' .. leaseId, member)
  if moved == nil then return 0 end
  return moved + relayQueued(instance)
end

local out = {}
for i, operation in ipairs(operations) do
  if operation.kind == 'w' then
    out[i] = write(operation)
  elseif operation.kind == 'r' then
    out[i] = tostring(release(operation))
  else
    out[i] = tostring(endLease(operation[1], false, operation[2] == '1'))
  end
end
if #leased > 0 then
  local key = prefix .. 'lease:' .. batch
  redis.call('SADD', key, unpack(leased))
  if #finished > 0 then redis.call('SADD', key .. ':f', unpack(finished)) end
  redis.call('ZADD', sends, now + lease, batch)
end
return out
`);

/**
 * Ends up to ARGV[2] leases that ran out (their runtime died, or never said
 * it published): their commands, then those queued behind them, go to the
 * outbox.
 *
 * KEYS: 1 leases, 2 outbox log, 3 outbox sequences. ARGV: 1 key prefix,
 * 2 limit. Replies { leases, commands moved }.
 */
export const sweepScript = new RedisScript(`
local sends, log, seqs = KEYS[1], KEYS[2], KEYS[3]
local prefix = ARGV[1]
${NOW_MS}
${LEASE_LUA}
local leases, moved = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', sends, '-inf', now, 'LIMIT', 0, ARGV[2])) do
  moved = moved + endLease(id, true, true)
  leases = leases + 1
end
return { leases, moved }
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

/** Members of each status index (KEYS) whose tombstone has not expired: running ones are +inf. */
export const countScript = new RedisScript(`
${NOW_MS}
local out = {}
for i, index in ipairs(KEYS) do
  out[i] = redis.call('ZCOUNT', index, '(' .. now, '+inf')
end
return out
`);
