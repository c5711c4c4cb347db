-- A member with an invitation link, one per wrk thread (run wrk with as many threads as
-- connections): GET the form behind the link (which hands out the CSRF cookie, the page's token
-- and a submission key), POST a complete answer set with them, then take the next link and start again.
-- Arguments after "--": a directory with one file of link paths per thread (named 1, 2, …),
-- and the url-encoded answers (without _csrf and _key).

threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("number", count)
  table.insert(threads, thread)
end

local links, next_link = {}, 1
local answers, path
local state = "get"
local key, csrf, cookie
flows, failures = 0, 0

function init(args)
  for line in io.lines(args[1] .. "/" .. number) do table.insert(links, line) end
  answers = args[2]
  path = links[next_link]
end

function request()
  if state == "post" then
    local body = answers .. "&_csrf=" .. csrf .. "&_key=" .. key
    return wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = cookie,
    }, body)
  end
  local headers = {}
  if cookie then headers["Cookie"] = cookie end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  if state == "get" then
    -- HAProxy (bench/instances) passes header names in lower case.
    local set = headers["Set-Cookie"] or headers["set-cookie"]
    if set then
      local value = set:match("kp_csrf=(%x+)")
      if value then cookie = "kp_csrf=" .. value end
    end
    -- The token is on the page, bound to that cookie (not the cookie's value).
    csrf = body:match('name="_csrf" value="(%x+)"') or csrf
    key = body:match('name="_key" value="(%x+)"')
    if status == 200 and key and csrf then
      state = "post"
    else
      failures = failures + 1
      next_link = next_link + 1
      path = links[next_link] or path
    end
  else
    if status == 200 and body:find("data-clear-draft", 1, true) then
      flows = flows + 1
    else
      failures = failures + 1
    end
    next_link = next_link + 1
    path = links[next_link] or path
    state = "get"
  end
end

function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("flows")
    failed = failed + thread:get("failures")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT flows=%d failures=%d seconds=%.2f flows_per_second=%.1f requests_per_second=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    total, failed, seconds, total / seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
