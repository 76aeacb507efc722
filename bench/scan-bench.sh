#!/bin/sh
# scan-bench.sh [BUILD [MB]] - ClamAV engine load time, memory and scan
# throughput, for the test database and for a synthetic database of
# 500,000 MD5 (.hdb) signatures.  A benchmark, not a test: it prints a
# table and fails only when something cannot run.
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
