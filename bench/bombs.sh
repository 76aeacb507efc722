#!/bin/sh
# bombs.sh BUILD - wall time and peak memory of "mugai sanitize" on each
# hostile message of scripts/make-bombs (the same ones that
# tests/e2e/slow-bombs.sh checks the outcome of).  Numbers only: nothing
# here fails on them.
set -eu
build=${1:-build}
mugai=$build/mugai
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/make-bombs "$tmp/bombs"
sh scripts/make-testdb "$tmp/db" >/dev/null
opts="-o clamav_database_dir=$tmp/db -o quarantine_dir=$tmp/q -o audit_log=$tmp/audit.jsonl"

printf '%-16s %12s %6s %10s %12s\n' bomb bytes exit wall_s peak_rss_kB
for f in "$tmp"/bombs/*.eml; do
	name=$(basename "$f" .eml)
	extra=
	[ "$name" = base64-10x ] && extra="-o max_part_size=1M"
	# shellcheck disable=SC2086
	/usr/bin/time -v -o "$tmp/time" "$mugai" $opts $extra sanitize "$f" \
	    "$tmp/out.eml" >/dev/null 2>&1 && rc=0 || rc=$?
	wall=$(sed -n 's/^.*Elapsed (wall clock) time.*: //p' "$tmp/time")
	rss=$(sed -n 's/^.*Maximum resident set size (kbytes): //p' "$tmp/time")
	# m:ss.ss or h:mm:ss to seconds.
	secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++)
	    s = s * 60 + $i; printf "%.2f", s }')
	printf '%-16s %12d %6s %10s %12s\n' "$name" "$(wc -c < "$f")" "$rc" \
	    "$secs" "$rss"
done
echo "(exit 2: header is over max_message_size, content-headers is refused;"
echo " base64-10x runs with max_part_size=1M)"
