-- session_touch.lua: reads a session and extends its idle timeout, never
-- past its absolute expiry. Returns the user (JSON), or nil when the
-- session does not exist or has expired.
-- KEYS[1] korpu:session:{SHA256-OF-TOKEN}   ARGV[1] now (Unix s)   ARGV[2] idle timeout (s)
local now, idle = tonumber(ARGV[1]), tonumber(ARGV[2])
local fields = redis.call('HMGET', KEYS[1], 'user', 'exp')
local user, exp = fields[1], tonumber(fields[2])
if not user or not exp then
  return nil
end
if now >= exp then
  redis.call('DEL', KEYS[1])
  return nil
end
redis.call('EXPIRE', KEYS[1], math.min(idle, exp - now))
return user
