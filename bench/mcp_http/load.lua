-- wrk script of bench/mcp_http.sh: every connection repeats one MCP tools/call on its own session.
--
-- Run wrk with as many threads as connections (-t N -c N), so that each thread drives exactly
-- one keep-alive connection and the thread's session is the connection's session.
--
-- Environment:
--   BENCH_SESSIONS    file with one Mcp-Session-Id per line, at least one per thread
--   BENCH_BODY        file with the JSON-RPC request body to send
--   BENCH_TOKEN_FILE  file holding the bearer token (optional: the reference server has none)
--   BENCH_RESULT      file the summary is written to, as one JSON object
--
-- A response counts as good when its status is 200 and its body is a JSON-RPC result that is
-- not a tool error; every other response is counted by status (and "bad_body" for a 200 whose
-- body is not a good result).

local function read_file(path)
  local f = assert(io.open(assert(path, "environment variable missing"), "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local sessions = {}
for line in read_file(os.getenv("BENCH_SESSIONS")):gmatch("[^\r\n]+") do
  sessions[#sessions + 1] = line
end
local threads = {}

function setup(thread)
  local index = #threads + 1
  threads[index] = thread
  assert(sessions[index], "fewer sessions than threads")
  thread:set("session", sessions[index])
end

local prepared
local statuses = {}  -- status (or "bad_body") -> count, for this thread
-- Globals, so that done() can read them with thread:get().
good = 0
statuses_text = ""

function init(args)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["Mcp-Session-Id"] = session,
    ["MCP-Protocol-Version"] = "2025-11-25",
  }
  local token_file = os.getenv("BENCH_TOKEN_FILE")
  if token_file and token_file ~= "" then
    headers["Authorization"] = "Bearer " .. read_file(token_file):gsub("%s+$", "")
  end
  prepared = wrk.format("POST", wrk.path, headers, read_file(os.getenv("BENCH_BODY")))
end

function request()
  return prepared
end

function response(status, headers, body)
  local key
  if status ~= 200 then
    key = tostring(status)
  elseif not body:find('"result":', 1, true) or body:find('"isError":true', 1, true) then
    key = "bad_body"
  end
  if key then
    statuses[key] = (statuses[key] or 0) + 1
    local parts = {}
    for k, count in pairs(statuses) do parts[#parts + 1] = k .. "=" .. count end
    statuses_text = table.concat(parts, " ")
  else
    good = good + 1
  end
end

-- Each thread's counters reach done() through thread:get; the failures as a "key=count" string.
function done(summary, latency, requests)
  local good_total, failures = 0, {}
  for _, thread in ipairs(threads) do
    good_total = good_total + (thread:get("good") or 0)
    for key, count in (thread:get("statuses_text") or ""):gmatch("([%w_]+)=(%d+)") do
      failures[key] = (failures[key] or 0) + tonumber(count)
    end
  end
  local parts = {}
  for key, count in pairs(failures) do parts[#parts + 1] = string.format('"%s":%d', key, count) end
  local e = summary.errors
  local out = assert(io.open(assert(os.getenv("BENCH_RESULT"), "BENCH_RESULT missing"), "w"))
  out:write(string.format(
    '{"threads":%d,"requests":%d,"good":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"failed":{%s}}\n',
    #threads, summary.requests, good_total, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
  out:close()
end
