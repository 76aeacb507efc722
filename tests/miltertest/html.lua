-- html.lua - HTML mail becomes text/plain through the milter protocol.
--
-- Globals (miltertest -D): lib, T, sock, log, pid, spool (see lib.lua),
-- and two HTML messages with their MIME headers (Content-Type,
-- Content-Transfer-Encoding, MIME-Version) and what "mugai sanitize"
-- made of each:
--   SMALL, SMALL_CLI   ASCII: the new body is 7-bit text, one chunk
--   BIG, BIG_CLI       Japanese: the new body is UTF-8, so encoded, and
--                      longer than milter_body_chunk=1000
--
-- The final reply must be SMFIR_CONTINUE; the three MIME headers
-- deleted, and text/plain ones added (a Content-Transfer-Encoding too
-- when the text needs one); X-Mugai-Status and X-Mugai-Id added;
-- nothing else of the header touched; the new body the one mugai
-- sanitize makes (lib.lua's like_cli).  The ASCII body is read here:
-- the visible text is in it, the script and the tags are not; the
-- runner reads the encoded one through Python's email parser.
-- Writes T/html-QID.id (the X-Mugai-Id) for the runner, and prints
-- "BEGIN QID" / "END QID chunks=N bytes=M" around each end of message,
-- so the runner can compare with miltertest -vv's count of the
-- replace-body requests.
local L = dofile(lib)

local function one(qid, path, cli_path, visible)
	local msg = L.read_eml(path)
	local conn = L.connect("198.51.100.1")
	L.envelope(conn, qid, "alice@example.org", { "staff@city.lg.jp" })
	L.headers(conn, qid, msg)
	L.body(conn, qid, msg.body)
	mt.echo("BEGIN " .. qid)
	local r = L.eom(conn, qid)
	L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, expected "
	    .. "SMFIR_CONTINUE", qid, L.rname(r))

	for _, h in ipairs({ "Content-Type", "Content-Transfer-Encoding",
	    "MIME-Version" }) do
		L.check(L.field(msg, h) ~= nil, "%s: the test message has no "
		    .. "%s", qid, h)
		L.check(mt.eom_check(conn, MT_HDRDELETE, h),
		    "%s: %s was not deleted", qid, h)
	end
	local ct = L.added(conn, "Content-Type")
	L.check(ct ~= nil and ct:lower():match("^text/plain;") ~= nil,
	    "%s: Content-Type added as %s, expected text/plain", qid,
	    tostring(ct))
	L.check(L.added(conn, "MIME-Version") == "1.0",
	    "%s: MIME-Version 1.0 was not added", qid)
	if visible == nil then
		local cte = L.added(conn, "Content-Transfer-Encoding")
		L.check(cte == "base64" or cte == "quoted-printable",
		    "%s: Content-Transfer-Encoding added as %s, expected "
		    .. "base64 or quoted-printable", qid, tostring(cte))
	end
	for _, h in ipairs({ "From", "To", "Subject", "Date", "Message-ID" }) do
		L.check(not mt.eom_check(conn, MT_HDRCHANGE, h),
		    "%s: %s was changed or deleted", qid, h)
	end
	local status = L.added(conn, "X-Mugai-Status")
	L.check(status ~= nil and status:match("^sanitised;") and
	    L.has(status, "converted=1") and L.has(status, "removed=0"),
	    "%s: X-Mugai-Status %s, expected sanitised, converted=1, "
	    .. "removed=0", qid, tostring(status))

	local id, body, n = L.like_cli(conn, qid, cli_path)
	mt.echo(string.format("END %s chunks=%d bytes=%d", qid, n, #body))

	-- What the recipient reads.
	for _, text in ipairs(visible or {}) do
		L.check(L.has(body, text), "%s: the new body lacks the "
		    .. "visible text %q", qid, text)
	end
	if visible ~= nil then
		L.check(not L.has(body, "SCRIPT-MUST-GO") and
		    not L.has(body:lower(), "<script") and
		    not L.has(body:lower(), "<p>"),
		    "%s: the script or HTML tags are in the new body", qid)
		L.check(L.has(body, "ID: " .. id), "%s: the notice does not "
		    .. "quote X-Mugai-Id %s", qid, id)
	end

	L.write(T .. "/html-" .. qid .. ".id", id .. "\n")
	mt.disconnect(conn)
end

L.main(function()
	one("HTML1", SMALL, SMALL_CLI, {
		"Visible text: the budget meeting moved to Friday.",
		"https://example.jp/agenda",
	})
	one("HTML2", BIG, BIG_CLI, nil)
end)
