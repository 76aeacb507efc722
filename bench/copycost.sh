#!/bin/sh
# copycost.sh BUILD [RUNS] - where the time of one sanitised copy goes
# (bench/copycost.c): a 20 KB PNG, a 50 KB docx made by LibreOffice and a
# ten-page 200 KB PDF (bench/postfix-client.py files), each copied RUNS
# times (default 15) with the worker spawned per document and forked by
# the zygote, alternating.  Numbers only; nothing is asserted.
set -eu
build=${1:-build}
runs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
for f in "$build/libmugai.a" "$build/mugai-convert" "$build/convert/image.o"; do
	[ -e "$f" ] || { echo "copycost: no $f; run make" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The Makefile's PKGS and CONVERT_PKGS: the library and the converters.
pkgs="gmime-3.0 libxml-2.0 libmagic libclamav sqlite3 libpng libjpeg zlib
    cairo freetype2 libtiff-4 libseccomp"
cpkgs="poppler-glib cairo fontconfig libtiff-4 libwebp libarchive libzip
    libytnef libgsf-1 libseccomp libxml-2.0 libpng libjpeg zlib"
objs=$(ls "$build"/convert/*.o | grep -v -e '/main\.o$' -e '/zygote\.o$')
# shellcheck disable=SC2086
${CC:-cc} -std=gnu11 -O2 -g -D_GNU_SOURCE -I"$top/include" \
	$(pkg-config --cflags $pkgs $cpkgs) -o "$tmp/copycost" \
	"$here/copycost.c" $objs "$build/libmugai.a" \
	$(pkg-config --libs $cpkgs $pkgs) -lgif -lpthread
python3 "$here/postfix-client.py" files "$tmp/files"
db=-
[ ! -d "$build/testdb" ] || db=$build/testdb
echo "per copy, ms (median of $runs; cpu: mean, this process and its" \
    "workers); spawn: mugai-convert started for each document," \
    "zyg: forked by the zygote (convert_zygote)"
# Poppler, called in this process for "decode", says so on stderr when
# it finds no font for a name: not a failure.
"$tmp/copycost" "$build/mugai-convert" "$db" "$runs" \
    png="$tmp/files/png-20k.png" docx="$tmp/files/docx-50k.docx" \
    pdf="$tmp/files/pdf10-200k.pdf" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
grep -iv 'font' "$tmp/err" >&2 || true
echo "start: process start and linking (spawn) or fork (zyg), sandbox" \
    "set-up, exit; sandbox: set-up alone; decode: the converter in" \
    "process; worker: the whole worker run; copy: worker + checking and" \
    "rebuilding (rebuild = copy - worker); cpu: of one copy; scan: ClamAV" \
    "on the copy, from memory; speedup: copy spawn / copy zyg"
