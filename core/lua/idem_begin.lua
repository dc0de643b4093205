-- idem_begin.lua: the first request with an Idempotency-Key takes it
-- (state "pending", for at most ARGV[2] ms); a later one gets what is
-- stored: {state, body hash, status, content type, body}.
-- KEYS[1] korpu:idem:{HASH}   ARGV[1] the body's hash   ARGV[2] ttl ms
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'hash', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return { 'new' }
end
return redis.call('HMGET', KEYS[1], 'state', 'hash', 'status', 'ctype', 'body')
