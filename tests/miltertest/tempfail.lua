-- tempfail.lua - a message that cannot be sanitised for sure is
-- deferred with 451 4.3.0, and nothing of it is passed on.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG   a message that needs its original kept (an attachment is
--         removed), sent to a milter whose quarantine cannot store it
--   QID   its queue id
-- Then a plain text message (nothing to keep) on the same connection
-- must still go through.
local L = dofile(lib)

local function run()
	local msg = L.read_eml(MSG)
	local conn = L.connect("198.51.100.1")
	local r = L.send(conn, QID, "bob@example.org", { "staff@city.lg.jp" },
	    msg)
	L.check(r == SMFIR_REPLYCODE, "%s: end of message: %s, expected "
	    .. "a reply with a code (SMFIR_REPLYCODE)", QID, L.rname(r))
	L.check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
	    "Temporary failure while sanitising the message; please try "
	    .. "again later"), "%s: the reply is not 451 4.3.0 (temporary "
	    .. "failure)", QID)
	for _, op in ipairs({ "MT_BODYCHANGE", "MT_HDRADD", "MT_HDRCHANGE",
	    "MT_HDRINSERT" }) do
		L.check(not mt.eom_check(conn, _G[op]), "%s: a deferred "
		    .. "message was edited (%s)", QID, op)
	end
	local summary = L.summary(QID)
	L.check(L.has(summary, " action=deferred "), "%s: summary line %q",
	    QID, summary)

	local plain = {
		fields = {
			{ name = "From", value = " Bob <bob@example.org>" },
			{ name = "To", value = " staff@city.lg.jp" },
			{ name = "Subject", value = " plain text" },
		},
		body = "Just text.\r\n",
	}
	r = L.send(conn, QID .. "P", "bob@example.org", { "staff@city.lg.jp" },
	    plain)
	L.check(r == SMFIR_CONTINUE, "%sP: a plain message after the "
	    .. "deferred one: %s, expected SMFIR_CONTINUE", QID, L.rname(r))
	mt.disconnect(conn)
end

L.main(run)
