# lib-pg.sh - a private PostgreSQL cluster for e2e tests and benchmarks.
#
# Source it (POSIX sh, "set -u" safe), as root:
#
#	. "$(dirname "$0")/lib-pg.sh"
#	pg_have || { echo "SKIP ..."; exit 0; }
#	trap 'pg_stop "$T/pg"' EXIT
#	pg_start "$T/pg" || ...
#	mugai -o quarantine_db="$(pg_conninfo "$T/pg")" \
#	    -o quarantine_db_password_file="$T/pg/password" ...
#
# The cluster lives entirely in DIR: DIR/data (initdb), DIR/sock (its
# only listening socket: a unix socket, no TCP), DIR/log, DIR/password
# (the password of the database user "mugai", 0600, for
# quarantine_db_password_file).  Postgres runs as PG_USER (default
# nobody, the unprivileged user the postfix tests use for smtp-sink),
# which owns DIR/data and DIR/sock; clients log in with a password
# (scram-sha-256), so any local user that knows it may connect.  The
# database is "mugai".  DIR must be absolute and its parents searchable
# by PG_USER ("chmod 755" a mktemp -d directory first).
#
# PG_FSYNC=off (the default for tests) skips fsync in the server; the
# benchmarks set PG_FSYNC=on.  pg_stop stops the server and removes DIR.
# Functions return 0 on success, 1 on failure (the log tells why).

case ${0##*/} in
lib-pg.sh)
	echo "SKIP lib-pg (a library for the PostgreSQL tests)"
	exit 0 ;;
esac

PG_USER=${PG_USER:-nobody}
PG_FSYNC=${PG_FSYNC:-off}

# pg_bindir - print the newest /usr/lib/postgresql/N/bin with initdb.
pg_bindir() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V |
	    while read -r d; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
	    done | tail -n 1
}

# pg_have - 0 when the server binaries and runuser are there.
pg_have() {
	[ -n "$(pg_bindir)" ] && command -v runuser >/dev/null 2>&1 &&
	    command -v psql >/dev/null 2>&1
}

pg__as() { runuser -u "$PG_USER" -- "$@"; }

# pg_conninfo DIR - the connection string (no password in it).
pg_conninfo() {
	echo "host=$1/sock port=5432 dbname=mugai user=mugai"
}

# pg_psql DIR ARGS... - psql as the database's owner (no password needed).
pg_psql() {
	pg__d=$1
	shift
	PGPASSWORD=$(cat "$pg__d/password") psql -X -q -h "$pg__d/sock" \
	    -p 5432 -U mugai -d mugai -v ON_ERROR_STOP=1 "$@"
}

# pg_start DIR - initdb (first time) and start the server; wait for it.
pg_start() {
	pg__bin=$(pg_bindir)
	[ -n "$pg__bin" ] || return 1
	if [ ! -d "$1/data" ]; then
		mkdir -p "$1/sock" || return 1
		chmod 755 "$1"
		head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$1/password"
		chmod 600 "$1/password"
		# initdb reads the password from a file PG_USER can read.
		cp "$1/password" "$1/pwfile"
		chown "$PG_USER" "$1/sock" "$1/pwfile"
		install -d -o "$PG_USER" -m 700 "$1/data" || return 1
		touch "$1/log" && chown "$PG_USER" "$1/log"
		(cd "$1" && pg__as "$pg__bin/initdb" -D "$1/data" -U mugai \
		    --pwfile="$1/pwfile" --auth-local=scram-sha-256 \
		    --auth-host=reject -E UTF8 --locale=C.UTF-8) \
		    >"$1/initdb.log" 2>&1 || { rm -f "$1/pwfile"; return 1; }
		rm -f "$1/pwfile"
		pg__fresh=1
	else
		pg__fresh=0
	fi
	(cd "$1" && pg__as "$pg__bin/pg_ctl" -D "$1/data" -l "$1/log" -w \
	    -t 60 -o "-c listen_addresses='' -c unix_socket_directories='$1/sock'
	    -c port=5432 -c fsync=$PG_FSYNC -c max_connections=60
	    -c shared_buffers=32MB" start) >"$1/pg_ctl.log" 2>&1 || return 1
	if [ "$pg__fresh" = 1 ]; then
		PGPASSWORD=$(cat "$1/password") psql -X -q -h "$1/sock" -p 5432 \
		    -U mugai -d postgres -c 'CREATE DATABASE mugai' \
		    >>"$1/pg_ctl.log" 2>&1 || return 1
	fi
	return 0
}

# pg_halt DIR - stop the server, keep the cluster (pg_start starts it).
pg_halt() {
	pg__bin=$(pg_bindir)
	[ -f "$1/data/postmaster.pid" ] || return 0
	(cd "$1" && pg__as "$pg__bin/pg_ctl" -D "$1/data" -m fast -w -t 60 \
	    stop) >>"$1/pg_ctl.log" 2>&1
}

# pg_stop DIR - stop the server and remove DIR.
pg_stop() {
	[ -d "$1" ] || return 0
	pg_halt "$1"
	rm -rf "$1"
}
