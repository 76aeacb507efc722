#!/bin/sh
# scaling.sh BUILD - does the cost of sanitising grow linearly?  The
# library in process (bench/bench_sanitize.c, scanning with the test
# database), CPU time per message for one text body from 1 KB to 40 MB
# and for 1 to 1,000 parts, with the slope of each step (1.0 = linear)
# and a flag on any superlinear one (bench/scaling.py).  A benchmark: it
# prints numbers and asserts nothing.
set -eu
build=${1:-build}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/scaling.py" gen "$tmp/corpus"
# Linked by the Makefile, with the libraries libmugai.a needs.
make -s --no-print-directory BUILD="$build" "$build/bench_sanitize"
# The limits admit the largest message whole (they are what is measured
# against, not what is tested here).
opts="-o max_message_size=50M -o max_part_size=50M -o max_mime_parts=1000
    -o clamav_max_filesize=50M -o clamav_max_scansize=50M"
for f in "$tmp"/corpus/size-*.eml "$tmp"/corpus/parts-*.eml; do
	size=$(stat -c %s "$f")
	runs=$((20 * 1048576 / size))
	[ "$runs" -ge 1 ] || runs=1
	[ "$runs" -le 200 ] || runs=200
	# shellcheck disable=SC2086
	"$build/bench_sanitize" $opts "$build/testdb" "$runs" "$f"
done > "$tmp/out"
python3 "$here/scaling.py" table "$tmp/out"
