#!/bin/sh
# mail-structure.sh BUILD FIXTURES - every part of real-world mail
# structure accounted for (tests/e2e/mail_structure.py), and the
# invariant over every fixture in the tree and every message
# scripts/make-fixtures writes (tests/e2e/parts_invariant.py).
set -u
build=${1:?usage: mail-structure.sh BUILD FIXTURES}
fixtures=${2:?usage: mail-structure.sh BUILD FIXTURES}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/mail-structure.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
rc=0
if ! cc -o "$T/mkjpeg" "$here/mkjpeg.c" -ljpeg || ! "$T/mkjpeg" "$T/photo.jpg"
then
	echo "FAIL mail-structure/setup: mkjpeg"
	exit 1
fi
python3 "$here/mail_structure.py" "$build" "$T" "$T/photo.jpg" || rc=1
python3 "$root/scripts/make-fixtures" "$T/gen" >/dev/null || {
	echo "FAIL mail-structure/setup: scripts/make-fixtures"
	exit 1
}
python3 "$here/parts_invariant.py" "$build" "$T/inv" \
    "$fixtures"/mail/*.eml "$T"/gen/*.eml || rc=1
exit $rc
