-- attach.lua - an attachment the policy does not allow is removed.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG, CLI   a message with a text part and an executable attachment
--              (setup.exe), and what "mugai sanitize" made of it
--   QID        its queue id
-- The milter must deliver (SMFIR_CONTINUE) the CLI's result (lib.lua's
-- like_cli): X-Mugai-Status says removed=1, the body has the text part
-- and the notice naming setup.exe, and the summary line agrees.  The
-- runner then looks for the original in the quarantine under the
-- X-Mugai-Id written to T/attach-QID.id.
local L = dofile(lib)

local function run()
	local msg = L.read_eml(MSG)
	local conn = L.connect("198.51.100.1")
	local r = L.send(conn, QID, "bob@example.org",
	    { "staff@city.lg.jp", "chief@city.lg.jp" }, msg)
	L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, expected "
	    .. "SMFIR_CONTINUE", QID, L.rname(r))
	L.check(mt.eom_check(conn, MT_HDRDELETE, "Content-Type"),
	    "%s: the multipart Content-Type was not deleted", QID)

	local id, body = L.like_cli(conn, QID, CLI)
	local status = L.added(conn, "X-Mugai-Status")
	L.check(L.has(status, "removed=1"), "%s: X-Mugai-Status %q, "
	    .. "expected removed=1", QID, status)
	L.check(L.has(body, "Please run the attached installer."),
	    "%s: the text part is not in the new body", QID)
	L.check(L.has(body, "setup.exe"), "%s: the notice does not name "
	    .. "setup.exe", QID)
	-- "TVqQ" is the base64 of "MZ\x90".
	L.check(not L.has(body, "TVqQ") and not L.has(body, "This program"),
	    "%s: the executable is still in the new body", QID)

	local summary = L.summary(QID)
	L.check(L.has(summary, " id=" .. id .. " ") and
	    L.has(summary, " removed=1") and
	    L.has(summary, " action=delivered"),
	    "%s: summary line %q", QID, summary)

	L.write(T .. "/attach-" .. QID .. ".id", id .. "\n")
	mt.disconnect(conn)
end

L.main(run)
