-- session_create.lua: stores a new staff session.
-- KEYS[1] korpu:session:{SHA256-OF-TOKEN}
-- ARGV[1] the user (JSON)  ARGV[2] absolute expiry (Unix s)
-- ARGV[3] now (Unix s)     ARGV[4] idle timeout (s)
-- Only the token's hash is a key: a copy of Redis holds no usable token.
local exp, now, idle = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if exp <= now then
  return redis.error_reply('SESSION expiry is in the past')
end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'exp', exp)
redis.call('EXPIRE', KEYS[1], math.min(idle, exp - now))
return 1
