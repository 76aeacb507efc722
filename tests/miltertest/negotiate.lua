-- negotiate.lua - what mugai-milter asks for in option negotiation,
-- and header values with their leading white space.
--
-- Globals: lib, T, sock, log, pid, spool (see lib.lua), and
--   MSG   a message with an attachment (so its original is kept) and
--         header fields with unusual white space after the colon that
--         miltertest can send ("Subject: x", two spaces, a fold, a
--         space and a tab; see lib.lua's headers())
--
-- 1. Default negotiation (miltertest offers everything): the milter
--    must ask to add and change headers and to replace the body, must
--    not ask to touch recipients or to skip steps it needs, and must
--    take SMFIP_HDR_LEADSPC.  Then values arrive with their leading
--    white space, and the headers the milter adds carry one space.  The
--    X-Mugai-Id goes to T/negotiate-LEAD1.id: the runner exports the
--    original and compares it with MSG byte for byte (CRLF line ends).
-- 2. An MTA that does not offer SMFIP_HDR_LEADSPC: added values come
--    without the space (such an MTA puts one after the colon itself).
-- 3. An MTA that does not let the milter replace the body: the milter
--    refuses the connection (it cannot sanitise); the runner checks
--    that the log says why.
local L = dofile(lib)

-- SMFI_CURR_PROT: every option of protocol 6, what miltertest offers.
local ALL_OPTIONS = 0x001FFFFF

local function offered()
	local conn = L.connect("198.51.100.1")
	for _, a in ipairs({ "SMFIF_ADDHDRS", "SMFIF_CHGHDRS",
	    "SMFIF_CHGBODY" }) do
		L.check(mt.test_action(conn, _G[a]),
		    "the milter did not ask for %s", a)
	end
	for _, a in ipairs({ "SMFIF_ADDRCPT", "SMFIF_DELRCPT" }) do
		L.check(not mt.test_action(conn, _G[a]),
		    "the milter asked for %s", a)
	end
	L.check(mt.test_option(conn, SMFIP_HDR_LEADSPC),
	    "the milter did not take SMFIP_HDR_LEADSPC")
	for _, o in ipairs({ "SMFIP_NOHDRS", "SMFIP_NOBODY", "SMFIP_NOEOH",
	    "SMFIP_NOMAIL", "SMFIP_NORCPT" }) do
		L.check(not mt.test_option(conn, _G[o]),
		    "the milter asked to skip a step it needs (%s)", o)
	end
	return conn
end

local function run()
	local msg = L.read_eml(MSG)

	-- 1
	local conn = offered()
	local r = L.send(conn, "LEAD1", "bob@example.org",
	    { "staff@city.lg.jp" }, msg)
	L.check(r == SMFIR_CONTINUE, "LEAD1: end of message: %s",
	    L.rname(r))
	-- L.added checks for the one leading space.
	local id = L.added(conn, "X-Mugai-Id", true)
	L.check(id ~= nil and id:match(L.ID_PATTERN), "LEAD1: X-Mugai-Id %s",
	    tostring(id))
	L.check(L.added(conn, "X-Mugai-Status", true) ~= nil,
	    "LEAD1: no X-Mugai-Status")
	L.write(T .. "/negotiate-LEAD1.id", id .. "\n")
	mt.disconnect(conn)

	-- 2
	conn = L.connect("198.51.100.1",
	    { options = ALL_OPTIONS & ~SMFIP_HDR_LEADSPC })
	L.check(not mt.test_option(conn, SMFIP_HDR_LEADSPC),
	    "the milter took SMFIP_HDR_LEADSPC, which was not offered")
	r = L.send(conn, "NOLEAD1", "bob@example.org", { "staff@city.lg.jp" },
	    msg)
	L.check(r == SMFIR_CONTINUE, "NOLEAD1: end of message: %s",
	    L.rname(r))
	local v = L.added(conn, "X-Mugai-Id", false)
	L.check(v ~= nil and v:match(L.ID_PATTERN), "NOLEAD1: without "
	    .. "SMFIP_HDR_LEADSPC, X-Mugai-Id was added as %q", tostring(v))
	mt.disconnect(conn)

	-- 3: adding and changing headers, but not the body.
	mt.set_timeout(L.TIMEOUT)
	conn = mt.connect("unix:" .. sock, 2400, 0.05)
	L.check(conn ~= nil, "cannot connect to %s", sock)
	local res = mt.negotiate(conn, 6, nil, SMFIF_ADDHDRS | SMFIF_CHGHDRS)
	L.check(res ~= nil, "negotiation without SMFIF_CHGBODY succeeded; "
	    .. "the milter must refuse a connection it cannot sanitise")
	-- The milter has closed this connection: writing to it would only
	-- earn a SIGPIPE, so it is left alone.
end

L.main(run)
