#!/bin/sh
# office.sh BUILD - legacy Office and RTF copies through LibreOffice: per
# type the median seconds per document and copy/original size ratio, and
# where the seconds go (bench/office.py).  Numbers only; nothing is
# asserted.
set -eu
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$(dirname "$0")/office.py" "$build" "$tmp"
