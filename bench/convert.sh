#!/bin/sh
# convert.sh BUILD - sanitised copies of attachments: PDF pages/s, MB/s
# for images, Office files and archives, output size against input
# (bench/convert.py).  Numbers only; nothing is asserted.
set -eu
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$(dirname "$0")/convert.py" "$build" "$tmp"
