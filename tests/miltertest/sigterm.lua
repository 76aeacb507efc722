-- sigterm.lua - SIGTERM while a message is in flight.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG   an HTML message
-- Handshake with the runner through files, so nothing depends on time:
--   1. FLIGHT1 is started on connection A and left after its first body
--      chunk; connections B (miltertest's offer: the milter takes no
--      reply to MAIL FROM) and C (an MTA before protocol 6,
--      L.OLD_OFFER) are opened and greeted but have no message.  Then
--      T/term.ready is created.
--   2. The runner sends SIGTERM, waits for the milter to log that it
--      defers new messages, and creates T/term.go.
--   3. A new message must be deferred (SMFIR_REPLYCODE: 451 4.3.2; the
--      runner checks the log): on C at its MAIL FROM, on B at its end of
--      headers.  Then FLIGHT1 is finished on A and must be sanitised as
--      usual.
local L = dofile(lib)

local function run()
	local msg = L.read_eml(MSG)
	local half = #msg.body // 2

	local a = L.connect("198.51.100.1")
	L.envelope(a, "FLIGHT1", "grace@example.org", { "staff@city.lg.jp" })
	L.headers(a, "FLIGHT1", msg)
	L.step(a, "FLIGHT1: first body chunk", mt.bodystring(a,
	    msg.body:sub(1, half)), SMFIR_CONTINUE)
	local b = L.connect("198.51.100.2")
	local c = L.connect("198.51.100.3", { options = L.OLD_OFFER })
	L.check(mt.test_option(b, L.NR_MAIL) and
	    not mt.test_option(c, L.NR_MAIL), "SMFIP_NR_MAIL: taken on B "
	    .. "%s, on C %s; expected on B only",
	    tostring(mt.test_option(b, L.NR_MAIL)),
	    tostring(mt.test_option(c, L.NR_MAIL)))

	L.write(T .. "/term.ready", "")
	L.wait_file(T .. "/term.go", 600)

	L.envelope(b, "LATE1", "grace@example.org", { "staff@city.lg.jp" },
	    SMFIR_REPLYCODE)
	mt.disconnect(b)
	L.envelope(c, "LATE2", "grace@example.org", { "staff@city.lg.jp" },
	    SMFIR_REPLYCODE)
	mt.disconnect(c)

	L.step(a, "FLIGHT1: second body chunk", mt.bodystring(a,
	    msg.body:sub(half + 1)), SMFIR_CONTINUE)
	local r = L.eom(a, "FLIGHT1")
	L.check(r == SMFIR_CONTINUE, "FLIGHT1: end of message after "
	    .. "SIGTERM: %s, expected SMFIR_CONTINUE", L.rname(r))
	L.check(mt.eom_check(a, MT_BODYCHANGE) and
	    mt.getheader(a, "X-Mugai-Id", 0) ~= nil,
	    "FLIGHT1: not sanitised")
	mt.disconnect(a)
end

L.main(run)
