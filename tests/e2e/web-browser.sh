#!/bin/sh
# web-browser.sh BUILD FIXTURES - mugai-web in a real browser.
#
# Debian's chromium, headless, driven by puppeteer-core from npm
# (tests/browser/package.json and its lockfile, installed with "npm ci"
# into BUILD/browser).  A message whose subject is
# <script>alert(1)</script> goes through a private Postfix and
# mugai-milter into the quarantine; tests/browser/web.mjs then logs in
# as the staff member it was sent to, searches, opens it, checks the
# subject is text and no script ran, and asks for its original; an
# admin approves the request in /requests; here the release and the
# requester's notice are checked at smtp-sink.  Screenshots of the
# list, message, requests and statistics pages stay in
# BUILD/browser/shots.
# Skipped, saying so, only when chromium is not installed.
set -u
if [ $# -ne 2 ]; then
	echo "usage: web-browser.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP web-browser: $CHROMIUM is not installed (apt-get install chromium, or sh scripts/setup)"
	exit 0
fi
export CHROMIUM
. "$here/lib-postfix.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/web-browser.XXXXXX") || exit 1
P=$T/pf
milter_pid=
web_pid=
cleanup() {
	if [ -n "$web_pid" ]; then
		kill -TERM "$web_pid" 2>/dev/null
		wait "$web_pid" 2>/dev/null
	fi
	pf_stop "$P"
	if [ -n "$milter_pid" ]; then
		kill -TERM "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
chmod 755 "$T"
CK_SUITE=web-browser
. "$here/lib-check.sh"

# puppeteer-core, exactly as locked, under the build tree.
B=$build/browser
mkdir -p "$B/shots"
if ! cmp -s "$here/../browser/package-lock.json" "$B/package-lock.json" ||
    [ ! -d "$B/node_modules/puppeteer-core" ]; then
	cp "$here/../browser/package.json" "$here/../browser/package-lock.json" "$B/" &&
	    (cd "$B" && npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1 || {
		fail npm-ci "$(tail -n 3 "$T/npm.log" | tr '\n' ' ')"
		finish
	}
fi
cp "$here/../browser/web.mjs" "$B/web.mjs"

mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
    sink=$(pf_free_port "$mport" "$smtp") &&
    wport=$(pf_free_port "$mport" "$smtp" "$sink") || {
	fail start "no free ports"
	finish
}
pf_milter_start "$build" "$T" "$testdb" "$mport"
started=$?
milter_pid=$pf_milter_pid
if [ "$started" -ne 0 ] ||
    ! pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" 2>"$T/start.err"; then
	fail start "$(tail -n 3 "$T/milter.log" "$T/start.err" | tr '\n' ' ')"
	finish
fi

subject='<script>alert(1)</script>'
cat > "$T/m1.eml" <<EOM
From: Sender <sender@example.org>
To: kondo@city.lg.jp
Subject: $subject
Message-ID: <browser-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<p>Hello <img src=x onerror="alert(2)"><script>alert(3)</script></p>
--b1
Content-Type: application/x-msdownload; name="setup.exe"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

$(printf 'MZ\220\0\3\0\0\0\4\0\0\0\377\377\0\0' | base64)
--b1--
EOM
pf_send_file "$smtp" "$T/m1.eml" --from sender@example.org --to kondo@city.lg.jp
if pf_wait_sink "$P" 1 60; then
	pass "the sanitised message was delivered"
else
	fail "the sanitised message was delivered" "$(pf_sink_count "$P") at the sink"
	finish
fi

MQ() { "$build/mugai" -o quarantine_dir="$T/q" -o audit_log="$T/audit.jsonl" \
    -o web_users="$T/users" "$@"; }
echo 'kondo-password-1' | MQ web-user add kondo staff kondo@city.lg.jp
echo 'alice-password-1' | MQ web-user add alice admin
cat > "$T/sendmail" <<EOS
#!/bin/sh
exec /usr/sbin/sendmail -C '$P/etc' "\$@"
EOS
chmod 755 "$T/sendmail"
"$build/mugai-web" -e -o quarantine_dir="$T/q" -o audit_log="$T/audit.jsonl" \
    -o web_users="$T/users" -o sendmail_path="$T/sendmail" -o web_pid_file= \
    -o web_listen=127.0.0.1:$wport </dev/null 2>"$T/web.log" &
web_pid=$!
up() { curl -s -o /dev/null "http://127.0.0.1:$wport/login"; }
pf_poll 20 up
before=$(pf_sink_count "$P")
node "$B/web.mjs" "http://127.0.0.1:$wport" "$B/shots" kondo:kondo-password-1 \
    alice:alice-password-1 "$subject" > "$T/node.out" 2>&1
CK_PREFIX=
while IFS= read -r line; do
	case $line in
	"PASS "*)	pass "${line#PASS }" ;;
	"FAIL "*)	n=${line#FAIL }; fail "${n%%: *}" "${n#*: }" ;;
	esac
done < "$T/node.out"
CK_PREFIX="web-browser/"
grep -q '^PASS \|^FAIL ' "$T/node.out" ||
    fail node "$(tail -n 5 "$T/node.out" | tr '\n' ' ')"
if pf_wait_sink "$P" $((before + 2)) 60; then
	pass "the approval made in the browser: release and notice reach smtp-sink"
else
	fail "the approval made in the browser: release and notice reach smtp-sink" \
	    "$(tail -n 3 "$T/web.log" | tr '\n' ' ')"
fi
check "the original, setup.exe and all, reached kondo" sh -c "
	grep -l 'Message-ID: <browser-1@example.org>' '$P'/sink/* |
	xargs grep -l 'setup.exe' | xargs grep -l 'MZ\\|TVq' | grep -q ."
check "screenshots of the list, message, requests and statistics pages" sh -c "
	[ -s '$B/shots/list.png' ] && [ -s '$B/shots/message.png' ] &&
	[ -s '$B/shots/requests.png' ] && [ -s '$B/shots/stats.png' ]"
finish
