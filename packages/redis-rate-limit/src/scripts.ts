/**
 * The GCRA of `@aegis/guard`'s `RateLimiter`, as two Redis Lua scripts, so every gate spends from
 * the same budget in one atomic step. A budget is a hash: `tat` (the theoretical arrival time, ms)
 * and `since` (when its current busy period began: a refund only counts within the same one).
 * The clock is the Redis server's (`TIME`), so gates with skewed clocks still agree; a third
 * argument overrides it (the shared test vectors replay fixed times through it — the limiter
 * never passes one).
 */

/**
 * KEYS[1] the budget; ARGV period ms, count[, now ms]. Returns `{1, since}` when the unit was
 * spent, `{0, retryAfterMs}` (a whole number ≥ 1) when refused; a refusal writes nothing.
 */
export const RESERVE_SCRIPT = `
local period = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local interval = period / count
local state = redis.call('HMGET', KEYS[1], 'tat', 'since')
local tat = tonumber(state[1])
local base = now
if tat ~= nil and tat > now then base = tat end
local allow_at = base + interval - period
if now < allow_at then
  return {0, math.max(1, math.ceil(allow_at - now))}
end
local since = state[2]
if tat == nil or tat < now or since == false then since = string.format('%.17g', now) end
local next_tat = base + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.17g', next_tat), 'since', since)
redis.call('PEXPIRE', KEYS[1], math.ceil(next_tat - now) + 1)
return {1, since}
`

/**
 * KEYS[1] the budget; ARGV interval ms, since. Gives one interval back when the budget is still in
 * the busy period the reservation was made in (an idle or expired budget has drained that unit
 * already). Returns 1 when something was given back, else 0.
 */
export const REFUND_SCRIPT = `
local state = redis.call('HMGET', KEYS[1], 'tat', 'since')
local tat = tonumber(state[1])
if tat == nil or state[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'tat', string.format('%.17g', tat - tonumber(ARGV[1])))
return 1
`
