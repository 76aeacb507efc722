#!/bin/sh
# cli-check-config.sh BUILD FIXTURES - "mugai check-config" and
# mugai-milter judge a configuration file the same way.
#
#   errors    bad CIDRs (/33, .300, /129), a bypass recipient that is not
#             an address, a NUL byte and an unknown key: check-config
#             exits 78 and names every one with FILE:LINE and the fix;
#             mugai-milter refuses the same file with the same lines
#   warnings  a key set twice and a bypass of every client (0.0.0.0/0,
#             ::/0): check-config exits 0 and warns about each
set -u
if [ $# -ne 2 ]; then
	echo "usage: cli-check-config.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
mugai=$build/mugai
milter=$build/mugai-milter
testdb=${MUGAI_TESTDB:-$build/testdb}
T=$(mktemp -d "${TMPDIR:-/tmp}/cli-check-config.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
CK_SUITE=cli-check-config
. "$(dirname "$0")/lib-check.sh"

if [ ! -x "$mugai" ] || [ ! -x "$milter" ]; then
	fail setup "$mugai or $milter is not built"
	finish
fi

# Everything but the file under test points into $T.
cat > "$T/base.cf" <<EOF
clamav_database_dir = $testdb
quarantine_dir = $T/q
audit_log = $T/audit.jsonl
spool_dir = $T/spool
milter_socket = unix:$T/sock
pid_file = $T/pid
EOF

cf=$T/bad.cf
cp "$T/base.cf" "$cf"
{
	printf 'bypass_client_networks = 10.0.0.0/33, 192.0.2.300\n'	# 7
	printf 'bypass_recipients = @example.org, nobody\n'		# 8
	printf 'max_mime_depth = 1\000 0\n'				# 9
	printf 'bypass_client_networks = 2001:db8::/129\n'		# 10
	printf 'max_mime_dept = 5\n'					# 11
} >> "$cf"

rc=0
"$mugai" -c "$cf" check-config > "$T/out" 2> "$T/err" || rc=$?
check "errors: exit 78 (got $rc)" test "$rc" -eq 78
has() { grep -qF -- "$2" "$1"; }
for want in \
    "$cf:7: bypass_client_networks: bad prefix length \"/33\" for 10.0.0.0; use 0 to 32" \
    "$cf:7: bypass_client_networks: \"192.0.2.300\" is not an IP address; write ADDRESS or ADDRESS/PREFIX" \
    "$cf:8: bypass_recipients: \"nobody\" is not an address; write user@domain or @domain" \
    "$cf:9: NUL byte at column 19; the file must be plain text: remove it" \
    "$cf:10: bypass_client_networks: bad prefix length \"/129\" for 2001:db8::; use 0 to 128" \
    "$cf:11: unknown key \"max_mime_dept\"; did you mean \"max_mime_depth\"?"; do
	check "errors: check-config says: ${want#"$cf":}" has "$T/err" "$want"
done
check "errors: nothing on stdout" test ! -s "$T/out"

# The milter loads through the same code: the same lines, exit 78.
rc=0
"$milter" -f -e -c "$cf" > /dev/null 2> "$T/merr" || rc=$?
check "errors: mugai-milter exits 78 (got $rc)" test "$rc" -eq 78
sed -n 's/^mugai: //p' "$T/err" > "$T/cli-lines"
sed -n 's/^mugai-milter: //p' "$T/merr" | grep -F "$cf:" > "$T/milter-lines"
check "errors: mugai-milter names the same problems" \
    cmp "$T/cli-lines" "$T/milter-lines"
check "errors: mugai-milter leaves no socket" test ! -e "$T/sock"

cf=$T/warn.cf
cp "$T/base.cf" "$cf"
{
	printf 'max_mime_depth = 5\n'					# 7
	printf 'bypass_client_networks = 192.0.2.0/24 0.0.0.0/0\n'	# 8
	printf '    ::/0\n'						# 9
	printf 'max_mime_depth = 7\n'					# 10
} >> "$cf"
rc=0
"$mugai" -c "$cf" check-config > "$T/out" 2> "$T/err" || rc=$?
check "warnings: exit 0 (got $rc)" test "$rc" -eq 0
for want in \
    "warning: $cf:8: bypass_client_networks: 0.0.0.0/0 takes in every IPv4 client" \
    "warning: $cf:8: bypass_client_networks: ::/0 takes in every IPv6 client" \
    "warning: $cf:10: max_mime_depth: set again (first at line 7)"; do
	check "warnings: check-config says: ${want#"warning: $cf":}" \
	    has "$T/err" "$want"
done
"$mugai" -c "$cf" -v check-config > "$T/out" 2> /dev/null
check "warnings: the later value is used" grep -qx "max_mime_depth = 7" \
    "$T/out"
finish
