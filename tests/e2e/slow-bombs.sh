#!/bin/sh
# slow-bombs.sh BUILD FIXTURES - hostile messages through "mugai sanitize".
#
# scripts/make-bombs writes each bomb at test time (some are 100 MB);
# each is sanitised once, with the test ClamAV database and a private
# quarantine, and must get its defined outcome: the exit status, what
# the report and the delivered text say, and a log line on stderr that
# names the limit (mugai -v shows the notice and debug lines).  The
# outcomes are listed in README.md, "Security: limits and hostile input".
#
# Memory and time are printed (from /usr/bin/time -v), never asserted;
# but every run has a 4 GB address-space limit (ulimit -v; BOMB_VLIMIT_KB
# changes it, 0 turns it off) and a 300 s timeout, so a runaway fails the
# test instead of taking the machine down.  ASan builds reserve more
# address space than that: for them the limit is left off.
set -u
if [ $# -ne 2 ]; then
	echo "usage: slow-bombs.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mugai=$build/mugai
testdb=${MUGAI_TESTDB:-$build/testdb}
vlimit=${BOMB_VLIMIT_KB:-4194304}
check=$here/bomb_check.py
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slow-bombs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0

pass() { echo "PASS slow-bombs/$1"; }
fail() { echo "FAIL slow-bombs/$1"; failed=1; }

if [ ! -x "$mugai" ]; then
	fail "setup: $mugai is not built"
	exit 1
fi
if [ ! -f "$testdb/mugai.ndb" ]; then
	fail "setup: no ClamAV test database in $testdb (make testdb)"
	exit 1
fi
if ! python3 "$root/scripts/make-bombs" "$tmp/bombs"; then
	fail "setup: scripts/make-bombs failed"
	exit 1
fi
if grep -q __asan_init "$mugai" 2>/dev/null; then
	echo "INFO slow-bombs: $mugai is an ASan build; no ulimit -v"
	vlimit=0
fi

# run NAME [-o key=value]... - sanitise bombs/NAME.eml into run/NAME/.
# Sets rc; prints the exit status, wall time and peak memory.
run() {
	name=$1
	shift
	d=$tmp/run/$name
	mkdir -p "$d"
	(
		[ "$vlimit" -gt 0 ] && ulimit -v "$vlimit"
		exec timeout 300 /usr/bin/time -v -o "$d/time" "$mugai" -v \
		    -o clamav_database_dir="$testdb" -o quarantine_dir="$tmp/q" \
		    -o audit_log="$tmp/audit.jsonl" "$@" sanitize \
		    --report "$d/report.json" "$tmp/bombs/$name.eml" "$d/out.eml"
	) > /dev/null 2> "$d/stderr"
	rc=$?
	wall=$(sed -n 's/^.*Elapsed (wall clock) time.*: //p' "$d/time")
	rss=$(sed -n 's/^.*Maximum resident set size (kbytes): //p' "$d/time")
	size=$(wc -c < "$tmp/bombs/$name.eml")
	echo "INFO slow-bombs/$name: $size bytes in, exit $rc," \
	    "wall ${wall:-?}, max RSS ${rss:-?} kB"
	why=
}

# Assertions about the last run; the first one that fails says why.
want() { [ -n "$why" ] || why=$1; }
exit_is() { [ "$rc" -eq "$1" ] || want "exit $rc, want $1"; }
log_has() {
	grep -qF -- "$1" "$d/stderr" || want "no log line with \"$1\""
}
# bomb_check.py takes the check, then DIR, then its arguments.
is() {
	c=$1
	shift
	[ -n "$why" ] && return
	out=$(python3 "$check" "$c" "$d" "$@" 2>&1) || want "$out"
}
verdict() {
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name: $why"
		tail -n 3 "$d/stderr" | cut -c1-200 | sed 's/^/    stderr: /'
	fi
}

# MIME nesting 10,000 deep: below max_mime_depth the subtree is removed
# (GMime builds all of it; 20,000 boundary lines also stop the parse).
run mime-depth
exit_is 0
log_has "nested deeper than max_mime_depth 20; subtree removed"
is row depth
is text "Text before 10000 nested multiparts."
is no-text DEEPMARKER
verdict

# 100,000 parts: the first max_mime_parts are judged, the rest removed
# and told once; the parse stops after 10 x max_mime_parts "--" lines.
run parts
exit_is 0
log_has "more than 1000 MIME parts; the rest are removed (max_mime_parts)"
log_has "more than 10000 lines starting \"--\" (10 x max_mime_parts)"
is row parts
is row structure
is text "First of 100000 parts."
verdict

# A 100 MB single-line header: the message is over max_message_size,
# refused (exit 2) and nothing is written.
run header
exit_is 2
log_has "exceeds max_message_size 52428800"
[ -e "$d/out.eml" ] && want "out.eml was written"
verdict

# 1 MB header lines under the size limit: delivered as received; the
# Subject is decoded only up to 64 KiB for the report and the notice.
run header-small
exit_is 0
log_has "verdict=deliver"
is subject-max 65536
is text "Text after 1 MB headers."
verdict

# A header claiming a 1 GB body: Content-Length is never read, and is
# not passed on.
run content-length
exit_is 0
log_has "verdict=deliver parts=1"
is text "Short body, 1 GB claimed."
is no-header Content-Length
verdict

# base64 that decodes to 10 x max_part_size: the part is removed.
run base64-10x -o max_part_size=1M
exit_is 0
log_has "part 1.2: 10485760 bytes decoded, over max_part_size; removed"
is row size big.bin
is text "big.bin"
verdict

# 42.zip style: libclamav stops at its scan limits, so the archive is
# unscanned, which is never clean: removed and named.
run zip-bomb
exit_is 0
log_has "part 1.2 could not be scanned: Heuristics.Limits.Exceeded"
is row unscanned 42.zip
is text "42.zip"
verdict

# 100 zips nested in each other: past clamav_max_recursion, unscanned.
run zip-nested
exit_is 0
log_has "could not be scanned: Heuristics.Limits.Exceeded.MaxRecursion"
is row unscanned r.zip
verdict

# A zip that contains itself (scripts/zipquine.py): libclamav follows
# r.zip into r.zip until clamav_max_recursion, so it is unscanned and
# removed; the copy is never attempted.  (Were it, archive_max_depth
# would stop it: tests/unit/test_archive_tree.c.)
run zip-quine
exit_is 0
log_has "part 1.2 could not be scanned: Heuristics.Limits.Exceeded.MaxRecursion"
log_has "part 1.2 removed (unscanned): \"r.zip\" declared application/zip"
is row unscanned r.zip
is no-attachment r.zip
is text "Text before a zip that contains itself."
is text "r.zip"
verdict

# A PNG claiming 100,000 x 100,000 pixels: the image worker reads the
# size from the header and refuses before any pixel is allocated; the
# part is removed and held as too big.
run image
exit_is 0
log_has "image claims 100000 x 100000 pixels, over max_pixels 50000000"
log_has "part 1.2 removed (too-big): \"huge.png\" declared image/png, detected image/png"
is row too-big huge.png
verdict

# 1,000,000 nested HTML elements: libxml2 stops at 256 levels, the text
# before that is converted and the notice says part was left out.
run html-depth
exit_is 0
log_has "HTML converted in part: max_html_depth 200"
is row body-truncated
is text HTMLSTART
is text "part of it was left out"
verdict

# A 10 KB file name: removed by policy; the notice shows 200 characters.
run filename
exit_is 0
log_has "part 1.2 removed (policy): \"NNNNNNNNNN"
is row policy NNNNNNNNNN
is max-line 400
verdict

# 300 distinct Content-* names: not all can be removed, so the message
# is refused (deferring a hostile message only brings it back).
run content-headers
exit_is 2
log_has "distinct header names to remove (Content-*); message refused"
[ -e "$d/out.eml" ] && want "out.eml was written"
verdict

exit $failed
