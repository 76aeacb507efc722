#!/bin/sh
# quarantine-pg.sh [BUILD] - the PostgreSQL quarantine against SQLite,
# side by side.  A benchmark, not a test: it prints tables and fails
# only when something cannot run (without the PostgreSQL server
# binaries, root, or Postfix it says so and skips that part).
#
# A private PostgreSQL (tests/e2e/lib-pg.sh, fsync on, a unix socket)
# and a private SQLite store on the same disk.
#
# 1. Store latency: bench/qstore-bench.c stores originals of 10 KB,
#    1 MB and 20 MB (QPG_BENCH_N10K, QPG_BENCH_N1M, QPG_BENCH_N20M of
#    each, default 200, 40, 8) one after another; median and p95 of one
#    mugai_quarantine_store() in ms, MB/s, and PostgreSQL / SQLite.
# 2. Milter throughput: two mugai-milter instances (one per store), each
#    behind its own private Postfix (tests/e2e/lib-postfix.sh);
#    bench/postfix-client.py sends QPG_BENCH_MSGS (default 200) messages
#    with a 30 KB program attachment (removed by policy, so every
#    original is stored) over 10 SMTP sessions to one, then the other;
#    msgs/s until the last reached the sink, and the ratio.
set -eu
build=${1:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
e2e=$top/tests/e2e
. "$e2e/lib-pg.sh"
if ! pg_have || [ "$(id -u)" -ne 0 ]; then
	echo "quarantine-pg bench: skipped (needs root and the PostgreSQL" \
	    "server: apt-get install postgresql)"
	exit 0
fi
[ -f "$build/libmugai.a" ] || { echo "quarantine-pg bench: no $build/libmugai.a; run make" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/var/tmp}/qpg-bench.XXXXXX")
chmod 755 "$T"
m_sq= m_pg=
cleanup() {
	[ -z "${pf_loaded:-}" ] || { pf_stop "$T/sq/pf"; pf_stop "$T/pg/pf"; }
	for p in $m_sq $m_pg; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pg_stop "$T/db"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

PG_FSYNC=on
pg_start "$T/db" || { echo "quarantine-pg bench: PostgreSQL did not start" >&2; cat "$T/db/log" >&2; exit 1; }
CI=$(pg_conninfo "$T/db")
"$build/mugai" -o "quarantine_db=$CI" \
    -o "quarantine_db_password_file=$T/db/password" \
    -o "quarantine_dir=$T/unused" quarantine migrate >/dev/null

pkgs="gmime-3.0 libxml-2.0 libmagic libclamav sqlite3 libpng libjpeg zlib cairo freetype2 libtiff-4 libseccomp libpq"
# shellcheck disable=SC2046
${CC:-cc} -std=gnu11 -O2 -g -D_GNU_SOURCE -I"$top/include" \
    $(pkg-config --cflags $pkgs) -o "$T/qstore-bench" "$here/qstore-bench.c" \
    "$build/libmugai.a" $(pkg-config --libs $pkgs) -lpthread

echo "Store latency, one mugai_quarantine_store() (fsync on in both)"
printf '%-8s %6s %12s %12s %12s %12s %9s %9s\n' size n sqlite_p50 sqlite_p95 \
    pg_p50 pg_p95 pg_MB/s p50_ratio
for spec in "10240 ${QPG_BENCH_N10K:-200}" "1048576 ${QPG_BENCH_N1M:-40}" \
    "20971520 ${QPG_BENCH_N20M:-8}"; do
	set -- $spec
	sq=$("$T/qstore-bench" "$1" "$2" "quarantine_dir=$T/sqstore" \
	    audit_log=)
	pg=$("$T/qstore-bench" "$1" "$2" "quarantine_dir=$T/unused" audit_log= \
	    "quarantine_db=$CI" "quarantine_db_password_file=$T/db/password")
	python3 - "$sq" "$pg" <<'PY'
import sys
s = sys.argv[1].split(); p = sys.argv[2].split()
size = int(s[0])
name = "%dKB" % (size // 1024) if size < 1048576 else "%dMB" % (size // 1048576)
print("%-8s %6s %12s %12s %12s %12s %9s %9.2f" % (name, s[1], s[2], s[3],
      p[2], p[3], p[4], float(p[2]) / max(float(s[2]), 0.001)))
PY
done

if ! command -v postfix >/dev/null 2>&1 || ! command -v smtp-sink >/dev/null 2>&1; then
	echo "milter throughput: skipped (needs postfix and smtp-sink)"
	exit 0
fi
. "$e2e/lib-postfix.sh"
pf_loaded=1
msgs=${QPG_BENCH_MSGS:-200}
python3 - "$T/m.eml" <<'PY'
import os, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "sender@example.org"
m["To"] = "staff@city.example.lg.jp"
m["Subject"] = "quarantine bench"
m["Message-ID"] = "<qbench@example.org>"
m.set_content("The tool is attached.\n")
m.add_attachment(b"MZ\x90\x00" + os.urandom(30000), maintype="application",
                 subtype="octet-stream", filename="tool.exe")
open(sys.argv[1], "wb").write(bytes(m))
PY
ports=
port() { p=$(pf_free_port $ports); ports="$ports $p"; eval "$1=\$p"; }
port mp_sq; port mp_pg; port s_sq; port s_pg; port k_sq; port k_pg
mkdir -p "$T/sq" "$T/pg"
chmod 755 "$T/sq" "$T/pg"
pf_milter_start "$build" "$T/sq" "$build/testdb" "$mp_sq" clamav_enable=no ||
    { echo "milter (sqlite) did not start" >&2; cat "$T/sq/milter.log" >&2; exit 1; }
m_sq=$pf_milter_pid
pf_milter_start "$build" "$T/pg" "$build/testdb" "$mp_pg" clamav_enable=no \
    "quarantine_db=$CI" "quarantine_db_password_file=$T/db/password" ||
    { echo "milter (postgresql) did not start" >&2; cat "$T/pg/milter.log" >&2; exit 1; }
m_pg=$pf_milter_pid
pf_start "$T/sq/pf" "$s_sq" "$k_sq" "inet:127.0.0.1:$mp_sq"
pf_start "$T/pg/pf" "$s_pg" "$k_pg" "inet:127.0.0.1:$mp_pg"

# run NAME - msgs/s for $msgs messages until the last reached the sink.
run() {
	eval "sp=\$s_$1"
	before=$(pf_sink_count "$T/$1/pf")
	start=$(date +%s.%N)
	python3 "$here/postfix-client.py" send "$sp" "$T/m.eml" "$2" 10 \
	    bench@example.jp >"$T/$1.json"
	pf_wait_sink "$T/$1/pf" $((before + $2)) 600 ||
	    { echo "only $(($(pf_sink_count "$T/$1/pf") - before)) of $2 reached the sink ($1)" >&2; exit 1; }
	end=$(date +%s.%N)
	python3 -c 'import sys; print("%.1f" % (int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))' \
	    "$2" "$start" "$end"
}
run sq 10 >/dev/null
run pg 10 >/dev/null
sq=$(run sq "$msgs")
pg=$(run pg "$msgs")
echo "Milter throughput: $msgs messages, 30 KB program attachment removed and the original stored, 10 SMTP sessions"
printf '%-12s %8s %7s\n' store msgs/s ratio
printf '%-12s %8s %7s\n' sqlite "$sq" 1.00
printf '%-12s %8s %7s\n' postgresql "$pg" "$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) / float(sys.argv[1])))' "$sq" "$pg")"
