#!/bin/sh
# slow-valgrind.sh BUILD FIXTURES - "mugai sanitize" under valgrind on
# every fixture message: no definite leak and no memory error.
#
# ClamAV is off for the fixtures (loading the engine under valgrind is
# slow and they are about parsing); one more run scans with the test
# database (MUGAI_TESTDB, default BUILD/testdb).  The exit status of
# mugai itself is not judged here (tests/e2e/cli-fixtures.sh does that):
# only valgrind's 9.  tests/valgrind.supp says why each suppression is
# there.  "make valgrind" runs this script alone.
set -u
if [ $# -ne 2 ]; then
	echo "usage: slow-valgrind.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)
mugai=$build/mugai
testdb=${MUGAI_TESTDB:-$build/testdb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slow-valgrind.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0

pass() { echo "PASS slow-valgrind/$1"; }
fail() { echo "FAIL slow-valgrind/$1"; failed=1; }

if ! command -v valgrind > /dev/null; then
	fail "setup: valgrind is not installed (sh scripts/setup)"
	exit 1
fi
if [ ! -x "$mugai" ]; then
	fail "setup: $mugai is not built"
	exit 1
fi
if grep -q __asan_init "$mugai" 2>/dev/null; then
	fail "setup: $mugai is an ASan build; valgrind needs a plain one"
	exit 1
fi

# vg NAME INPUT [-o key=value]... - sanitise INPUT under valgrind, in
# the background: valgrind is slow, so one run per CPU goes at a time.
jobs=0
maxjobs=$(nproc 2>/dev/null || echo 2)
[ "$maxjobs" -gt 4 ] && maxjobs=4
names=
vg() {
	name=$1
	input=$2
	shift 2
	names="$names $name"
	(
		valgrind --leak-check=full --errors-for-leak-kinds=definite \
		    --error-exitcode=9 --suppressions="$here/../valgrind.supp" \
		    --log-file="$tmp/$name.vg" "$mugai" \
		    -o quarantine_dir="$tmp/q-$name" \
		    -o audit_log="$tmp/$name.audit" "$@" sanitize \
		    --report "$tmp/$name.json" "$input" "$tmp/$name.out" \
		    > /dev/null 2> "$tmp/$name.err"
		echo $? > "$tmp/$name.rc"
	) &
	jobs=$((jobs + 1))
	if [ "$jobs" -ge "$maxjobs" ]; then
		wait
		jobs=0
	fi
}

# judge NAME - PASS unless valgrind said 9.
judge() {
	rc=$(cat "$tmp/$1.rc" 2>/dev/null || echo missing)
	if [ "$rc" != 9 ] && [ "$rc" != missing ]; then
		pass "$1"
		return
	fi
	fail "$1: valgrind found errors or leaks (exit $rc); see below"
	grep -E '(definitely lost|Invalid|uninitialised|ERROR SUMMARY)' \
	    "$tmp/$1.vg" | head -n 5 | sed 's/^/    /'
}

for eml in "$fixtures"/mail/*.eml; do
	[ -f "$eml" ] || continue
	name=$(basename "$eml" .eml)
	expect=${eml%.eml}.expect
	# "config: key=value" lines of the .expect, as cli-fixtures.sh.
	set -- -o clamav_enable=no
	if [ -f "$expect" ]; then
		while IFS= read -r line; do
			case $line in
			config:*) set -- "$@" -o "$(echo "${line#config:}" |
			    sed 's/^ *//')" ;;
			esac
		done < "$expect"
	fi
	vg "$name" "$eml" "$@"
done
if [ -f "$testdb/mugai.ndb" ] &&
    python3 "$here/../../scripts/make-fixtures" --office "$tmp/gen" \
    >/dev/null &&
    [ -f "$tmp/gen/gen-office-zip.eml" ]; then
	vg clamav-office-zip "$tmp/gen/gen-office-zip.eml" \
	    -o clamav_database_dir="$testdb"
else
	fail "clamav: no ClamAV test database in $testdb (make testdb), or no gen-office-zip (LibreOffice)"
fi
wait
for name in $names; do
	judge "$name"
done
exit $failed
