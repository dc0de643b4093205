-- login_gate.lua: may this user name, from this address, try to sign in?
-- Returns 0, or the milliseconds until the longer of the two lockouts ends.
-- KEYS[1] korpu:{auth}:lock:user:HASH   KEYS[2] korpu:{auth}:lock:addr:ADDR
local a = redis.call('PTTL', KEYS[1])
local b = redis.call('PTTL', KEYS[2])
return math.max(a, b, 0)
