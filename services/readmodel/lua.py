"""Lua scripts that make each read-model write a single atomic compare-and-set.

A script is the only way to read the stored version, compare and write (the
index entries included) without a race between two projector instances during
a rebalance, and it costs one round trip inside the batch pipeline.
Keys that depend on the stored state (the old index entries) are read from the
health hash, so these scripts assume a single Redis, not a cluster.
"""

from __future__ import annotations

# KEYS[1] health hash, KEYS[2..n] index sorted sets for the new value.
# ARGV: as_of_us, time_us, member, doc, JSON list of the new index keys.
# Returns 1 when written, 0 when the stored health is newer (stale record).
PUT_HEALTH = """
local old_v = redis.call('HGET', KEYS[1], 'v')
if old_v then
  local old_t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
  if tonumber(old_v) > tonumber(ARGV[1])
     or (tonumber(old_v) == tonumber(ARGV[1]) and old_t > tonumber(ARGV[2])) then
    return 0
  end
  local old_m = redis.call('HGET', KEYS[1], 'm')
  local old_idx = redis.call('HGET', KEYS[1], 'idx')
  if old_m and old_idx then
    for _, k in ipairs(cjson.decode(old_idx)) do redis.call('ZREM', k, old_m) end
  end
end
for i = 2, #KEYS do redis.call('ZADD', KEYS[i], 0, ARGV[3]) end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[2], 'm', ARGV[3], 'doc', ARGV[4],
           'idx', ARGV[5])
return 1
"""

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

# KEYS: open cases hash, case versions hash.
# ARGV: case id ('*' = every open case), version_us, closes ('1'/'0'), doc.
# The versions hash outlives a closed case so a replayed older step cannot reopen it.
PUT_DUNNING = """
if ARGV[1] == '*' then
  for _, case in ipairs(redis.call('HKEYS', KEYS[1])) do
    local v = redis.call('HGET', KEYS[2], case)
    if (not v) or tonumber(v) <= tonumber(ARGV[2]) then
      redis.call('HDEL', KEYS[1], case)
      redis.call('HSET', KEYS[2], case, ARGV[2])
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
return 1
"""
