-- wrk script for FlaskCart-shaped APIs. Configured by env:
--   SCENARIO = health | browse | search | product | cart_add | cart_update | checkout | orders
--              | login
--              | search_words | suggest (FlaskCart only: word search with typos, suggestions)
--   DATA     = path of a file written by compare.py: lines "kind<TAB>value" (product ids, tokens, emails)
local scenario = os.getenv("SCENARIO") or "health"
local data = os.getenv("DATA")
local products, tokens, users, emails = {}, {}, {}, {}
if data and data ~= "" then
  for line in io.lines(data) do
    local k, v = line:match("^(%w+)\t(.*)$")
    if k == "product" then products[#products + 1] = v
    elseif k == "token" then tokens[#tokens + 1] = v
    elseif k == "user" then users[#users + 1] = v
    elseif k == "email" then emails[#emails + 1] = v end
  end
end
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
  stage = 0
end

local function pick(t) return t[math.random(#t)] end

-- Search scenarios (issue 13), over the demo catalog's words: typos, prefixes, two words.
local search_words = {"skillet", "skilet", "cast%20iron", "handbok", "wireles%20mouse", "kettle",
  "electric%20ket", "headphones", "yoga%20mat", "trail%20runing", "board%20game", "blutooth"}
local suggest_prefixes = {"s", "sk", "skil", "cast%20ir", "mec", "blue", "handbo", "wireless"}

request = function()
  counter = counter + 1
  if scenario == "health" then
    return wrk.format("GET", "/health")
  elseif scenario == "browse" then
    local page = math.random(1, 5)
    return wrk.format("GET", "/products?limit=20&page=" .. page .. "&sort=price")
  elseif scenario == "search" then
    return wrk.format("GET", "/products?limit=20&q=" .. math.random(0, 199))
  elseif scenario == "search_words" then
    return wrk.format("GET", "/products?limit=20&q=" .. pick(search_words))
  elseif scenario == "suggest" then
    return wrk.format("GET", "/products/suggest?q=" .. pick(suggest_prefixes))
  elseif scenario == "product" then
    return wrk.format("GET", "/products/" .. pick(products))
  elseif scenario == "cart_add" then
    local body = '{"product_id":"' .. pick(products) .. '","quantity":1}'
    return wrk.format("POST", "/cart/add",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. pick(tokens)}, body)
  elseif scenario == "cart_update" then
    -- every seeded cart holds the first product (compare.py)
    local body = '{"product_id":"' .. products[1] .. '","quantity":' .. math.random(1, 5) .. '}'
    return wrk.format("PUT", "/cart/update",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. pick(tokens)}, body)
  elseif scenario == "orders" then
    local i = math.random(#tokens)
    return wrk.format("GET", "/orders/" .. users[i] .. "?limit=20",
      {["Authorization"] = "Bearer " .. tokens[i]})
  elseif scenario == "checkout" then
    -- alternate: add one item, then place the order, for the same user
    local tok = tokens[(math.floor((counter - 1) / 2) + (tid or 0) * 7919) % #tokens + 1]
    if counter % 2 == 1 then
      local body = '{"product_id":"' .. pick(products) .. '","quantity":1}'
      return wrk.format("POST", "/cart/add",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tok}, body)
    else
      return wrk.format("POST", "/order",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tok}, "{}")
    end
  elseif scenario == "login" then
    local body = '{"email":"' .. pick(emails) .. '","password":"bench-password-1"}'
    return wrk.format("POST", "/login", {["Content-Type"] = "application/json"}, body)
  end
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests))
end
