"""Lua scripts that make each read-model write a single atomic compare-and-set.

A script is the only way to read the stored version, compare and write (the
index entries and the analytics counters included) without a race between two
projector instances during a rebalance, and it costs one round trip inside the
batch pipeline. Keys that depend on the stored state (old index entries, the
account's stage sets, month counters) are built inside the scripts, so these
scripts assume a single Redis, not a cluster.

Counters are idempotent by construction: a month counter moves only together
with a state change that a replay of the same record cannot repeat (a newer
version, a first-seen time that gets earlier, an event id not yet recorded).
"""

from __future__ import annotations

# Shared by the scripts that can change an account's lifecycle stage: churned
# (its last lifecycle change), onboarding (scored within the window after its
# profile's created_at) or active. ``hs:accounts:in:stage:<stage>`` are SETs.
# The stage also decides where the account's index members are (hash field
# ``ix``): ``live`` in the score and sort indexes every listing walks, or
# ``churned`` in their twins under ``hs:accounts:churned:`` (read only for
# ``stage=churned``), so churned accounts never crowd the at-risk-first pages.
# Being a function of the stored stage, the placement ends the same whatever
# order health, lifecycle and profile records arrive in.
RESTAGE = """
local function entries(h, at)
  local m, out = redis.call('HGET', h, 'm'), {}
  local idx, six = redis.call('HGET', h, 'idx'), redis.call('HGET', h, 'six')
  if at == 'live' then
    if m and idx then for _, k in ipairs(cjson.decode(idx)) do out[#out + 1] = {k, m} end end
    if six then for _, p in ipairs(cjson.decode(six)) do out[#out + 1] = p end end
  elseif at == 'churned' then
    if m then out[1] = {'hs:accounts:churned:by_score', m} end
    if six then
      for _, p in ipairs(cjson.decode(six)) do
        -- 'hs:accounts:sort:<s>' -> 'hs:accounts:churned:sort:<s>'
        out[#out + 1] = {'hs:accounts:churned:' .. string.sub(p[1], 13), p[2]}
      end
    end
  end
  return out
end
-- A hash without 'ix' but with a member has it in the live indexes.
local function placed_at(h)
  local at = redis.call('HGET', h, 'ix')
  if at then return at end
  if redis.call('HGET', h, 'm') then return 'live' end
  return ''
end
local function unplace(h)
  for _, p in ipairs(entries(h, placed_at(h))) do redis.call('ZREM', p[1], p[2]) end
end
-- at: where the members are now ('' = nowhere), read from the hash when nil.
local function restage(acc, window_us, at)
  local h = 'hs:health:' .. acc
  local v = redis.call('HGET', h, 'v')
  if not v then return end
  local stage = 'active'
  if redis.call('HGET', 'hs:lifecycle:' .. acc, 'change') == 'churned' then
    stage = 'churned'
  else
    local created = redis.call('HGET', 'hs:profile:' .. acc, 'created')
    if created and created ~= '' and tonumber(v) - tonumber(created) < tonumber(window_us) then
      stage = 'onboarding'
    end
  end
  local old = redis.call('HGET', h, 'stage')
  if old ~= stage then
    if old then redis.call('SREM', 'hs:accounts:in:stage:' .. old, acc) end
    redis.call('SADD', 'hs:accounts:in:stage:' .. stage, acc)
    redis.call('HSET', h, 'stage', stage)
  end
  local want = 'live'
  if stage == 'churned' then want = 'churned' end
  at = at or placed_at(h)
  if at == want then return end
  for _, p in ipairs(entries(h, at)) do redis.call('ZREM', p[1], p[2]) end
  for _, p in ipairs(entries(h, want)) do redis.call('ZADD', p[1], 0, p[2]) end
  redis.call('HSET', h, 'ix', want)
end
"""

# KEYS[1] health hash, KEYS[2..n] the live score indexes for the new value (restage
# puts the member in them, or in the churned twin).
# ARGV: 1 as_of_us, 2 time_us, 3 member, 4 doc, 5 JSON list of the new index keys,
#       6 account, 7 band, 8 arr_cents ('' = unknown), 9 change sort member,
#       10 month of as_of, 11 JSON list of filter SET keys, 12 onboarding window us.
# Returns 1 when written, 0 when the stored health is newer (stale record).
PUT_HEALTH = (
    RESTAGE
    + """
local h, acc, as_of = KEYS[1], ARGV[6], tonumber(ARGV[1])
local arr = tonumber(ARGV[8])
local month = 'hs:month:' .. ARGV[10]
-- The earliest score makes the account "new" in its month, in whatever order
-- records arrive: an earlier one moves the count to its own month.
local fs = redis.call('HGET', h, 'fs')
if (not fs) or as_of < tonumber(fs) then
  if fs then
    local old_month = 'hs:month:' .. redis.call('HGET', h, 'fsm')
    local old_arr = tonumber(redis.call('HGET', h, 'fsa') or '0')
    redis.call('HINCRBY', old_month, 'new', -1)
    if old_arr ~= 0 then redis.call('HINCRBY', old_month, 'new_arr', -old_arr) end
  end
  redis.call('HINCRBY', month, 'new', 1)
  if arr and arr ~= 0 then redis.call('HINCRBY', month, 'new_arr', arr) end
  redis.call('SADD', 'hs:months', ARGV[10])
  redis.call('HSET', h, 'fs', ARGV[1], 'fsm', ARGV[10], 'fsa', tostring(arr or 0))
end
local old_v = redis.call('HGET', h, 'v')
if old_v then
  local old_t = tonumber(redis.call('HGET', h, 't') or '0')
  if tonumber(old_v) > as_of or (tonumber(old_v) == as_of and old_t > tonumber(ARGV[2])) then
    return 0
  end
  unplace(h)
  local old_sets = redis.call('HGET', h, 'sets')
  if old_sets then
    for _, k in ipairs(cjson.decode(old_sets)) do redis.call('SREM', k, acc) end
  end
end
-- An ARR change between two scores is expansion or contraction in this month.
local old_arr = tonumber(redis.call('HGET', h, 'arr') or '')
if arr and old_arr and arr ~= old_arr then
  redis.call('SADD', 'hs:months', ARGV[10])
  if arr > old_arr then
    redis.call('HINCRBY', month, 'exp_arr', arr - old_arr)
  else
    redis.call('HINCRBY', month, 'con_arr', old_arr - arr)
  end
end
-- At risk since: kept while the account stays at risk, cleared when it leaves.
local ars = ''
if ARGV[7] == 'at_risk' then
  if redis.call('HGET', h, 'b') == 'at_risk' then ars = redis.call('HGET', h, 'ars') or '' end
  if ars == '' then ars = ARGV[1] end
end
local dar = '~|' .. acc
if ars ~= '' then dar = string.rep('0', 17 - #ars) .. ars .. '|' .. acc end
local arr_text = tostring(arr or 0)
local six = {
  {'hs:accounts:sort:arr', string.rep('0', 16 - #arr_text) .. arr_text .. '|' .. acc},
  {'hs:accounts:sort:change', ARGV[9]},
  {'hs:accounts:sort:days_at_risk', dar},
}
redis.call('ZADD', 'hs:accounts:arr', arr or 0, acc)
local sets = cjson.decode(ARGV[11])
for _, k in ipairs(sets) do redis.call('SADD', k, acc) end
redis.call('HSET', h, 'v', ARGV[1], 't', ARGV[2], 'm', ARGV[3], 'doc', ARGV[4],
           'idx', ARGV[5], 'b', ARGV[7], 'ars', ars, 'arr', arr_text,
           'six', cjson.encode(six), 'sets', ARGV[11],
           'sa', six[1][2], 'sc', six[2][2], 'sd', six[3][2])
restage(acc, ARGV[12], '')
return 1
"""
)

# KEYS: dedupe marker, global stream, per-account stream, per-type stream.
# ARGV: dedupe ttl s, global maxlen, account maxlen, event id, account, type, event JSON.
# Returns the new stream id, or false when this CloudEvent id was already applied.
# The secondary streams reuse the global id and hold only the type: reads
# resolve the event from the global stream, so the payload is stored once.
PUT_ALERT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
                      'id', ARGV[4], 'account_id', ARGV[5], 'type', ARGV[6], 'event', ARGV[7])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], id, 'type', ARGV[6])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], id, 'type', ARGV[6])
return id
"""

# KEYS: open cases hash, case versions hash, case history hash.
# ARGV: 1 case id ('*' = every open case), 2 version_us, 3 closes ('1'/'0'), 4 doc,
#       5 step, 6 month, 7 account, 8 history cap.
# The versions hash outlives a closed case so a replayed older step cannot reopen
# it; the history keeps every case (open and closed), the oldest dropped past the cap.
PUT_DUNNING = """
local function count(step, case)
  local kind = ({payment_failed_notice = 'opened', recovered = 'recovered',
                 canceled = 'canceled'})[step]
  if kind then
    redis.call('SADD', 'hs:dun:' .. ARGV[6] .. ':' .. kind, ARGV[7] .. '|' .. case)
    redis.call('SADD', 'hs:months', ARGV[6])
  end
end
local function trim_history()
  if redis.call('HLEN', KEYS[3]) <= tonumber(ARGV[8]) then return end
  local oldest, oldest_v = nil, nil
  for _, case in ipairs(redis.call('HKEYS', KEYS[3])) do
    local v = tonumber(redis.call('HGET', KEYS[2], case) or '0')
    if (not oldest_v) or v < oldest_v then oldest, oldest_v = case, v end
  end
  redis.call('HDEL', KEYS[3], oldest)
end
if ARGV[1] == '*' then
  for _, case in ipairs(redis.call('HKEYS', KEYS[1])) do
    local v = redis.call('HGET', KEYS[2], case)
    if (not v) or tonumber(v) <= tonumber(ARGV[2]) then
      local doc = cjson.decode(redis.call('HGET', KEYS[1], case))
      doc['last_step'], doc['closed'] = ARGV[5], true
      redis.call('HSET', KEYS[3], case, cjson.encode(doc))
      redis.call('HDEL', KEYS[1], case)
      redis.call('HSET', KEYS[2], case, ARGV[2])
      count(ARGV[5], case)
    end
  end
  return 1
end
local v = redis.call('HGET', KEYS[2], ARGV[1])
if v and tonumber(v) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
count(ARGV[5], ARGV[1])
trim_history()
return 1
"""
