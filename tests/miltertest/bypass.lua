-- bypass.lua - bypass_client_networks and bypass_recipients.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG   an HTML message (it would be rewritten if not bypassed)
-- The milter runs with bypass_client_networks=192.0.2.0/24 and
-- bypass_recipients=@internal.example.
--   BYP1  from 192.0.2.7: accepted at MAIL FROM (SMFIR_ACCEPT: the MTA
--         asks nothing more and the message passes unchanged)
--   SAN1  from 198.51.100.1: sanitised (body replaced at end of message)
--   BYP2  every recipient @internal.example (in any case): accepted at
--         end of headers, when the recipients are all known
--   SAN2  one recipient outside: sanitised
-- The runner checks the log's "bypassed" lines and summary lines.
local L = dofile(lib)

local msg

local function sanitised(qid, rcpts)
	local conn = L.connect("198.51.100.1")
	local r = L.send(conn, qid, "frank@example.org", rcpts, msg)
	L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, expected "
	    .. "SMFIR_CONTINUE", qid, L.rname(r))
	L.check(mt.eom_check(conn, MT_BODYCHANGE) and
	    mt.eom_check(conn, MT_HDRDELETE, "Content-Type") and
	    mt.getheader(conn, "X-Mugai-Id", 0) ~= nil,
	    "%s: not sanitised", qid)
	mt.disconnect(conn)
end

local function run()
	msg = L.read_eml(MSG)

	local conn = L.connect("192.0.2.7")
	L.envelope(conn, "BYP1", "frank@example.org", {}, SMFIR_ACCEPT)
	mt.disconnect(conn)

	sanitised("SAN1", { "staff@city.lg.jp" })

	conn = L.connect("198.51.100.1")
	L.envelope(conn, "BYP2", "frank@example.org",
	    { "staff@internal.example", "Chief@Internal.Example" })
	L.headers(conn, "BYP2", msg, SMFIR_ACCEPT)
	mt.disconnect(conn)

	sanitised("SAN2", { "staff@internal.example", "staff@city.lg.jp" })
end

L.main(run)
