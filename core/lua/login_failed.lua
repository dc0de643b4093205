-- login_failed.lua: counts a failed sign-in for the user name and for the
-- address, and ends its reservation (login_reserve.lua). Past a threshold
-- within the window the name (or address) is locked out; each new lockout
-- within a day lasts twice the one before. The name is the directory's
-- spelling when the entry was found, so every spelling shares one count.
-- KEYS[1] fails:user  KEYS[2] fails:addr  KEYS[3] lock:user  KEYS[4] lock:addr
-- KEYS[5] lockouts:user  KEYS[6] lockouts:addr
-- KEYS[7] pending:user (as typed)  KEYS[8] pending:addr  (all under korpu:{auth}:)
-- ARGV[1] failures allowed per user  ARGV[2] failures allowed per address
-- ARGV[3] window and first lockout (s)  ARGV[4] longest lockout (s)
-- Returns the milliseconds of a lockout this failure started, or 0.
local window, longest = tonumber(ARGV[3]), tonumber(ARGV[4])
local started = 0
for i = 7, 8 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
local function count(fails, lock, lockouts, allowed)
  local n = redis.call('INCR', fails)
  if n == 1 then
    redis.call('EXPIRE', fails, window)
  end
  if n >= allowed then
    local k = redis.call('INCR', lockouts)
    redis.call('EXPIRE', lockouts, 86400)
    local secs = math.min(window * 2 ^ (k - 1), longest)
    redis.call('SET', lock, '1', 'PX', math.floor(secs * 1000))
    redis.call('DEL', fails)
    started = math.max(started, math.floor(secs * 1000))
  end
end
count(KEYS[1], KEYS[3], KEYS[5], tonumber(ARGV[1]))
count(KEYS[2], KEYS[4], KEYS[6], tonumber(ARGV[2]))
return started
