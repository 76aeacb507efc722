#!/bin/sh
# sanitize.sh BUILD - messages/s and MB/s of "mugai sanitize", peak memory,
# and time against size for HTML from 1 to 10 MB (should grow linearly).
set -eu
build=${1:-build}
mugai=$build/mugai
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$(dirname "$0")/gen-corpus.py" "$tmp/corpus"
sh scripts/make-testdb "$tmp/db" >/dev/null
opts="-o clamav_database_dir=$tmp/db -o quarantine_dir=$tmp/q -o audit_log=$tmp/audit.jsonl"

printf '%-24s %10s %8s %10s %10s %12s\n' corpus bytes runs msg/s MB/s peak_rss_kB
for f in "$tmp"/corpus/text-10k.eml "$tmp"/corpus/html-100k-attach.eml \
    "$tmp"/corpus/html-1m.eml "$tmp"/corpus/html-2m.eml \
    "$tmp"/corpus/html-5m.eml "$tmp"/corpus/html-10m.eml; do
	size=$(stat -c %s "$f")
	runs=20
	[ "$size" -gt 1000000 ] && runs=3
	start=$(date +%s.%N)
	i=0
	while [ $i -lt $runs ]; do
		# shellcheck disable=SC2086
		# Into a file of our own: the output is renamed into place.
		"$mugai" $opts sanitize "$f" "$tmp/out.eml"
		i=$((i + 1))
	done
	end=$(date +%s.%N)
	# shellcheck disable=SC2086
	rss=$(/usr/bin/time -f %M "$mugai" $opts sanitize "$f" "$tmp/out.eml" 2>&1 >/dev/null | tail -1)
	awk -v n="$(basename "$f")" -v s="$size" -v r=$runs -v a="$start" \
	    -v b="$end" -v m="$rss" 'BEGIN { t = (b - a) / r;
	    printf "%-24s %10d %8d %10.1f %10.2f %12s\n", n, s, r, 1 / t,
	    s / t / 1048576, m }'
done
echo "(each run includes process start and loading the ClamAV test database)"

echo
echo "in process (library only, no process start):"
# Linked by the Makefile, with the libraries libmugai.a needs.
make -s --no-print-directory BUILD="$build" "$build/bench_sanitize"
printf '%-24s %10s %6s %10s %10s %s\n' corpus bytes runs msg/s MB/s \
    "scan cpu_ms/msg mem_KB/msg [scans/msg scan_cpu_ms/msg]"
for mode in - "$tmp/db"; do
	"$build/bench_sanitize" "$mode" 20 "$tmp"/corpus/text-10k.eml \
	    "$tmp"/corpus/html-100k-attach.eml
	"$build/bench_sanitize" "$mode" 3 "$tmp"/corpus/html-1m.eml \
	    "$tmp"/corpus/html-2m.eml "$tmp"/corpus/html-5m.eml \
	    "$tmp"/corpus/html-10m.eml
done
echo "linear scaling: MB/s should stay about the same from 1 MB to 10 MB"
