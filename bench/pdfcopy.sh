#!/bin/sh
# pdfcopy.sh BUILD - PDF copies of text documents made by LibreOffice:
# median copy/original size ratio, seconds per document and words kept
# (bench/pdfcopy.py).  Numbers only; nothing is asserted.
set -eu
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$(dirname "$0")/pdfcopy.py" "$build" "$tmp"
