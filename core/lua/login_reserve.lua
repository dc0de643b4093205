-- login_reserve.lua: may this user name, from this address, try to sign in
-- now? If so, the attempt is counted as in flight before the directory is
-- asked, so a burst of parallel guesses cannot all pass before the first
-- failure is counted; and because this writes, a Redis that refuses
-- writes (read-only replica, disk full) stops sign-ins instead of letting
-- them through uncounted.
-- KEYS[1] lock:user  KEYS[2] lock:addr  KEYS[3] fails:user  KEYS[4] fails:addr
-- KEYS[5] pending:user  KEYS[6] pending:addr          (all under korpu:{auth}:)
-- ARGV[1] failures allowed per user  ARGV[2] per address  ARGV[3] pending TTL (s)
-- Returns 0 (reserved), the milliseconds a lockout still lasts, or -1 when
-- failures and attempts in flight already reach the limit.
local locked = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]), 0)
if locked > 0 then
  return locked
end
local function n(key)
  return tonumber(redis.call('GET', key) or '0')
end
if n(KEYS[3]) + n(KEYS[5]) >= tonumber(ARGV[1]) or
   n(KEYS[4]) + n(KEYS[6]) >= tonumber(ARGV[2]) then
  return -1
end
for _, key in ipairs({KEYS[5], KEYS[6]}) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
end
return 0
