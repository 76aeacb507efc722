-- twomsg.lua - two messages on one connection are sanitised each on
-- its own.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG1, CLI1   a message with an executable attachment, and what
--                "mugai sanitize" made of it
--   MSG2, CLI2   an HTML message, and what mugai sanitize made of it
-- TWO1 then TWO2 on the same connection: each must come out exactly as
-- mugai sanitize makes it alone (so nothing of the first - removed
-- parts, headers, body - leaks into the second), under its own
-- X-Mugai-Id.  The ids go to T/twomsg-TWO1.id and T/twomsg-TWO2.id;
-- the runner checks the quarantine by queue id.
local L = dofile(lib)

local function run()
	local conn = L.connect("198.51.100.1")
	local ids = {}
	for i, m in ipairs({ { "TWO1", MSG1, CLI1, "removed=1" },
	    { "TWO2", MSG2, CLI2, "removed=0" } }) do
		local qid, path, cli, removed = m[1], m[2], m[3], m[4]
		local r = L.send(conn, qid, "dave@example.org",
		    { "staff@city.lg.jp" }, L.read_eml(path))
		L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, "
		    .. "expected SMFIR_CONTINUE", qid, L.rname(r))
		local id = L.like_cli(conn, qid, cli)
		local status = L.added(conn, "X-Mugai-Status")
		L.check(L.has(status, removed), "%s: X-Mugai-Status %q, "
		    .. "expected %s", qid, status, removed)
		-- One X-Mugai-Id and one X-Mugai-Status for each message.
		L.check(mt.getheader(conn, "X-Mugai-Id", 1) == nil and
		    mt.getheader(conn, "X-Mugai-Status", 1) == nil,
		    "%s: more than one X-Mugai-Id or X-Mugai-Status", qid)
		local summary = L.summary(qid)
		L.check(L.has(summary, " id=" .. id .. " ") and
		    L.has(summary, " " .. removed .. " "),
		    "%s: summary line %q", qid, summary)
		ids[i] = id
		L.write(T .. "/twomsg-" .. qid .. ".id", id .. "\n")
	end
	L.check(ids[1] ~= ids[2], "both messages got X-Mugai-Id %s", ids[1])
	mt.disconnect(conn)
end

L.main(run)
