/**
 * Lua run once when the VM starts, before the globals are sealed: the Lua
 * 5.1 functions Redis scripts may use that Lua 5.3 renamed or dropped
 * (those that call back into Lua are in JS: base51.ts and its siblings),
 * the 5.3 additions Redis does not have, the libraries a script must not
 * reach (io, os, require...), and Redis's own global error handler.
 */
export const PRELUDE = `
local floor, fmod, log, next, type, error = math.floor, math.fmod, math.log, next, type, error
_VERSION = "Lua 5.1"
table.getn = function(t) return #t end
table.setn = function() error("'setn' is obsolete", 2) end
table.maxn = function(t)
  local max = 0
  for k in next, t do if type(k) == "number" and k > max then max = k end end
  return max
end
table.foreach = function(t, f)
  for k, v in next, t do local r = f(k, v) if r ~= nil then return r end end
end
table.foreachi = function(t, f)
  for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end
end
table.unpack, table.pack, table.move = nil, nil, nil
math.mod = fmod
math.pow = function(x, y) return x ^ y end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 elseif math.abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e + 0.0
end
math.log10 = function(x) return log(x, 10) end
math.atan2 = function(y, x) return math.atan(y, x) end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
math.tointeger, math.type, math.ult, math.maxinteger, math.mininteger = nil, nil, nil, nil, nil
string.gfind = string.gmatch
string.pack, string.unpack, string.packsize = nil, nil, nil
gcinfo = function() return collectgarbage("count") end
local dbg = debug
__redis__err__handler = function(err)
  local i = dbg.getinfo(2, "nSl")
  if i and i.what == "C" then i = dbg.getinfo(3, "nSl") end
  if type(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  if i then err.source = i.source err.line = i.currentline end
  return err
end
print, dofile, loadfile, require, package, io, os, debug, utf8, rawlen, fengari = nil
`;
