-- abort.lua - the MTA aborts messages midway; the connection goes on.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG      a whole message (sent after each abort)
--   INFILE   "1" when the milter runs with spool_memory_max=0, so that
--            every message is spooled to a (nameless) file in spool as
--            soon as it has a byte: then the milter's open files show
--            the spool file come with the message and go with the
--            abort.  "0": the spool stays in memory, no file at all.
--
-- On one connection:
--   ABT1  aborted after two header fields
--   ABT2  whole message: delivered
--   ABT3  aborted in the middle of the body
--   ABT4  whole message: delivered
-- After each abort the milter must hold no spool file any more.
-- The runner checks the log ("aborted by the MTA" for ABT1 and ABT3,
-- no summary line for them, one for ABT2 and ABT4) and that the spool
-- directory is empty.
local L = dofile(lib)

local msg, conn
local during = INFILE == "1" and 1 or 0

local function files(when, want)
	local n = L.spool_files()
	L.check(n == want, "%s: the milter has %d files open in %s, "
	    .. "expected %d", when, n, spool, want)
end

-- The abort has no reply, and the next MAIL FROM would end the message
-- anyway: a HELO (what an MTA sends on a new EHLO) gets a reply and
-- shows whether the abort itself let go of the message.
local function aborted(qid)
	L.check(mt.abort(conn) == nil, "%s: abort failed", qid)
	L.step(conn, qid .. ": HELO after the abort",
	    mt.helo(conn, "client.example.net"), SMFIR_CONTINUE)
	files(qid .. " after the abort", 0)
end

local function whole(qid)
	L.envelope(conn, qid, "carol@example.org", { "staff@city.lg.jp" })
	files(qid .. " after MAIL FROM", 0)
	L.headers(conn, qid, msg)
	files(qid .. " after its header", during)
	L.body(conn, qid, msg.body)
	local r = L.eom(conn, qid)
	L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, expected "
	    .. "SMFIR_CONTINUE", qid, L.rname(r))
	L.check(mt.eom_check(conn, MT_BODYCHANGE) and
	    mt.getheader(conn, "X-Mugai-Id", 0) ~= nil,
	    "%s: not sanitised", qid)
	files(qid .. " after end of message", 0)
end

local function run()
	msg = L.read_eml(MSG)
	conn = L.connect("198.51.100.1")
	files("before any message", 0)

	L.envelope(conn, "ABT1", "carol@example.org", { "staff@city.lg.jp" })
	L.step(conn, "ABT1: header From", mt.header(conn, "From",
	    "Carol <carol@example.org>"), SMFIR_CONTINUE)
	L.step(conn, "ABT1: header Subject", mt.header(conn, "Subject",
	    "to be aborted"), SMFIR_CONTINUE)
	files("ABT1 after two header fields", during)
	aborted("ABT1")
	whole("ABT2")

	L.envelope(conn, "ABT3", "carol@example.org", { "staff@city.lg.jp" })
	L.headers(conn, "ABT3", msg)
	L.step(conn, "ABT3: body", mt.bodystring(conn,
	    msg.body:sub(1, #msg.body // 2)), SMFIR_CONTINUE)
	files("ABT3 in the middle of the body", during)
	aborted("ABT3")
	whole("ABT4")

	mt.disconnect(conn)
end

L.main(run)
