#!/bin/sh
# cli-fixtures.sh BUILD FIXTURES - "mugai sanitize" on every fixture.
#
# Runs the CLI on FIXTURES/mail/*.eml and on the messages that
# scripts/make-fixtures writes at test time, then once more on each
# sanitised result; tests/e2e/check_message.py judges every run against
# the invariants and the fixture's .expect.  A few checks of the CLI
# itself (exit statuses, stdin/stdout, the audit log) come last.
set -u
if [ $# -ne 2 ]; then
	echo "usage: cli-fixtures.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
check=$here/check_message.py
mugai=$build/mugai
testdb=${MUGAI_TESTDB:-$build/testdb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli-fixtures.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0

pass() { echo "PASS cli-fixtures/$1"; }
fail() { echo "FAIL cli-fixtures/$1"; failed=1; }

if [ ! -x "$mugai" ]; then
	fail "setup: $mugai is not built"
	exit 1
fi
if [ ! -f "$testdb/mugai.ndb" ]; then
	fail "setup: no ClamAV test database in $testdb (make testdb)"
	exit 1
fi
if ! python3 "$root/scripts/make-fixtures" --office "$tmp/gen"; then
	fail "setup: scripts/make-fixtures failed"
	exit 1
fi

# mugai with the test database and a private quarantine and audit log.
# The fixtures judge the text-only policy (every attachment removed, the
# strictest 無害化); sanitised copies of attachments are tests/e2e/cdr.sh's.
mugai() {
	"$mugai" -o clamav_database_dir="$testdb" -o quarantine_dir="$tmp/q" \
	    -o audit_log="$tmp/audit.jsonl" \
	    -o "attachment_policy=text/plain text, text/csv csv, * remove" "$@"
}

# Show the last lines of mugai's stderr under a failure.
show_stderr() {
	[ -s "$1" ] && tail -n 3 "$1" | sed 's/^/    stderr: /'
}

runs=0
for eml in "$fixtures"/mail/*.eml "$tmp"/gen/*.eml; do
	[ -f "$eml" ] || continue
	name=$(basename "$eml" .eml)
	expect=${eml%.eml}.expect
	d=$tmp/run/$name
	mkdir -p "$d"
	# "config: key=value" lines of the .expect become -o options.
	set --
	if [ -f "$expect" ]; then
		while IFS= read -r line; do
			case $line in
			config:*) set -- "$@" -o "$(echo "${line#config:}" | sed 's/^ *//')" ;;
			esac
		done < "$expect"
	fi
	mugai "$@" sanitize --report "$d/report.json" "$eml" "$d/out.eml" \
	    2> "$d/stderr"
	rc=$?
	runs=$((runs + 1))
	if [ "$rc" -eq 0 ] && [ -s "$d/out.eml" ]; then
		mugai sanitize --report "$d/report2.json" "$d/out.eml" \
		    "$d/out2.eml" 2> "$d/stderr2"
		rc2=$?
		runs=$((runs + 1))
		set -- --again-exit "$rc2" --again-output "$d/out2.eml" \
		    --again-report "$d/report2.json" --again-stderr "$d/stderr2"
	else
		set --
	fi
	if ! python3 "$check" check "cli-fixtures/$name" --input "$eml" \
	    --expect "$expect" --exit "$rc" --output "$d/out.eml" \
	    --report "$d/report.json" --stderr "$d/stderr" "$@"; then
		failed=1
		show_stderr "$d/stderr"
	fi
done

# Usage errors and config errors: their sysexits statuses, no output.
mugai sanitize --no-such-option "$fixtures/mail/plain-ascii.eml" \
    "$tmp/usage.out" > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 64 ] && [ ! -e "$tmp/usage.out" ]; then
	pass "usage-error-exit-64"
else
	fail "usage-error-exit-64: exit $rc"
fi
mugai -o no_such_key=1 sanitize "$fixtures/mail/plain-ascii.eml" \
    "$tmp/config.out" > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 78 ] && [ ! -e "$tmp/config.out" ]; then
	pass "config-error-exit-78"
else
	fail "config-error-exit-78: exit $rc"
fi
mugai sanitize "$tmp/does-not-exist.eml" "$tmp/noinput.out" > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 66 ] && [ ! -e "$tmp/noinput.out" ]; then
	pass "missing-input-exit-66"
else
	fail "missing-input-exit-66: exit $rc"
fi

# The quarantine cannot be written: defer (75), never deliver unsaved.
"$mugai" -o clamav_database_dir="$testdb" -o quarantine_dir=/dev/null/q \
    -o audit_log="$tmp/audit-tf.jsonl" sanitize \
    "$fixtures/mail/pdf-attachment.eml" "$tmp/tempfail.out" \
    > /dev/null 2> "$tmp/tempfail.err"
rc=$?
if [ "$rc" -eq 75 ] && [ ! -s "$tmp/tempfail.out" ]; then
	pass "quarantine-unwritable-exit-75"
else
	fail "quarantine-unwritable-exit-75: exit $rc"
	show_stderr "$tmp/tempfail.err"
fi

# stdin to stdout gives a message as good as file to file.
mugai sanitize --report "$tmp/stdio.json" - - \
    < "$fixtures/mail/txt-csv-attachments.eml" > "$tmp/stdio.out" \
    2> "$tmp/stdio.err"
rc=$?
python3 "$check" check "cli-fixtures/stdin-stdout" \
    --input "$fixtures/mail/txt-csv-attachments.eml" \
    --expect "$fixtures/mail/txt-csv-attachments.expect" --exit "$rc" \
    --output "$tmp/stdio.out" --report "$tmp/stdio.json" \
    --stderr "$tmp/stdio.err" || failed=1

# A rejected message leaves stdout empty too.
python3 "$root/scripts/make-fixtures" "$tmp/gen2" > /dev/null 2>&1
mugai sanitize - - < "$tmp/gen2/gen-eicar-base64.eml" > "$tmp/rej.out" \
    2> /dev/null
rc=$?
if [ "$rc" -eq 2 ] && [ ! -s "$tmp/rej.out" ]; then
	pass "reject-stdout-empty"
else
	fail "reject-stdout-empty: exit $rc, $(wc -c < "$tmp/rej.out") bytes on stdout"
fi

# Every sanitise call leaves one JSON line in the audit log.
if python3 - "$tmp/audit.jsonl" "$runs" <<'EOF'
import json, sys
path, runs = sys.argv[1], int(sys.argv[2])
try:
    lines = open(path, encoding='utf-8').read().splitlines()
except OSError as e:
    sys.exit('cannot read the audit log: %s' % e)
for n, line in enumerate(lines, 1):
    try:
        if not isinstance(json.loads(line), dict):
            raise ValueError('not an object')
    except ValueError as e:
        sys.exit('line %d is not a JSON object: %s' % (n, e))
if len(lines) < runs:
    sys.exit('%d lines for %d sanitise runs' % (len(lines), runs))
EOF
then
	pass "audit-log-json"
else
	fail "audit-log-json: see the line above"
fi

exit $failed
