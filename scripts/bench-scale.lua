-- wrk script for scripts/bench-scale.sh: one page, with the session cookie, and a random
-- certificate number ({number}) or learner of the first centre ({learner}) per request.
-- Environment: COOKIE, PATH_TEMPLATE, NUMBERS (file, one a line), LEARNERS (file).
local cookie = os.getenv("COOKIE") or ""
local template = os.getenv("PATH_TEMPLATE") or "/"

local function lines(file)
  local t = {}
  if file then
    local f = io.open(file, "r")
    if f then
      for l in f:lines() do if l ~= "" then t[#t + 1] = l end end
      f:close()
    end
  end
  return t
end

local numbers = lines(os.getenv("NUMBERS"))
local learners = lines(os.getenv("LEARNERS"))

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local path = template
  if #numbers > 0 then
    path = path:gsub("{number}", function() return numbers[math.random(#numbers)] end)
  end
  if #learners > 0 then
    path = path:gsub("{learner}", function() return learners[math.random(#learners)] end)
  end
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = "credence_session=" .. cookie end
  return wrk.format("GET", path, headers)
end
