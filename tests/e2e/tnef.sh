#!/bin/sh
# tnef.sh BUILD FIXTURES - winmail.dat (Outlook's application/ms-tnef)
# end to end through "mugai sanitize": a TNEF made by
# tests/e2e/tnef_writer.py with a Japanese RTF body, a JPEG (made by
# tests/e2e/mkjpeg.c), a .docx (made by LibreOffice headless) and an
# embedded message, in a message laid out as Outlook sends it.  The
# cases are in tests/e2e/tnef_check.py.
set -u
if [ $# -ne 2 ]; then
	echo "usage: tnef.sh BUILD FIXTURES" >&2
	exit 64
fi
build=$1
here=$(cd "$(dirname "$0")" && pwd)
testdb=${MUGAI_TESTDB:-$build/testdb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tnef.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for f in "$build/mugai" "$build/mugai-convert"; do
	if [ ! -x "$f" ]; then
		echo "FAIL tnef/setup: $f is not built"
		exit 1
	fi
done
if ! cc -o "$tmp/mkjpeg" "$here/mkjpeg.c" -ljpeg ||
    ! "$tmp/mkjpeg" "$tmp/photo.jpg"; then
	echo "FAIL tnef/setup: cannot build or run tests/e2e/mkjpeg.c"
	exit 1
fi
printf '報告書\n来年度の予算案について報告します。\n' > "$tmp/houkoku.txt"
if ! HOME=$tmp timeout 180 /usr/bin/soffice --headless --norestore \
    -env:UserInstallation="file://$tmp/profile" --convert-to docx \
    --outdir "$tmp" "$tmp/houkoku.txt" > "$tmp/soffice.log" 2>&1 ||
    [ ! -s "$tmp/houkoku.docx" ]; then
	echo "FAIL tnef/setup: LibreOffice could not write a .docx" \
	    "(sh scripts/setup): $(tail -c 300 "$tmp/soffice.log")"
	exit 1
fi
python3 "$here/tnef_check.py" "$build" "$tmp" "$testdb"
