#!/bin/sh
# reload-rss.sh [BUILD] - mugai-milter's resident memory across ten
# ClamAV reloads under load (issue 16, item 7).  A benchmark, not a
# test: it prints a table and fails only when something cannot run.
#
# The database directory alternates between a big synthetic database
# (the test signatures plus 500,000 random MD5 signatures, as in
# scan-bench.sh) and the small test database; before each reload eight
# messages with attachments go through the milter at once, so several
# libmilter threads (each with its own malloc arena and libmagic handle)
# have worked.  After each reload the RSS is read from /proc once the new
# engine is in and the old one is freed.  The run is made twice side by
# side: with glibc's default number of malloc arenas and with
# MALLOC_ARENA_MAX=2 (an environment setting to try; mugai sets none).
# What to look for: the RSS after each switch back to the small database
# should stay level instead of creeping up.  What stays above the
# start-up figure is mostly each libmilter thread's libmagic handle (a
# private mapping of magic.mgc, ~6 MB each) and its malloc arena.
set -eu
build=${1:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
nsigs=${RELOAD_BENCH_SIGS:-500000}
milter=$build/mugai-milter
[ -x "$milter" ] || { echo "reload-rss: no $milter; run make" >&2; exit 1; }
[ -d "$build/testdb" ] || { echo "reload-rss: no $build/testdb; run make testdb" >&2; exit 1; }

tmp=$(mktemp -d)
mpid=
trap '[ -z "$mpid" ] || kill -KILL "$mpid" 2>/dev/null; rm -rf "$tmp"' EXIT

awk -v n="$nsigs" 'BEGIN {
	srand(42)
	for (i = 0; i < n; i++)
		printf "%08x%08x%08x%08x:%d:Mugai.Bench.Hash.%d\n",
		    int(rand() * 4294967296), int(rand() * 4294967296),
		    int(rand() * 4294967296), int(rand() * 4294967296),
		    1000 + i % 100000, i
}' > "$tmp/bench.hdb"

python3 - "$tmp/msg.eml" <<'EOF'
import base64, os, sys
att = base64.encodebytes(os.urandom(200000)).decode()
open(sys.argv[1], "w").write(
    "From: Sender <sender@example.org>\nTo: staff@city.lg.jp\n"
    "Subject: load\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n"
    "Content-Type: text/html; charset=utf-8\n\n<p>hello <b>there</b></p>\n"
    "--b1\nContent-Type: application/octet-stream; name=data.bin\n"
    "Content-Disposition: attachment; filename=data.bin\n"
    "Content-Transfer-Encoding: base64\n\n" + att + "--b1--\n")
EOF
cat > "$tmp/load.py" <<'EOF'
import subprocess, sys
rawmta, sock, msg = sys.argv[1:4]
ps = [subprocess.Popen([sys.executable, rawmta, sock, msg, "L%d" % k],
                       stdout=subprocess.DEVNULL) for k in range(8)]
for p in ps:
    p.wait()
EOF

rss() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# loaded N - wait until the log says engine generation N is loaded.
loaded() {
	i=0
	until grep -q "engine generation $1 loaded" "$tmp/run/log"; do
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "reload-rss: generation $1 never loaded" >&2; exit 1; }
		sleep 0.1
	done
}

# series LABEL [VAR=VALUE] - one milter (with that environment), ten
# reloads; one line of RSS figures.
series() {
	rm -rf "$tmp/run"
	mkdir -p "$tmp/run/db"
	cp "$build"/testdb/*.ndb "$build"/testdb/*.hdb "$tmp/run/db/"
	env ${2:-} "$milter" -f -e -o milter_socket="unix:$tmp/run/sock" \
	    -o pid_file="$tmp/run/pid" -o spool_dir="$tmp/run/spool" \
	    -o quarantine_dir="$tmp/run/q" -o audit_log="$tmp/run/audit" \
	    -o clamav_database_dir="$tmp/run/db" -o clamav_check_interval=0 \
	    </dev/null >/dev/null 2>"$tmp/run/log" &
	mpid=$!
	loaded 1
	line=$(printf "%-22s %6s" "$1" "$(rss $mpid)")
	for n in 1 2 3 4 5 6 7 8 9 10; do
		if [ $((n % 2)) -eq 1 ]; then
			cp "$tmp/bench.hdb" "$tmp/run/db/"
		else
			rm -f "$tmp/run/db/bench.hdb"
		fi
		python3 "$tmp/load.py" "$top/tests/miltertest/rawmta.py" \
		    "$tmp/run/sock" "$tmp/msg.eml"
		kill -HUP "$mpid"
		loaded $((n + 1))
		sleep 1
		line="$line $(printf "%5s" "$(rss $mpid)")"
	done
	kill "$mpid"
	wait "$mpid" || true
	mpid=
	echo "$line"
}

echo "mugai-milter RSS in MiB: at start (small database), then after each of"
echo "10 reloads alternating big ($nsigs extra signatures, odd) and small (even)"
printf "%-22s %6s" run start
for n in 1 2 3 4 5 6 7 8 9 10; do printf " %5s" "r$n"; done
echo
unset MALLOC_ARENA_MAX
series "default arenas"
series "MALLOC_ARENA_MAX=2" MALLOC_ARENA_MAX=2
