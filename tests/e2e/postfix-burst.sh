#!/bin/sh
# postfix-burst.sh BUILD FIXTURES - a burst of documents through a
# private Postfix: 40 messages, each with a 4-page PDF, over 10 SMTP
# sessions at once, to a milter with convert_max_workers=2.  Run twice:
# with convert_zygote=no the worker is run through a wrapper that notes
# how many copies of it run as each starts; with the zygote (the
# default) the wrapper starts the zygote, once, and the documents'
# processes are its children, counted as they come and go.  Checked:
# never more than 2 at once; every message accepted and delivered once,
# each with a sanitised PDF copy or held for 'time' (the milter log
# names the reason; never a 4xx answer, never a milter timeout at
# Postfix: convert_message_timeout is set under Postfix's
# milter_content_timeout); the milter logs no error; the zygote started
# once, a fresh process for each document.
#
# Memory (tests/e2e/rsswatch.py samples the milter and every process
# under it: zygote, workers): the sum of their resident sizes at its
# peak stays within the bound the configuration documents: the milter
# as it was before the burst, plus, for each of the convert_max_workers
# slots, a worker's convert_memory and the output it may hand back
# (convert_max_output, held by the milter while it rebuilds the copy),
# plus 64 MB for the sessions' messages.  Here 2 x (384 + 64) MB: under
# 1 GB in all.  A limit check on what was measured, not a timing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-postfix.sh"
pf_setup postfix-burst "$@"
P=
# stop - Postfix and the milter of the round, if any.
stop() {
	[ -z "$P" ] || pf_stop "$P"
	if [ -n "$milter_pid" ]; then
		kill -TERM "$milter_pid" 2>/dev/null
		wait "$milter_pid" 2>/dev/null
	fi
	P=
	milter_pid=
}
pf_cleanup_hook() { stop; }
MAX=2
N=40
SESSIONS=10
MEMORY_MB=384		# convert_memory
OUTPUT_MB=64		# convert_max_output: 4 pages at 150 dpi are ~26 MB
SLACK_MB=64		# the sessions' messages in the milter
BUDGET=90		# convert_message_timeout: under Postfix's 120 s

# The counting wrapper: the real worker does its own sandboxing.  It
# counts in the directory named by the file "$T/w/countdir".
mkdir -p "$T/w"
cat > "$T/w/mugai-convert" <<WRAP
#!/bin/sh
d=\$(cat "$T/w/countdir")
: > "\$d/run.\$\$"
ls "\$d" | grep -c '^run\\.' >> "\$d/seen"
"$build/mugai-convert" "\$@"
rc=\$?
rm -f "\$d/run.\$\$"
exit \$rc
WRAP
chmod 755 "$T/w/mugai-convert"

python3 - "$T/msg" "$N" <<'PY'
import os, sys
from email.message import EmailMessage

def pdf(pages):
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [%s] /Count %d >>" % (
                " ".join("%d 0 R" % (4 + 2 * i) for i in range(pages)), pages),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i in range(pages):
        text = "BT /F1 24 Tf 72 700 Td (Burst page %d) Tj ET" % (i + 1)
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                    "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
                    % (5 + 2 * i))
        objs.append("<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text))
    out, offs = b"%PDF-1.4\n", []
    for n, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, o.encode())
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, x)
    return out

d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d)
doc = pdf(4)
for i in range(n):
    m = EmailMessage()
    m["From"] = "sender@example.com"
    m["To"] = "staff@city.example.lg.jp"
    m["Subject"] = "burst %d" % i
    m["Message-ID"] = "<burst-%d@example.com>" % i
    m.set_content("Report %d attached.\n" % i)
    m.add_attachment(doc, maintype="application", subtype="pdf",
                     filename="report-%d.pdf" % i)
    with open(os.path.join(d, "m%02d.eml" % i), "wb") as f:
        f.write(bytes(m))
PY

# zygote_watch ZPIDS SEEN STOP - until STOP exists, each 20 ms: how many
# children the zygote has (one line each in SEEN) and their pids (ZPIDS).
# A sample can miss a peak; the bound checked on it holds all the same.
zygote_watch() {
	while [ ! -e "$3" ]; do
		for w in $(pgrep -P "$milter_pid"); do
			for z in $(pgrep -P "$w"); do
				pgrep -P "$z" >> "$1"
				pgrep -c -P "$z" >> "$2"
			done
		done
		sleep 0.02
	done
}

# memory_check - the peak rsswatch.py saw in $D/rss against the bound
# (named $name/memory-bound).
memory_check() {
	if [ ! -s "$D/rss" ]; then
		fail "$name/memory-bound" "rsswatch.py wrote nothing"
		return
	fi
	# shellcheck disable=SC2046
	set -- $(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["rss_kb"], r["pss_kb"], r["procs_at_peak"], r["most_procs"],
      r["root_hwm_kb"], r["other_hwm_kb"], r["samples"])' "$D/rss")
	bound=$((idle_kb + MAX * (MEMORY_MB + OUTPUT_MB) * 1024 + SLACK_MB * 1024))
	echo "# $name: peak RSS of milter + zygote + workers $(($1 / 1024)) MB" \
	    "(PSS then $(($2 / 1024)) MB; $3 processes then, at most $4;" \
	    "milter idle $((idle_kb / 1024)) MB, its peak $(($5 / 1024)) MB;" \
	    "largest other process $(($6 / 1024)) MB; $7 samples);" \
	    "bound $((bound / 1024)) MB"
	if [ "$7" -ge 1 ] && [ "$1" -le "$bound" ]; then
		pass "$name/memory-bound"
	else
		fail "$name/memory-bound" "$(($1 / 1024)) MB over $((bound / 1024)) MB"
	fi
}

# round NAME OPTION... - a milter with the options, a private Postfix,
# the burst, the checks (named NAME/...).
round() {
	name=$1
	shift
	D=$T/$name
	P=$D/pf
	mkdir -p "$D/count"
	printf '%s\n' "$D/count" > "$T/w/countdir"
	mport=$(pf_free_port) && smtp=$(pf_free_port "$mport") &&
	    sink=$(pf_free_port "$mport" "$smtp") || {
		fail "$name/start" "no free ports"
		return
	}
	pf_milter_start "$build" "$D" "$testdb" "$mport" \
	    "convert_worker=$T/w/mugai-convert" "convert_max_workers=$MAX" \
	    "convert_memory=${MEMORY_MB}M" "convert_max_output=${OUTPUT_MB}M" \
	    "convert_message_timeout=${BUDGET}s" "$@"
	started=$?
	milter_pid=$pf_milter_pid	# stopped by stop whatever happened
	if [ "$started" -ne 0 ]; then
		fail "$name/milter-start" "$(tail -n 3 "$D/milter.log" | tr '\n' ' ')"
		return
	fi
	if ! pf_start "$P" "$smtp" "$sink" "inet:127.0.0.1:$mport" 2>"$D/start.err"; then
		fail "$name/postfix-start" "$(head -c 300 "$D/start.err" | tr '\n' ' ')"
		return
	fi
	# The milter before the burst: engine loaded, no mail yet.
	idle_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$milter_pid/status")
	python3 "$here/rsswatch.py" "$milter_pid" "$D/rss" 20 &
	rsswatch=$!
	watcher=
	if [ "$name" = zygote ]; then
		zygote_watch "$D/zpids" "$D/zseen" "$D/stop" &
		watcher=$!
	fi
	# SESSIONS senders at once, each with its share of the messages.
	# A message can wait for the nine before it on two workers: more
	# than swaks' default 30 s for the end of data on a busy machine.
	s=0
	senders=
	while [ "$s" -lt "$SESSIONS" ]; do
		(
			i=$s
			while [ "$i" -lt "$N" ]; do
				f=$(printf '%s/msg/m%02d.eml' "$T" "$i")
				PF_SEND_LOG=$D/send-$i.log pf_send_file "$smtp" "$f" \
				    --from sender@example.com \
				    --to staff@city.example.lg.jp \
				    --timeout 150 ||
				    echo "$i" >> "$D/refused"
				i=$((i + SESSIONS))
			done
		) &
		senders="$senders $!"
		s=$((s + 1))
	done
	# Only the senders: a bare "wait" would wait for the milter too.
	# shellcheck disable=SC2086
	wait $senders
	if [ -s "$D/refused" ]; then
		fail "$name/all-accepted" "not accepted: $(tr '\n' ' ' < "$D/refused")"
	else
		pass "$name/all-accepted"
	fi
	if pf_wait_sink "$P" "$N" 120; then
		pass "$name/sink-has-$N"
	else
		fail "$name/sink-has-$N" "$(pf_sink_count "$P") messages at the sink"
	fi
	if [ -n "$watcher" ]; then
		: > "$D/stop"
		wait "$watcher"
	fi
	: > "$D/rss.stop"
	wait "$rsswatch"
	memory_check
	most=$(sort -n "$D/count/seen" | tail -n 1)
	runs=$(wc -l < "$D/count/seen")
	if [ "$name" = zygote ]; then
		echo "# the zygote started $runs time(s)"
		if [ "$runs" -eq 1 ]; then
			pass "$name/zygote-started-once"
		else
			fail "$name/zygote-started-once" "started $runs times"
		fi
		most=$(sort -n "$D/zseen" | tail -n 1)
		runs=$(sort -u "$D/zpids" | wc -l)
	fi
	echo "# $name: $runs workers seen, at most $most at once (convert_max_workers=$MAX)"
	if [ "$runs" -ge 1 ] && [ "$most" -le "$MAX" ]; then
		pass "$name/at-most-$MAX-workers"
	else
		fail "$name/at-most-$MAX-workers" "$runs ran, $most at once"
	fi
	# shellcheck disable=SC2046
	python3 - "$D/milter.log" $(pf_sink_files "$P") > "$D/judge" <<'PY'
import email, email.policy, re, sys
# The milter logs "part PATH held (REASON): ..." for each copy not made.
held = re.findall(r"part \S+ held \(([^)]*)\)", open(sys.argv[1]).read())
seen, copies, removed = {}, 0, 0
for path in sys.argv[2:]:
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    subj = str(m["Subject"])
    seen[subj] = seen.get(subj, 0) + 1
    pdfs = [p for p in m.iter_attachments()
            if p.get_content_type() == "application/pdf"]
    status = str(m.get("X-Mugai-Status", ""))
    if pdfs and pdfs[0].get_content().startswith(b"%PDF-"):
        copies += 1
        print("ok", subj + ":", "copy")
    elif "removed=1" in status:
        removed += 1
        print("ok", subj + ":", "held", status)
    else:
        print("bad", subj + ":", "no PDF copy and not held:", status)
dups = [s for s, c in seen.items() if c > 1]
print("ok" if not dups else "bad", "no-duplicates:", " ".join(dups))
other = [r for r in held if r != "time"]
print("ok" if not other and len(held) == removed else "bad",
      "held-for-time: %d copies, %d held for time, other reasons: %s" % (
          copies, len(held) - len(other), " ".join(other) or "none"))
PY
	bad=$(grep -c '^bad' "$D/judge")
	grep '^ok held-for-time' "$D/judge" | sed 's/^ok /# /'
	if [ "$bad" -eq 0 ] && [ "$(grep -c '^ok burst' "$D/judge")" -eq "$N" ]; then
		pass "$name/each-copied-or-held-for-time"
	else
		fail "$name/each-copied-or-held-for-time" "$(grep '^bad' "$D/judge" | head -n 3 | tr '\n' ' ')"
	fi
	# Every answer to the end of data was 250: no 4xx (a milter that
	# timed out or failed would be a tempfail), and Postfix saw no
	# milter timeout.
	if grep -qE '^ *<[-*~]+ +4[0-9][0-9][ -]' "$D"/send-*.log; then
		fail "$name/no-4xx" "$(grep -hE '^ *<[-*~]+ +4[0-9][0-9][ -]' "$D"/send-*.log | head -n 2 | tr '\n' ' ')"
	elif grep -qi 'milter.*timeout\|timeout.*milter' "$P/maillog" 2>/dev/null; then
		fail "$name/no-4xx" "$(grep -i 'milter.*timeout\|timeout.*milter' "$P/maillog" | head -n 2 | tr '\n' ' ')"
	else
		pass "$name/no-4xx"
	fi
	if grep -qi ' error\|tempfail' "$D/milter.log"; then
		fail "$name/milter-no-errors" "$(grep -i ' error\|tempfail' "$D/milter.log" | head -n 2 | tr '\n' ' ')"
	else
		pass "$name/milter-no-errors"
	fi
}

round spawn convert_zygote=no
stop
round zygote convert_zygote=yes
stop
finish
