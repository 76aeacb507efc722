# lib-check.sh - sourced by end-to-end scripts: the PASS and FAIL lines
# that tests/run-e2e counts, and the summary at the end.
#
# Set CK_SUITE to the script's name before sourcing; each check's name
# is printed after CK_PREFIX, "$CK_SUITE/" unless set (to "" for none).
# check() keeps the command's output in $T/check.out: make T first.
# npass and nfail count what was printed.

npass=0
nfail=0

pass() { echo "PASS ${CK_PREFIX-$CK_SUITE/}$1"; npass=$((npass + 1)); }
fail() { echo "FAIL ${CK_PREFIX-$CK_SUITE/}$1: $2"; nfail=$((nfail + 1)); }

# check NAME COMMAND... - PASS when the command succeeds; its output
# (the first 400 bytes) says why when not.
check() {
	ck_name=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		pass "$ck_name"
	else
		fail "$ck_name" "$(head -c 400 "$T/check.out" | tr '\n' ' ')"
	fi
}

# finish - the summary line, then exit: 0 when nothing failed.
finish() {
	echo "$CK_SUITE: $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit
}
