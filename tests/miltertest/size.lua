-- size.lua - max_message_size: a message over it is refused at the body
-- chunk that takes it over, before end of message; when the milter took
-- no reply to body chunks (SMFIP_NR_BODY), at end of message.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   QID    queue id of the message
--   SIZE   bytes of body to send, in chunks of 500
--   LIMIT  the max_message_size in force, in bytes
--   WANT   "reject": the milter must reply with a code
--          (SMFIR_REPLYCODE: 552 5.3.4, whose text miltertest does not
--          keep; the runner checks it with rawmta.py and the log) to
--          the very chunk that takes the message over LIMIT, and then
--          a small message on the same connection must go through;
--          "deliver": the whole message goes through and is sanitised
-- The size counted is the message as the milter holds it: each header
-- field as "Name:value\r\n", the blank line, the body.
local L = dofile(lib)

local function run()
	local size, limit = tonumber(SIZE), tonumber(LIMIT)
	local fields = {
		{ name = "From", value = " Erin <erin@example.org>" },
		{ name = "To", value = " staff@city.lg.jp" },
		{ name = "Subject", value = " size " .. SIZE },
	}
	local head = 2
	for _, f in ipairs(fields) do
		head = head + #f.name + 1 + #f.value + 2
	end
	local line = string.rep("0123456789", 4) ..
	    "abcdefghijklmnopqrstuvwxyz\r\n"
	local body = string.rep(line, size // #line + 1):sub(1, size - 2) ..
	    "\r\n"

	local conn = L.connect("198.51.100.1")
	L.envelope(conn, QID, "erin@example.org", { "staff@city.lg.jp" })
	L.headers(conn, QID, { fields = fields })
	if WANT == "deliver" then
		L.check(head + size <= limit, "SIZE %d is over LIMIT %d",
		    size, limit)
		L.body(conn, QID, body, 500)
		local r = L.eom(conn, QID)
		L.check(r == SMFIR_CONTINUE, "%s: end of message: %s, "
		    .. "expected SMFIR_CONTINUE", QID, L.rname(r))
		L.check(mt.eom_check(conn, MT_BODYCHANGE),
		    "%s: not sanitised", QID)
		mt.disconnect(conn)
		return
	end

	L.check(head + size > limit, "SIZE %d is not over LIMIT %d", size,
	    limit)
	-- Without a reply to body chunks (SMFIP_NR_BODY) the refusal comes
	-- at end of message.
	local nr_body = mt.test_option(conn, L.NR_BODY)
	local pos, n = 1, 0
	while true do
		local chunk = body:sub(pos, pos + 499)
		pos = pos + #chunk
		n = n + 1
		local held = head + pos - 1
		local want = held > limit and SMFIR_REPLYCODE or SMFIR_CONTINUE
		if nr_body then
			want = SMFIR_CONTINUE
		end
		L.step(conn, string.format("%s: body chunk %d (%d bytes in "
		    .. "all)", QID, n, held), mt.bodystring(conn, chunk), want)
		if want ~= SMFIR_CONTINUE or pos > #body then
			break
		end
	end
	if nr_body then
		local r = L.eom(conn, QID)
		L.check(r == SMFIR_REPLYCODE, "%s: end of message: %s, "
		    .. "expected SMFIR_REPLYCODE", QID, L.rname(r))
	end
	-- The next message on this connection is not affected.
	local small = {
		fields = { { name = "Subject", value = " small" } },
		body = "small\r\n",
	}
	local r = L.send(conn, QID .. "S", "erin@example.org",
	    { "staff@city.lg.jp" }, small)
	L.check(r == SMFIR_CONTINUE, "%sS: a small message after the "
	    .. "refused one: %s, expected SMFIR_CONTINUE", QID, L.rname(r))
	mt.disconnect(conn)
end

L.main(run)
