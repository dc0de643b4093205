-- apply.lua: one atomic change of several keys under one hash tag, built
-- by core/store.c. Every check runs before any write, so a failed check
-- leaves nothing half-written (Redis does not roll back a script that
-- stops half-way, so the order is the guarantee).
--
-- ARGV is a flat list of operations; each starts with its name:
--   REV k rev         KEYS[k] is a document hash at revision rev (0: absent)
--   ABSENT k          KEYS[k] does not exist
--   EQ k value        KEYS[k] is a string holding value
--   ZHAS k member     member is in sorted set KEYS[k] (a due job not yet claimed)
--   CAP k field cap   the count in hash KEYS[k] at field is below cap
--   FREE k start end skip   no interval of sorted set KEYS[k] (members
--                     "start:end:id", scored by start, in ms) overlaps
--                     [start, end), other than member skip ("" for none)
--   DOC k json        store a document: HSET doc json, rev+1
--   SET k value       plain string (unique indexes)
--   DEL k
--   ZADD k score member / ZREM k member / ZINCRBY k by member
--   HINCRBY k field by (a count that reaches 0 is deleted)
--   HSET k field value
--   XADD k n f1 v1 .. fn vn   (stream trimmed to about a million entries)
-- Returns {"ok"}, or {"conflict", k, current} for the first failed check
-- (current: the document's revision, or the unique key's value).
local arity = { REV = 2, ABSENT = 1, EQ = 2, ZHAS = 2, CAP = 3, FREE = 4, DOC = 2, SET = 2, DEL = 1,
  ZADD = 3, ZREM = 2, ZINCRBY = 3, HSET = 3, HINCRBY = 3 }

-- No booking is longer than a day, so an overlap starts less than a day
-- before the interval: the scan reads only that window.
local DAY_MS = 86400000

local ops = {}
local i = 1
while i <= #ARGV do
  local name = ARGV[i]
  local n
  if name == 'XADD' then
    n = 2 + 2 * tonumber(ARGV[i + 2])
  else
    n = arity[name]
  end
  if n == nil then
    return redis.error_reply('apply: unknown operation ' .. tostring(name))
  end
  local op = { name = name }
  for j = 1, n do op[j] = ARGV[i + j] end
  ops[#ops + 1] = op
  i = i + n + 1
end

for _, op in ipairs(ops) do
  local k = tonumber(op[1])
  if op.name == 'REV' then
    local rev = redis.call('HGET', KEYS[k], 'rev') or '0'
    if rev ~= op[2] then return { 'conflict', k, rev } end
  elseif op.name == 'ABSENT' then
    if redis.call('EXISTS', KEYS[k]) == 1 then
      local t = redis.call('TYPE', KEYS[k])['ok']
      local v = ''
      if t == 'string' then v = redis.call('GET', KEYS[k]) end
      return { 'conflict', k, v }
    end
  elseif op.name == 'EQ' then
    local v = redis.call('GET', KEYS[k])
    if v ~= op[2] then return { 'conflict', k, v or '' } end
  elseif op.name == 'ZHAS' then
    if not redis.call('ZSCORE', KEYS[k], op[2]) then return { 'conflict', k, '' } end
  elseif op.name == 'CAP' then
    local n = tonumber(redis.call('HGET', KEYS[k], op[2]) or '0')
    if n >= tonumber(op[3]) then return { 'conflict', k, tostring(n) } end
  elseif op.name == 'FREE' then
    local s, e = tonumber(op[2]), tonumber(op[3])
    local near = redis.call('ZRANGEBYSCORE', KEYS[k], s - DAY_MS, '(' .. e)
    for _, m in ipairs(near) do
      if m ~= op[4] then
        local ms, me = string.match(m, '^(%d+):(%d+):')
        if tonumber(ms) < e and tonumber(me) > s then return { 'conflict', k, m } end
      end
    end
  end
end

for _, op in ipairs(ops) do
  local key = KEYS[tonumber(op[1])]
  if op.name == 'DOC' then
    redis.call('HSET', key, 'doc', op[2])
    redis.call('HINCRBY', key, 'rev', 1)
  elseif op.name == 'SET' then
    redis.call('SET', key, op[2])
  elseif op.name == 'DEL' then
    redis.call('DEL', key)
  elseif op.name == 'ZADD' then
    redis.call('ZADD', key, op[2], op[3])
  elseif op.name == 'ZREM' then
    redis.call('ZREM', key, op[2])
  elseif op.name == 'ZINCRBY' then
    redis.call('ZINCRBY', key, op[2], op[3])
  elseif op.name == 'HSET' then
    redis.call('HSET', key, op[2], op[3])
  elseif op.name == 'HINCRBY' then
    if redis.call('HINCRBY', key, op[2], op[3]) <= 0 then
      redis.call('HDEL', key, op[2])
    end
  elseif op.name == 'XADD' then
    local args = { key, 'MAXLEN', '~', '1000000', '*' }
    for j = 3, #op do args[#args + 1] = op[j] end
    redis.call('XADD', unpack(args))
  end
end
return { 'ok' }
