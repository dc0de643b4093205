-- login_settle.lua: an attempt reserved by login_reserve.lua is over
-- without a failure to count (signed in, or the directory did not answer).
-- KEYS[1] pending:user  KEYS[2] pending:addr  KEYS[3] fails:user (the
-- directory's spelling)   ARGV[1] "ok" clears the name's failures
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
if ARGV[1] == 'ok' then
  redis.call('DEL', KEYS[3])
end
return 0
