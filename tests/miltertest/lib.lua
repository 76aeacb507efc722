-- lib.lua - helpers for the mugai-milter protocol tests (miltertest).
--
-- Each test script is
--
--     local L = dofile(lib)
--     local function run()
--         ...
--     end
--     L.main(run)
--
-- where lib, and the other globals below, come from the runner
-- (tests/e2e/milter-protocol.sh) as "miltertest -D name=value":
--
--     lib    this file
--     T      the runner's scratch directory (files to and from it)
--     sock   the milter's socket, a path (unix:)
--     log    the milter's standard error (its -e log)
--     pid    the milter's process id
--     spool  its spool_dir
--     OFFER  (optional) "old": connect() offers only the protocol
--            options of an MTA before protocol 6 (L.OLD_OFFER), so the
--            milter replies at every step; otherwise miltertest offers
--            all, and the milter takes no reply to connect, HELO, MAIL,
--            RCPT, headers and body chunks
--
-- Every step checks miltertest's result and the milter's reply and
-- calls error() with a message naming the step; main() prints it as
-- "FAILED: ..." and exits 1, so the runner reports it.
--
-- Notes on miltertest (OpenDKIM 2.11) that shape these helpers:
--   * it fills in skipped protocol steps itself, and libmilter drops
--     the MAIL-stage macros when HELO arrives, so connect() does
--     conninfo and HELO first and envelope() sends {i} just before
--     MAIL FROM;
--   * mt.header() copies name and value into a 1024-byte buffer and
--     every reply lands in one too: headers here are kept short, and
--     the milter runs with milter_body_chunk=1000;
--   * with SMFIP_HDR_LEADSPC negotiated, mt.header() sends a space
--     before the value it is given (see headers() below);
--   * mt.negotiate(conn, version, protocol_options, actions): the
--     code takes the options before the actions, whatever the manual
--     says;
--   * replies other than at end of message are not kept, only their
--     code (SMFIR_REPLYCODE for a reply with text);
--   * mt.eom_check(conn, MT_BODYCHANGE, s) compares s with one
--     replace-body request (chunk), and MT_SMTPREPLY needs the code,
--     the enhanced code and the whole text.

local L = {}

-- The read timeout: generous, so a slow (ASan) build is never a failure.
L.TIMEOUT = 120

function L.fail(fmt, ...)
	error(string.format(fmt, ...), 0)
end

-- main(fn): run the test.  miltertest prints a script's error only
-- when it is alone on the Lua stack, which miltertest's own functions
-- do not always leave so, and then it exits 1 without a word: print it
-- here, then exit 1.
function L.main(fn)
	local ok, err = xpcall(fn, function(e)
		if type(e) == "string" and e:match("^[^\n]*:%d+: ") then
			return debug.traceback(e, 2)
		end
		return tostring(e)
	end)
	if not ok then
		io.stdout:flush()
		io.stderr:write("FAILED: " .. tostring(err) .. "\n")
		os.exit(1)
	end
end

function L.check(cond, fmt, ...)
	if not cond then
		L.fail(fmt, ...)
	end
end

local reply_names = {}
for _, n in ipairs({ "SMFIR_CONTINUE", "SMFIR_ACCEPT", "SMFIR_REJECT",
    "SMFIR_TEMPFAIL", "SMFIR_DISCARD", "SMFIR_REPLYCODE" }) do
	if _G[n] ~= nil then
		reply_names[_G[n]] = n
	end
end

-- "SMFIR_CONTINUE", or the reply's character.
function L.rname(r)
	if r == nil then
		return "nothing"
	end
	if reply_names[r] then
		return reply_names[r]
	end
	if r == 0 then
		return "no reply yet"
	end
	return string.format("'%s'", string.char(math.floor(r)))
end

-- step(conn, what, result, want): miltertest's result must be nil and
-- the milter's last reply want.
function L.step(conn, what, res, want)
	L.check(res == nil, "%s: miltertest: %s", what, tostring(res))
	local got = mt.getreply(conn)
	L.check(got == want, "%s: the milter replied %s, expected %s", what,
	    L.rname(got), L.rname(want))
end

-- ---- files ----------------------------------------------------------

function L.read(path)
	local f, err = io.open(path, "rb")
	L.check(f ~= nil, "cannot read %s: %s", path, tostring(err))
	local data = f:read("a")
	f:close()
	return data
end

function L.write(path, data)
	local f, err = io.open(path, "wb")
	L.check(f ~= nil, "cannot write %s: %s", path, tostring(err))
	f:write(data)
	f:close()
end

function L.exists(path)
	local f = io.open(path, "rb")
	if f then
		f:close()
		return true
	end
	return false
end

-- Wait (without any time limit of our own beyond seconds) for a file
-- the runner creates.
function L.wait_file(path, seconds)
	local waited = 0
	while not L.exists(path) do
		L.check(waited < seconds, "waited %ds for %s", seconds, path)
		mt.sleep(0.05)
		waited = waited + 0.05
	end
end

-- A message file: its header fields as the MTA passes them (name, and
-- the value after the colon with its leading white space; a folded
-- field keeps its line breaks as "\n"), and its body with CRLF line
-- ends, as SMTP delivers it.
function L.read_eml(path)
	local data = L.read(path):gsub("\r\n", "\n")
	local head, body = data:match("^(.-)\n\n(.*)$")
	if head == nil then
		head, body = data, ""
	end
	local fields = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #fields > 0 then
			fields[#fields].value = fields[#fields].value .. "\n" ..
			    line
		else
			local name, value = line:match("^([^:]+):(.*)$")
			L.check(name ~= nil, "%s: not a header field: %q", path,
			    line)
			fields[#fields + 1] = { name = name, value = value }
		end
	end
	return { fields = fields, body = body:gsub("\n", "\r\n") }
end

-- The first value of a header field (case-insensitive), without the
-- white space around it; nil when absent.
function L.field(msg, name)
	for _, f in ipairs(msg.fields) do
		if f.name:lower() == name:lower() then
			return (f.value:gsub("^%s+", ""):gsub("%s+$", ""))
		end
	end
	return nil
end

-- Plain-text find (no Lua patterns).
function L.has(s, needle)
	return s ~= nil and s:find(needle, 1, true) ~= nil
end

-- Replace every occurrence of plain text a by b.
function L.replace(s, a, b)
	local out, pos = {}, 1
	while true do
		local i, j = s:find(a, pos, true)
		if i == nil then
			break
		end
		out[#out + 1] = s:sub(pos, i - 1)
		out[#out + 1] = b
		pos = j + 1
	end
	out[#out + 1] = s:sub(pos)
	return table.concat(out)
end

-- ---- the milter's log -----------------------------------------------

-- Lines of the milter's log that contain text (plain).
function L.log_lines(text)
	local found = {}
	for line in L.read(log):gmatch("[^\n]+") do
		if L.has(line, text) then
			found[#found + 1] = line
		end
	end
	return found
end

-- The one summary line for queue id qid: "QID: from=<...> ... id=...".
function L.summary(qid)
	local lines = {}
	for _, line in ipairs(L.log_lines(": " .. qid .. ": from=<")) do
		if L.has(line, " action=") then
			lines[#lines + 1] = line
		end
	end
	L.check(#lines == 1, "%d summary lines for %s in %s, expected 1",
	    #lines, qid, log)
	return lines[1]
end

-- ---- the milter's files ---------------------------------------------

-- How many of the milter's open files are in its spool directory.
function L.spool_files()
	local p = io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null")
	local out = p:read("a")
	p:close()
	L.check(L.has(out, " -> "), "cannot list the open files of process %s",
	    pid)
	local n = 0
	for line in out:gmatch("[^\n]+") do
		if L.has(line, " -> " .. spool .. "/") then
			n = n + 1
		end
	end
	return n
end

-- ---- protocol steps -------------------------------------------------

-- The protocol options of an MTA before protocol 6 (Postfix with
-- milter_protocol=4): it cannot skip replies but to headers, which
-- libmilter answers for it.
L.OLD_OFFER = 0x3FF
-- SMFIP_NR_MAIL, SMFIP_NR_BODY: no reply to MAIL FROM, to body chunks.
L.NR_MAIL = 0x4000
L.NR_BODY = 0x80000

-- connect(ip, opts): a new connection, negotiated (the defaults, or
-- opts.options / opts.actions), with connection information and HELO.
function L.connect(ip, opts)
	opts = opts or {}
	if opts.options == nil and OFFER == "old" then
		opts.options = L.OLD_OFFER
	end
	mt.set_timeout(L.TIMEOUT)
	-- Retries instead of a sleep: the socket appears when it appears.
	local conn = mt.connect("unix:" .. sock, 2400, 0.05)
	L.check(conn ~= nil, "cannot connect to %s", sock)
	if opts.options ~= nil or opts.actions ~= nil then
		local res = mt.negotiate(conn, 6, opts.options, opts.actions)
		L.check(res == nil, "negotiation: %s", tostring(res))
	end
	L.step(conn, "connect from " .. ip,
	    mt.conninfo(conn, "client.example.net", ip), SMFIR_CONTINUE)
	L.step(conn, "HELO", mt.helo(conn, "client.example.net"),
	    SMFIR_CONTINUE)
	return conn
end

-- envelope(conn, qid, from, rcpts, want): {i} = qid, MAIL FROM, RCPT
-- TO.  With want (the reply expected to MAIL FROM) other than
-- SMFIR_CONTINUE no recipient is sent; but when the milter took no
-- reply to MAIL FROM (SMFIP_NR_MAIL), miltertest shows SMFIR_CONTINUE
-- there, the recipients and a Subject follow, and want must come at
-- end of headers, where the milter answers what it decided.
function L.envelope(conn, qid, from, rcpts, want)
	want = want or SMFIR_CONTINUE
	local res = mt.macro(conn, SMFIC_MAIL, "i", qid)
	L.check(res == nil, "%s: macro i: %s", qid, tostring(res))
	local later = want ~= SMFIR_CONTINUE and
	    mt.test_option(conn, L.NR_MAIL)
	L.step(conn, qid .. ": MAIL FROM", mt.mailfrom(conn, "<" .. from ..
	    ">"), later and SMFIR_CONTINUE or want)
	if later then
		for _, r in ipairs(rcpts) do
			L.step(conn, qid .. ": RCPT TO " .. r,
			    mt.rcptto(conn, "<" .. r .. ">"), SMFIR_CONTINUE)
		end
		L.headers(conn, qid, { fields = {
		    { name = "Subject", value = " later" } } }, want)
		return
	end
	if want ~= SMFIR_CONTINUE then
		return
	end
	for _, r in ipairs(rcpts) do
		L.step(conn, qid .. ": RCPT TO " .. r,
		    mt.rcptto(conn, "<" .. r .. ">"), SMFIR_CONTINUE)
	end
end

-- headers(conn, qid, msg, want_eoh): every field, then EOH.
-- With SMFIP_HDR_LEADSPC negotiated a value goes with its leading
-- white space, as the message has it, but miltertest's mt.header()
-- puts one space before the value itself: so a value must start with
-- one space, which is taken off here (a value that does not - as in
-- "X-Odd:no-space" - cannot be sent through miltertest at all; the
-- runner's rawmta.py does that).  Without it the MTA takes the white
-- space after the colon away, and so does this.
function L.headers(conn, qid, msg, want_eoh)
	local leadspc = mt.test_option(conn, SMFIP_HDR_LEADSPC)
	for _, f in ipairs(msg.fields) do
		local v = f.value
		if leadspc then
			L.check(v:sub(1, 1) == " ", "%s: miltertest cannot "
			    .. "send %s:%s with SMFIP_HDR_LEADSPC (it adds a "
			    .. "space)", qid, f.name, v)
			v = v:sub(2)
		else
			v = v:gsub("^[ \t]+", "")
		end
		L.check(#f.name + #v < 1000, "%s: field %s too long for "
		    .. "miltertest", qid, f.name)
		L.step(conn, qid .. ": header " .. f.name,
		    mt.header(conn, f.name, v), SMFIR_CONTINUE)
	end
	L.step(conn, qid .. ": end of headers", mt.eoh(conn),
	    want_eoh or SMFIR_CONTINUE)
end

-- body(conn, qid, body, size, want_last): the body in chunks of size
-- bytes; every reply but the last must be SMFIR_CONTINUE.
function L.body(conn, qid, body, size, want_last)
	size = size or 8192
	local pos, n = 1, 0
	while pos <= #body do
		local chunk = body:sub(pos, pos + size - 1)
		pos = pos + #chunk
		n = n + 1
		local want = SMFIR_CONTINUE
		if pos > #body and want_last ~= nil then
			want = want_last
		end
		L.step(conn, string.format("%s: body chunk %d", qid, n),
		    mt.bodystring(conn, chunk), want)
	end
end

-- eom(conn, qid): end of message; returns the milter's final reply.
function L.eom(conn, qid)
	local res = mt.eom(conn)
	L.check(res == nil, "%s: end of message: miltertest: %s", qid,
	    tostring(res))
	return mt.getreply(conn)
end

-- send(conn, qid, from, rcpts, msg): a whole message that must reach
-- end of message; returns the final reply.
function L.send(conn, qid, from, rcpts, msg)
	L.envelope(conn, qid, from, rcpts)
	L.headers(conn, qid, msg)
	L.body(conn, qid, msg.body)
	return L.eom(conn, qid)
end

-- added(conn, name): the value of the header field the milter added
-- at end of message (without the leading space), or nil.
function L.added(conn, name, leadspc)
	local v = mt.getheader(conn, name, 0)
	if v == nil then
		return nil
	end
	if leadspc ~= false then
		L.check(v:sub(1, 1) == " " and v:sub(2, 2) ~= " ",
		    "%s was added as %q: with SMFIP_HDR_LEADSPC the value "
		    .. "must start with exactly one space", name, v)
		v = v:sub(2)
	end
	return v
end

-- new_body(conn, qid, expected, max): the replacement body the milter
-- sent must be expected, byte for byte, in chunks of at most max
-- bytes.  The chunks are found one after the other, longest first, so
-- this does not depend on where the milter cuts.  Returns how many.
function L.new_body(conn, qid, expected, max)
	L.check(mt.eom_check(conn, MT_BODYCHANGE), "%s: the body was not "
	    .. "replaced", qid)
	local pos, n = 1, 0
	while pos <= #expected do
		local found
		for len = math.min(max, #expected - pos + 1), 1, -1 do
			if mt.eom_check(conn, MT_BODYCHANGE,
			    expected:sub(pos, pos + len - 1)) then
				found = len
				break
			end
		end
		L.check(found ~= nil, "%s: the new body differs from the "
		    .. "expected one at byte %d; expected from there: %q", qid,
		    pos, expected:sub(pos, pos + 120))
		pos = pos + found
		n = n + 1
	end
	return n
end

-- The summary line's id= and the X-Mugai-Id look like this.
L.ID_PATTERN = "^%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d%-%x+$"

-- ---- base64, for a new body in it -----------------------------------

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function L.b64decode(s)
	local val = {}
	for i = 1, #B64 do
		val[B64:byte(i)] = i - 1
	end
	local out, acc, bits = {}, 0, 0
	for i = 1, #s do
		local v = val[s:byte(i)]
		if v ~= nil then
			acc = (acc << 6) | v
			bits = bits + 6
			if bits >= 8 then
				bits = bits - 8
				out[#out + 1] =
				    string.char((acc >> bits) & 0xFF)
			end
		end
	end
	return table.concat(out)
end

-- In lines of width characters, each ending in CRLF.
function L.b64encode(s, width)
	local chars = {}
	for i = 1, #s, 3 do
		local a, b, c = s:byte(i, i + 2)
		local n = (a << 16) | ((b or 0) << 8) | (c or 0)
		for k = 0, 3 do
			local idx = (n >> (18 - 6 * k)) & 0x3F
			chars[#chars + 1] = B64:sub(idx + 1, idx + 1)
		end
		if c == nil then
			chars[#chars] = "="
		end
		if b == nil then
			chars[#chars - 1] = "="
		end
	end
	local flat, lines = table.concat(chars), {}
	for i = 1, #flat, width do
		lines[#lines + 1] = flat:sub(i, i + width - 1) .. "\r\n"
	end
	return table.concat(lines)
end

-- like_cli(conn, qid, cli_path): after end of message, the milter's
-- edits must give what "mugai sanitize" made of the same message
-- (cli_path): the same X-Mugai-Status, the same MIME headers, and the
-- same body byte for byte once the CLI's X-Mugai-Id (quoted in the
-- notice) is replaced by the milter's - in the decoded text, when the
-- body is in base64.  The sanitiser is one library behind both front
-- ends, so this checks every byte the milter hands over without this
-- test knowing how the message is converted.
-- Returns the milter's X-Mugai-Id, the new body and its chunk count.
function L.like_cli(conn, qid, cli_path)
	local cli = L.read_eml(cli_path)
	local id = L.added(conn, "X-Mugai-Id")
	L.check(id ~= nil, "%s: no X-Mugai-Id added", qid)
	L.check(id:match(L.ID_PATTERN), "%s: X-Mugai-Id %q", qid, id)
	for _, h in ipairs({ "X-Mugai-Status", "MIME-Version", "Content-Type",
	    "Content-Transfer-Encoding" }) do
		local want = L.field(cli, h)
		local got = L.added(conn, h)
		L.check(got == want, "%s: %s added as %s, mugai sanitize "
		    .. "says %s", qid, h, got and string.format("%q", got)
		    or "nothing", want and string.format("%q", want) or
		    "nothing")
	end
	local cli_id = L.field(cli, "X-Mugai-Id")
	local expected
	if (L.field(cli, "Content-Transfer-Encoding") or ""):lower() ==
	    "base64" then
		local width = #cli.body:match("^[^\r]*")
		local text = L.b64decode(cli.body)
		L.check(L.b64encode(text, width) == cli.body, "%s: cannot "
		    .. "re-encode the CLI's base64 body as it is", qid)
		L.check(cli_id ~= nil and L.has(text, cli_id), "%s: the notice "
		    .. "of mugai sanitize does not quote its X-Mugai-Id", qid)
		expected = L.b64encode(L.replace(text, cli_id, id), width)
	else
		L.check(cli_id ~= nil and L.has(cli.body, cli_id), "%s: the "
		    .. "notice of mugai sanitize does not quote its X-Mugai-Id",
		    qid)
		expected = L.replace(cli.body, cli_id, id)
	end
	local n = L.new_body(conn, qid, expected, 1000)
	return id, expected, n
end

return L
