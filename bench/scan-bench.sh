#!/bin/sh
# scan-bench.sh [BUILD [MB]] - ClamAV engine load time, memory and scan
# throughput, for the test database and for a synthetic database of
# 500,000 MD5 (.hdb) signatures; then the scans of one message of each
# kind bench/postfix-client.py writes (text 10 KB, HTML 30 KB,
# alternative 40 KB, a 20 KB PNG, a 50 KB docx, a 200 KB PDF and a
# ten-page PDF) through the whole library with the test database: how
# many, and their CPU time per message, the first time the process sees
# the message (mean of SCAN_BENCH_PROCS processes, default 3) and when it
# comes again (libclamav's cache of clean objects answers for what it
# saw); the PDFs again with clamav_copy_image_hash = no ("nohash").
# A benchmark, not a test: it prints tables and fails only when
# something cannot run.
#
# Needs BUILD/libmugai.a (make) and BUILD/testdb (make testdb).  MB is
# how many MiB of generated data each throughput line scans (default 8).
set -eu
build=${1:-build}
mb=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
lib=${SCAN_BENCH_LIB:-$build/libmugai.a}
nsigs=${SCAN_BENCH_SIGS:-500000}

[ -f "$lib" ] || { echo "scan-bench: no $lib; run make first" >&2; exit 1; }
[ -d "$build/testdb" ] || { echo "scan-bench: no $build/testdb; run make testdb" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pkgs="gmime-3.0 libxml-2.0 libmagic libclamav sqlite3"
${CC:-cc} -std=gnu11 -O2 -g -D_GNU_SOURCE -I"$top/include" \
	$(pkg-config --cflags $pkgs) -o "$tmp/scan-bench" \
	"$here/scan-bench.c" "$lib" $(pkg-config --libs $pkgs) -lpthread

# The synthetic database: the test signatures plus nsigs random hashes.
mkdir "$tmp/bigdb"
cp "$build"/testdb/*.ndb "$build"/testdb/*.hdb "$tmp/bigdb/"
awk -v n="$nsigs" 'BEGIN {
	srand(42)
	for (i = 0; i < n; i++)
		printf "%08x%08x%08x%08x:%d:Mugai.Bench.Hash.%d\n",
		    int(rand() * 4294967296), int(rand() * 4294967296),
		    int(rand() * 4294967296), int(rand() * 4294967296),
		    1000 + i % 100000, i
}' > "$tmp/bigdb/bench.hdb"

run() {
	name=$1
	dir=$2
	"$tmp/scan-bench" "$dir" "$mb" > "$tmp/out" || {
		echo "scan-bench: $name failed" >&2; exit 1; }
	awk -v name="$name" '
		{ v[$1] = $2 }
		END {
			printf "%-22s %8s %9s %9s %9s %9s %9s %9s\n", name,
			    v["load_ms"], v["reload_ms"], v["engine_rss_mib"],
			    v["peak_rss_mib"], v["scan_text_mibps"],
			    v["scan_binary_mibps"], v["scan_mail_mibps"]
		}' "$tmp/out"
}

echo "ClamAV engine (libclamav $(pkg-config --modversion libclamav)), $mb MiB per scan kind"
printf "%-22s %8s %9s %9s %9s %9s %9s %9s\n" database load_ms reload_ms \
	rss_MiB peak_MiB text_MB/s bin_MB/s mail_MB/s
run "test ($build/testdb)" "$build/testdb"
run "synthetic $nsigs hdb" "$tmp/bigdb"

# Per message kind, through mugai_sanitize (build/bench_sanitize; its
# last two columns are the scans per message and their CPU ms).
procs=${SCAN_BENCH_PROCS:-3}
make -s --no-print-directory BUILD="$build" "$build/bench_sanitize"
python3 "$here/postfix-client.py" gen "$tmp/msgs"
printf 'From: a@example.org\nTo: b@example.jp\nSubject: warm\n\nwarm up\n' \
    > "$tmp/warm.eml"
echo
echo "scans per message (test database; cpu in ms of the scanning thread):"
printf "%-18s %6s %12s %12s\n" message scans first_cpu again_cpu
# The PDFs once more with clamav_copy_image_hash = no (copies only).
for m in text-10k html-30k alt-40k png-20k docx-50k pdf-200k pdf10-200k \
    pdf-200k:nohash pdf10-200k:nohash; do
	f=$tmp/msgs/${m%:*}.eml
	set --
	[ "$m" = "${m%:nohash}" ] || set -- -o clamav_copy_image_hash=no
	i=0
	: > "$tmp/first"
	while [ "$i" -lt "$procs" ]; do
		# A small message first: the one measured is new to the engine,
		# as mail is, but libclamav's lazy set-up is paid already.
		"$build/bench_sanitize" "$@" "$build/testdb" 1 "$tmp/warm.eml" \
		    "$f" | tail -1 >> "$tmp/first"
		i=$((i + 1))
	done
	# Twice four times: the second line, all from a warm engine.
	"$build/bench_sanitize" "$@" "$build/testdb" 4 "$f" "$f" > "$tmp/again" ||
	    { echo "scan-bench: $m failed" >&2; exit 1; }
	awk -v m="$m" -v again="$(tail -1 "$tmp/again" | awk '{ print $9 }')" '
		{ n++; s += $8; c += $9 }
		END { printf "%-18s %6.1f %12.2f %12.2f\n", m, s / n, c / n, again }
	' "$tmp/first"
done
