"""Lua scripts for the workspace's projections: score history, timeline,
lifecycle (churn analytics), profiles and payment attempts.

Same rules as ``lua.py``: one atomic script per write, idempotent on replay,
a single Redis.
"""

from __future__ import annotations

from services.readmodel.lua import RESTAGE

# KEYS[1] history hash (field = day). ARGV: 1 day, 2 as_of_us, 3 time_us, 4 value JSON
# ([as_of_us, time_us, score, band]), 5 days kept. Newest value of the day wins;
# past the cap the oldest days go. Returns 1 when written.
PUT_HISTORY = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local o = cjson.decode(old)
  local as_of, t = tonumber(ARGV[2]), tonumber(ARGV[3])
  if o[1] > as_of or (o[1] == as_of and o[2] >= t) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
local n = redis.call('HLEN', KEYS[1]) - tonumber(ARGV[5])
if n > 0 then
  local days = redis.call('HKEYS', KEYS[1])
  table.sort(days)
  for i = 1, n do redis.call('HDEL', KEYS[1], days[i]) end
end
return 1
"""

# KEYS[1] timeline sorted set (score = event time ms). ARGV: 1 time ms, 2 entry, 3 cap.
# Returns 1 when the entry is new. The same event is the same member, so a replay adds nothing.
PUT_TIMELINE = """
local added = redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
return added
"""

# KEYS[1] lifecycle hash. ARGV: 1 event id, 2 account, 3 change, 4 version_us, 5 month,
# 6 arr_cents, 7 JSON [[dimension, value], ...], 8 onboarding window us, 9 reasons per month cap.
# Month counters (hs:month:<YYYY-MM>): "<change>|<dimension>|<value>" = count and
# "<change>_arr|<dimension>|<value>" = ARR, with dimension "all" and value "" for the total.
# Returns 0 when this event id was already counted.
PUT_LIFECYCLE = (
    RESTAGE
    + """
local h, change = KEYS[1], ARGV[3]
if redis.call('HSETNX', h, 'e:' .. ARGV[1], ARGV[4]) == 0 then return 0 end
local month = 'hs:month:' .. ARGV[5]
local arr = tonumber(ARGV[6])
local function add(dim, value)
  redis.call('HINCRBY', month, change .. '|' .. dim .. '|' .. value, 1)
  if arr ~= 0 then redis.call('HINCRBY', month, change .. '_arr|' .. dim .. '|' .. value, arr) end
end
redis.call('SADD', 'hs:months', ARGV[5])
add('all', '')
for _, pair in ipairs(cjson.decode(ARGV[7])) do
  local dim, value = pair[1], pair[2]
  if dim == 'reason' then
    -- Free-text reasons: past the cap a month's new reasons count as "other".
    local seen = 'hs:month:reasons:' .. ARGV[5]
    if redis.call('SISMEMBER', seen, value) == 0 then
      if redis.call('SCARD', seen) >= tonumber(ARGV[9]) then
        value = 'other'
      else
        redis.call('SADD', seen, value)
      end
    end
  end
  add(dim, value)
end
local v = redis.call('HGET', h, 'v')
if (not v) or tonumber(v) <= tonumber(ARGV[4]) then
  redis.call('HSET', h, 'v', ARGV[4], 'change', change)
  restage(ARGV[2], ARGV[8])
end
return 1
"""
)

# KEYS[1] profile hash. ARGV: 1 version_us, 2 account, 3 doc, 4 plan, 5 industry,
# 6 created_us ('' = unknown), 7 onboarding window us. Filter SETs
# hs:accounts:in:plan:<plan> and hs:accounts:in:industry:<industry> follow the profile.
PUT_PROFILE = (
    RESTAGE
    + """
local h, acc = KEYS[1], ARGV[2]
local v = redis.call('HGET', h, 'v')
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
local new = {plan = ARGV[4], industry = ARGV[5]}
for field, value in pairs(new) do
  local old = redis.call('HGET', h, field)
  if old and old ~= '' then redis.call('SREM', 'hs:accounts:in:' .. field .. ':' .. old, acc) end
  if value ~= '' then redis.call('SADD', 'hs:accounts:in:' .. field .. ':' .. value, acc) end
end
redis.call('HSET', h, 'v', ARGV[1], 'doc', ARGV[3], 'plan', ARGV[4], 'industry', ARGV[5],
           'created', ARGV[6])
restage(acc, ARGV[7])
return 1
"""
)

# KEYS: attempts SET, failures SET of the month. ARGV: 1 event id, 2 '1' if failed, 3 month.
# Returns 1 when the attempt is new.
PUT_PAYMENT = """
local added = redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) end
redis.call('SADD', 'hs:months', ARGV[3])
return added
"""
