-- wrk script: the three core callbacks in turn, each with a unique key (thread id × counter),
-- signed query strings prepared by bench/run.ts (valid for the run: RequestTime is refreshed per case).
local threads = {}
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local counter = 0
-- KEY_BASE: where this run's numbering starts (bench/run.ts gives every wrk run its own), so that
-- no two runs send the same idempotency key.
local key_base = tonumber(os.getenv("KEY_BASE") or "0")
local q_before = os.getenv("Q_BEFORE")
local q_recall = os.getenv("Q_RECALL")
local q_withdraw = os.getenv("Q_WITHDRAW")
local only = os.getenv("ONLY") -- "before" to send before-send callbacks only
-- SENDERS: how many distinct senders the before-sends come from (default 97, one per group).
local senders = tonumber(os.getenv("SENDERS") or "97")
-- DELAY_MS: pace each connection (a pause after every answer): rate ≈ connections ÷ (delay + latency).
local delay_ms = tonumber(os.getenv("DELAY_MS") or "")
if delay_ms then
  function delay() return delay_ms end
end

local before = '{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"@TGS#bench%d","Type":"Public","From_Account":"user%d","Operator_Account":"user%d","Random":%d,"OnlineOnlyFlag":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"今晚八点开会，别迟到 — see you at 8pm! #%d"}}],"CloudCustomData":"","EventTime":"1670574414123"}'
local recall = '{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin","Type":"Public","GroupId":"@TGS#bench%d","MsgSeqList":[{"MsgSeq":%d}],"EventTime":"1670574414123"}'
local withdraw = '{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","From_Account":"user%d","To_Account":"peer%d","MsgKey":"%d_%d_1557481126","UnreadMsgNum":7}'

request = function()
  counter = counter + 1
  local n = key_base + tid * 100000000 + counter
  local g = n % 97
  local k = counter % 3
  if only == "before" or k == 0 then
    local u = n % senders
    return wrk.format("POST", "/?" .. q_before, nil, string.format(before, g, u, u, n % 4294967295, n))
  elseif k == 1 then
    return wrk.format("POST", "/?" .. q_recall, nil, string.format(recall, g, n))
  else
    return wrk.format("POST", "/?" .. q_withdraw, nil, string.format(withdraw, g, g, n, n))
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
