-- schema.lua: records, and checks, the layout version of korpu's data.
-- KEYS[1] korpu:{meta}:schema   ARGV[1] the version this korpud writes
-- An empty database is stamped; one written by a newer korpud is refused,
-- because this korpud would misread or damage what it does not know.
local want = tonumber(ARGV[1])
local have = tonumber(redis.call('GET', KEYS[1]) or '0')
if have == nil then
  return redis.error_reply('SCHEMA ' .. KEYS[1] .. ' holds no number')
end
if have > want then
  return redis.error_reply('SCHEMA data schema ' .. have ..
    ' is newer than this korpud understands (' .. want .. ')')
end
if have < want then
  redis.call('SET', KEYS[1], want)
end
return want
