package drift

import "github.com/redis/go-redis/v9"

// flushScript adds one worker's counts to the open window of a model
// version and closes windows, atomically, in one round trip.
//
// KEYS: state, closed. ARGV: prefix, now (ms), window events, window ms,
// min events for a time close, worker id, n, lost, retry (0/1), profile
// fingerprint, the epoch the worker last saw, a fresh epoch, window ttl
// (ms), state ttl (ms), then the worker's counts: one decimal integer per
// bin of the layout, comma-separated.
//
// The open window closes by time (before the counts are added, when it is
// old enough and holds min events) or by count (after). Closing records
// the window in the closed set, which the caller then evaluates. A window
// is marked incomplete when the counts come from a failed flush (retry) or
// when the state epoch changed since the worker last wrote (Redis lost its
// data). Each worker's counts in a window are one hash field, "c:<worker>",
// which the script adds the new counts to: a flush costs the same handful of
// commands however many bins the profile has. Returns {epoch, closed ids...}.
var flushScript = redis.NewScript(`
local st, closedz = KEYS[1], KEYS[2]
local prefix, now = ARGV[1], tonumber(ARGV[2])
local wEvents, wMs, minEv = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local worker, n, lost = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local retry, fp, known, fresh = ARGV[9] == '1', ARGV[10], ARGV[11], ARGV[12]
local wTTL, sTTL = tonumber(ARGV[13]), tonumber(ARGV[14])

local epoch = redis.call('HGET', st, 'epoch')
if not epoch then
  epoch = fresh
  redis.call('HSET', st, 'epoch', epoch)
end
local wiped = known ~= '' and known ~= epoch
local out = {epoch}

-- add sums two comma-separated lists of counts (a may be false: none yet).
local function add(a, b)
  if not a then return b end
  local t, i = {}, 0
  for v in string.gmatch(a, '[^,]+') do i = i + 1; t[i] = tonumber(v) end
  i = 0
  for v in string.gmatch(b, '[^,]+') do i = i + 1; t[i] = (t[i] or 0) + tonumber(v) end
  for j = 1, #t do t[j] = string.format('%d', t[j]) end
  return table.concat(t, ',')
end

local function close(id)
  local wk = prefix .. 'w:' .. id
  redis.call('HSET', wk, 'end', redis.call('HGET', wk, 'last'))
  redis.call('ZADD', closedz, now, id)
  redis.call('PEXPIRE', closedz, sTTL)
  redis.call('HDEL', st, 'id', 'start', 'events')
  out[#out + 1] = id
end

local id = redis.call('HGET', st, 'id')
if id then
  local start = tonumber(redis.call('HGET', st, 'start'))
  local ev = tonumber(redis.call('HGET', st, 'events'))
  if now - start >= wMs and ev >= minEv then
    close(id)
    id = nil
  end
end

if n > 0 or lost > 0 then
  local wk
  if id then
    wk = prefix .. 'w:' .. id
    local wfp = redis.call('HGET', wk, 'fp')
    if not wfp then
      id = nil -- the window expired while open: start afresh
    elseif wfp ~= fp then
      return redis.error_reply('drift: profile differs from the one the open window uses')
    end
  end
  if not id then
    local seq = redis.call('HINCRBY', st, 'seq', 1)
    id = epoch .. '-' .. seq
    wk = prefix .. 'w:' .. id
    redis.call('HSET', st, 'id', id, 'start', now, 'events', 0)
    redis.call('HSET', wk, 'seq', seq, 'start', now, 'fp', fp)
  end
  local ck = 'c:' .. worker
  redis.call('HSET', wk, ck, add(redis.call('HGET', wk, ck), ARGV[15]))
  redis.call('HINCRBY', wk, 'n', n)
  redis.call('HINCRBY', wk, 'wk:' .. worker, n)
  redis.call('HSET', wk, 'last', now)
  if lost > 0 then redis.call('HINCRBY', wk, 'lost', lost) end
  if retry or wiped then redis.call('HSET', wk, 'inc', 1) end
  redis.call('PEXPIRE', wk, wTTL)
  if redis.call('HINCRBY', st, 'events', n) >= wEvents then close(id) end
end
redis.call('PEXPIRE', st, sTTL)
return out
`)
