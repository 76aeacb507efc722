#!/bin/sh
# layout.sh BUILD FIXTURES - the layout rules of README.md ("Layout"):
# parts include only the parts below them, the worker shares only wire
# formats, and no two files of the library or the worker call each
# other in a circle (scripts/check-layout reads the objects in BUILD).
# Then the same checker on a copy of the tree with one wrong-way include
# and on two objects that call each other: it must object to both.
set -u
CK_SUITE=layout
. "$(dirname "$0")/lib-check.sh"
build=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/layout.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

check "tree and $build in order" python3 scripts/check-layout "$build"

# A base file that reaches up into the pipeline.
mkdir -p "$T/tree/scripts"
cp -R src include convert cli milter "$T/tree/"
cp scripts/check-layout "$T/tree/scripts/"
printf '#include "mugai/sanitize/sanitize.h"\n' >> "$T/tree/src/base/buf.c"
if python3 scripts/check-layout --root "$T/tree" > "$T/up.out" 2>&1; then
	fail "wrong-way include refused" "check-layout passed it"
elif grep -q "src/base/buf.c: part 'base' includes mugai/sanitize/sanitize.h" "$T/up.out"; then
	pass "wrong-way include refused"
else
	fail "wrong-way include refused" "$(head -c 300 "$T/up.out")"
fi

# Two library files that call each other.
mkdir -p "$T/b/src/x" "$T/b/convert"
printf 'int b(int);\nint a(int n) { return n ? b(n - 1) : 0; }\n' > "$T/a.c"
printf 'int a(int);\nint b(int n) { return n ? a(n - 1) : 1; }\n' > "$T/b.c"
printf 'int main(void) { return 0; }\n' > "$T/m.c"
if cc -c -o "$T/b/src/x/a.o" "$T/a.c" && cc -c -o "$T/b/src/x/b.o" "$T/b.c" &&
    cc -c -o "$T/b/convert/m.o" "$T/m.c"; then
	if python3 scripts/check-layout "$T/b" > "$T/circle.out" 2>&1; then
		fail "import circle refused" "check-layout passed it"
	elif grep -q "import circle: src/x/a.c src/x/b.c" "$T/circle.out"; then
		pass "import circle refused"
	else
		fail "import circle refused" "$(head -c 300 "$T/circle.out")"
	fi
else
	fail "import circle refused" "cannot compile the two objects"
fi
finish
