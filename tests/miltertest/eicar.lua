-- eicar.lua - a virus is refused at end of message with 550 5.7.1.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG   a message with the EICAR test file as a base64 attachment
--         (written by the runner at test time, never stored)
--   QID   its queue id
-- The final reply must be SMFIR_REPLYCODE carrying "550 5.7.1" and a
-- text that names the signature and the message's id, with no edit at
-- all.  miltertest can only match the whole reply, so the signature
-- and id are taken from the milter's summary line, which is logged
-- before the reply is sent.
local L = dofile(lib)

local function run()
	local msg = L.read_eml(MSG)
	local conn = L.connect("198.51.100.1")
	local r = L.send(conn, QID, "mallory@example.net",
	    { "staff@city.lg.jp" }, msg)
	L.check(r == SMFIR_REPLYCODE, "%s: end of message: %s, expected "
	    .. "a reply with a code (SMFIR_REPLYCODE)", QID, L.rname(r))

	local summary = L.summary(QID)
	local id = summary:match(" id=(%S+) ")
	local sigs = summary:match(" signatures=(%S+)")
	L.check(id ~= nil and id:match(L.ID_PATTERN), "%s: no id in %q",
	    QID, summary)
	L.check(sigs ~= nil and L.has(sigs, "EICAR"), "%s: no EICAR "
	    .. "signature in %q", QID, summary)
	L.check(L.has(summary, " action=rejected "), "%s: summary line %q",
	    QID, summary)
	local text = "Message refused: virus found (" .. sigs .. ") [" ..
	    id .. "]"
	L.check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", text),
	    "%s: the reply is not 550 5.7.1 %q", QID, text)

	for _, op in ipairs({ "MT_BODYCHANGE", "MT_HDRADD", "MT_HDRCHANGE",
	    "MT_HDRINSERT" }) do
		L.check(not mt.eom_check(conn, _G[op]), "%s: a refused "
		    .. "message was edited (%s)", QID, op)
	end
	mt.disconnect(conn)
end

L.main(run)
