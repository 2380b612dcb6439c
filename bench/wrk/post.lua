-- wrk script for symoe's POST endpoints: JSON bodies that cycle through the 16 questions of
-- bench/api_load.py (QUESTIONS), and one JSON line of results at the end.
--
-- The body's shape follows the URL's path: /v1/chat/completions gets a chat request, any
-- other path an answers request ({"question": ...}). The key comes in with -H:
--
--   wrk -t 2 -c 8 -d 10s --timeout 30s --latency -s bench/wrk/post.lua \
--       -H "Authorization: Bearer $KEY" http://127.0.0.1:8000/v1/answers
--
-- done() prints, as its last line on stdout:
--   {"requests":..,"duration_s":..,"rps":..,"latency_ms":{"p50":..,"p90":..,"p99":..,...},
--    "non2xx":..,"errors":{"connect":..,"read":..,"write":..,"timeout":..,"status":..},
--    "socket_errors":..,"bytes":..}
-- non2xx counts every response outside 200-299 (from the response() hook); errors.status
-- is wrk's own count of statuses above 399; socket_errors is connect + read + write + timeout.

local N_QUESTIONS = 16

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function question(i)
  -- the same text as api_load.py's QUESTIONS[i]
  return string.format(
    "Question %d: which option is correct? The options are: (A) %d (B) %d (C) %d",
    i, i, i + 1, i + 2)
end

local function body(path, q)
  if path:find("/chat/completions", 1, true) then
    return '{"model":"symoe","messages":[{"role":"user","content":' .. json_string(q) .. '}]}'
  end
  return '{"question":' .. json_string(q) .. '}'
end

-- main state: one entry per thread, so that done() can read each thread's counters
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- thread states
local requests_ = {}
local cursor = 0
non2xx = 0

function init(args)
  wrk.headers["Content-Type"] = "application/json"
  for i = 0, N_QUESTIONS - 1 do
    requests_[i] = wrk.format("POST", wrk.path, nil, body(wrk.path, question(i)))
  end
  cursor = (id or 0) % N_QUESTIONS  -- threads start at different questions
end

function request()
  local r = requests_[cursor]
  cursor = (cursor + 1) % N_QUESTIONS
  return r
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non = 0
  for _, thread in ipairs(threads) do
    non = non + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local function ms(us) return string.format("%.3f", us / 1000) end
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.2f,' ..
    '"latency_ms":{"p50":%s,"p90":%s,"p99":%s,"mean":%s,"max":%s},' ..
    '"non2xx":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},' ..
    '"socket_errors":%d,"bytes":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.mean), ms(latency.max),
    non, e.connect, e.read, e.write, e.timeout, e.status,
    e.connect + e.read + e.write + e.timeout, summary.bytes))
end
