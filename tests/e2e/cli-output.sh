#!/bin/sh
# cli-output.sh BUILD FIXTURES - where "mugai sanitize" writes its output.
#
# A regular file or a new path is replaced atomically (temporary file,
# rename); anything else is written in place.  The character device is
# made here (mknod, the numbers of /dev/null) in a private directory, so
# a regression replaces that node, never the real /dev/null.
set -u
if [ $# -ne 2 ]; then
	echo "usage: cli-output.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
fixtures=$2
mugai=$build/mugai
testdb=${MUGAI_TESTDB:-$build/testdb}
T=$(mktemp -d "${TMPDIR:-/tmp}/cli-output.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
CK_SUITE=cli-output
. "$(dirname "$0")/lib-check.sh"

in=$fixtures/mail/plain-ascii.eml
if [ ! -x "$mugai" ] || [ ! -f "$in" ]; then
	fail setup "$mugai or $in missing"
	finish
fi

mugai() {
	"$mugai" -o clamav_database_dir="$testdb" -o quarantine_dir="$T/q" \
	    -o audit_log="$T/audit.jsonl" "$@"
}

# same A B - the same message but for the X-Mugai-Id each run makes.
same() {
	grep -v '^X-Mugai-Id:' "$1" > "$T/a"
	grep -v '^X-Mugai-Id:' "$2" > "$T/b"
	[ -s "$T/a" ] && cmp "$T/a" "$T/b"
}

# The reference: the same message to stdout.
mugai sanitize "$in" - > "$T/expected" 2> "$T/err" ||
	fail stdout "exit $?: $(head -c 300 "$T/err")"

# A new path, then over an existing regular file.
mugai sanitize "$in" "$T/new.eml" 2> "$T/err"
check new-path same "$T/expected" "$T/new.eml"
echo old > "$T/old.eml"
mugai sanitize "$in" "$T/old.eml" 2> "$T/err"
check regular-file same "$T/expected" "$T/old.eml"
leftover=$(find "$T" -maxdepth 1 -name '*.tmp.*' | head -1)
check no-temporary-left test -z "$leftover"

# A character device: stays one, and exit 0.
if mknod -m 666 "$T/null" c 1 3 2> "$T/err"; then
	rc=0
	mugai sanitize "$in" "$T/null" 2> "$T/err" || rc=$?
	check device-exit test "$rc" -eq 0
	check device-still-a-device test -c "$T/null"
	mugai sanitize --report "$T/null" "$in" "$T/null" 2> "$T/err"
	check device-report test -c "$T/null"
else
	fail device "mknod: $(cat "$T/err") (run as root)"
fi

# A FIFO: stays one, and the reader gets the whole message.
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/from-fifo" &
reader=$!
rc=0
mugai sanitize "$in" "$T/fifo" 2> "$T/err" || rc=$?
# Give the reader 5 s to finish; if the FIFO was replaced it waits forever.
i=0
while [ $i -lt 50 ] && kill -0 "$reader" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
check fifo-exit test "$rc" -eq 0
check fifo-still-a-fifo test -p "$T/fifo"
check fifo-reader-got-message same "$T/expected" "$T/from-fifo"

# A pipe named by path (/proc/self/fd/1 -> pipe:[...]); not /dev/stdout,
# whose symlink a regression would replace for the whole machine.
mugai sanitize "$in" /proc/self/fd/1 2> "$T/err" | cat > "$T/from-pipe"
check pipe-path same "$T/expected" "$T/from-pipe"

# The real /dev/null is untouched (it was never the target above).
check dev-null-intact test -c /dev/null
finish
