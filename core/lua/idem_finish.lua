-- idem_finish.lua: the answer to a request with an Idempotency-Key, kept
-- for replay for ARGV[5] ms; or, with ARGV[1] "drop", the key is given
-- back (the request failed on our side: a retry must run it again).
-- KEYS[1] korpu:idem:{HASH}   ARGV[2] body hash   ARGV[3] status
-- ARGV[4] content type   ARGV[6] body
if ARGV[1] == 'drop' then
  if redis.call('HGET', KEYS[1], 'hash') == ARGV[2] then
    redis.call('DEL', KEYS[1])
  end
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'hash', ARGV[2], 'status', ARGV[3],
  'ctype', ARGV[4], 'body', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
