-- serve.lua - the milter is serving: one message through, sanitised.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG   a message file
--   QID   its queue id
-- End of message must be SMFIR_CONTINUE with an X-Mugai-Status added,
-- which only a milter that loaded its configuration and the ClamAV
-- database answers (before, the message is deferred).
local L = dofile(lib)

local function run()
	local conn = L.connect("198.51.100.7")
	local r = L.send(conn, QID, "alice@example.org",
	    { "staff@city.lg.jp" }, L.read_eml(MSG))
	L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, expected "
	    .. "SMFIR_CONTINUE", QID, L.rname(r))
	L.check(L.added(conn, "X-Mugai-Status") ~= nil,
	    "%s: no X-Mugai-Status added", QID)
	mt.disconnect(conn)
end

L.main(run)
