-- wrk script of bench/bench_api.py: POST /api/v1/orders with a price stream.
--
-- Reads the traders from the file named by the environment variable ERTS_BENCH_TRADERS
-- (one line each: "token permit"), the markets from ERTS_BENCH_MARKETS (comma-separated),
-- the mid price from ERTS_BENCH_MID and the share of orders that cross the spread (in
-- percent) from ERTS_BENCH_CROSS. Each wrk thread draws its own stream (seeded by its id):
-- a trader and a market in turn, a side at random, a price a few ticks away from the mid
-- on the resting side (so the book grows), or, for the crossing share, through it (so it
-- trades). At the end it prints one JSON line: requests by status, and latency p50/p99 in
-- microseconds (wrk's own histogram).

local traders, markets = {}, {}
local mid = tonumber(os.getenv("ERTS_BENCH_MID") or "300000")
local cross = tonumber(os.getenv("ERTS_BENCH_CROSS") or "30")
local counter = 0
statuses = {}  -- global: done() reads each thread's with thread:get
local threads = {}

local function load()
  for line in io.lines(os.getenv("ERTS_BENCH_TRADERS")) do
    local token, permit = line:match("^(%S+)%s+(%S+)$")
    if token then traders[#traders + 1] = {token, permit} end
  end
  for m in (os.getenv("ERTS_BENCH_MARKETS") or ""):gmatch("[^,]+") do
    markets[#markets + 1] = m
  end
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  load()
  math.randomseed(1000 + id)
  counter = id * 7919
end

function request()
  counter = counter + 1
  local t = traders[(counter % #traders) + 1]
  local market = markets[(counter % #markets) + 1]
  local side = (math.random(2) == 1) and "buy" or "sell"
  local away = math.random(1, 400) * 100
  local price
  if math.random(100) <= cross then
    -- through the spread: meets the best resting orders of the other side
    price = (side == "buy") and (mid + 50000) or (mid - 50000)
  else
    price = (side == "buy") and (mid - away) or (mid + away)
  end
  local body = string.format(
    '{"permit":"%s","market":"%s","side":"%s","qty":%d,"price":%d}',
    t[2], market, side, math.random(1, 20) * 10, price)
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. t[1],
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, table.concat(parts, ",")))
end
