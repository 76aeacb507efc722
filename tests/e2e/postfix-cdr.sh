#!/bin/sh
# postfix-cdr.sh BUILD FIXTURES - sanitised copies through the real
# thing: a private Postfix with mugai-milter on the default policy, so
# the milter's threads spawn the sandboxed mugai-convert.  A PNG with a
# payload after its end arrives redrawn; a zip arrives re-packed without
# its program, and the notice names it; a winmail.dat arrives as its
# files (the PNG redrawn, the program removed) with its RTF body as text.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"
pf_setup postfix-cdr "$@"

mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
    sink=$(pf_free_port "$mport" "$smtp") || {
	fail start "no free ports"
	finish
}
pf_milter_start "$build" "$T" "$testdb" "$mport"
started=$?
milter_pid=$pf_milter_pid	# stopped by pf_cleanup whatever happened
if [ "$started" -ne 0 ]; then
	fail milter-start "$(tail -n 3 "$T/milter.log" | tr '\n' ' ')"
	finish
fi
pass milter-start
if ! pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" 2>"$T/start.err"; then
	fail postfix-start "$(head -c 300 "$T/start.err" | tr '\n' ' ')"
	finish
fi
pass postfix-start

mkdir -p "$T/msg"
python3 "$here/postfix_cdr.py" make "$T/msg"
for m in cdr-png cdr-zip cdr-tnef; do
	if pf_send_file "$smtp" "$T/msg/$m.eml" --from sender@example.com \
	    --to staff@city.example.lg.jp; then
		pass "$m-sent"
	else
		fail "$m-sent" "$(tail -n 3 "$PF_SEND_LOG" | tr '\n' ' ')"
	fi
done
if pf_wait_sink "$P" 3 60; then
	pass sink-has-3
else
	fail sink-has-3 "$(pf_sink_count "$P") messages at the sink"
fi
# shellcheck disable=SC2046
python3 "$here/postfix_cdr.py" check $(pf_sink_files "$P") > "$T/judge"
while read -r verdict name why; do
	name=${name%:}
	case $verdict in
	ok)	pass "$name" ;;
	*)	fail "$name" "$why" ;;
	esac
done < "$T/judge"
if grep -q 'converted (image)' "$T/milter.log" &&
    grep -q 'converted (archive)' "$T/milter.log" &&
    grep -q 'unpacked (TNEF)' "$T/milter.log"; then
	pass milter-log-converted
else
	fail milter-log-converted "no \"converted\" lines in the milter log"
fi
finish
