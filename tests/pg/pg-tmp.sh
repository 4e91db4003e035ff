#!/usr/bin/env bash
# pg-tmp: a throwaway PostgreSQL 15 cluster in a folder, for the tests and the benchmarks.
#
#   tests/pg/pg-tmp.sh start DIR   makes DIR, starts a cluster in it, prints its DSN
#   tests/pg/pg-tmp.sh stop DIR    stops it (if running) and removes DIR
#   tests/pg/pg-tmp.sh restart DIR stops it at once (-m immediate: a crash, connections cut)
#                                  and starts it again on the same port
#
# The cluster listens on a unix socket in DIR — reachable from every network namespace
# on the machine, so one cluster serves integration files running under `unshare -n` —
# and on a free TCP port of 127.0.0.1. Its superuser is `cccd`, authenticated by password
# (scram-sha-256) on both; the password is in DIR/password, the DSN (also in DIR/dsn)
# names none: cccd reads it through [store] password_file, psql through PGPASSFILE or
# PGPASSWORD. PostgreSQL refuses to run as root: as root, the cluster runs as the
# `postgres` user of Debian's package (or `cccd-pg`, created here if that is missing),
# and DIR belongs to that user.
#
#   PG_TMP_FSYNC=off    no fsync (the tests: cccd's durability promise is PostgreSQL's
#                       commit acknowledgement, which is the same with or without it;
#                       the benchmarks keep fsync on, as production does)
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|restart DIR" >&2; exit 2; }

as_owner() { # runs a command as the cluster's owner
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$owner" -- "$@"
	else
		"$@"
	fi
}

owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	owner=postgres
	if ! id postgres >/dev/null 2>&1; then
		owner=cccd-pg
		id cccd-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cccd-pg
	fi
fi

case "$cmd" in
start)
	[ -x "$PG_BIN/initdb" ] || { echo "pg-tmp: no $PG_BIN/initdb (scripts/install-deps.sh installs postgresql)" >&2; exit 1; }
	[ ! -e "$dir/data" ] || { echo "pg-tmp: $dir/data exists already" >&2; exit 1; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# The socket path must fit in sun_path (107 bytes) with "/.s.PGSQL.NNNNN".
	[ ${#dir} -le 80 ] || { echo "pg-tmp: $dir is too long for a unix socket path" >&2; exit 1; }
	[ "$(id -u)" -ne 0 ] || chown "$owner" "$dir"
	chmod 700 "$dir"
	# The password, written by its owner so that initdb can read it.
	as_owner bash -c 'umask 077; head -c 18 /dev/urandom | base64 | tr -d "/+=\n" >"$1/password"' _ "$dir"
	as_owner "$PG_BIN/initdb" -D "$dir/data" -U cccd --pwfile="$dir/password" \
		--auth=scram-sha-256 -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2; exit 1; }
	cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$dir'
		max_connections = 300
		shared_buffers = 64MB
		fsync = ${PG_TMP_FSYNC:-on}
		synchronous_commit = on
		log_min_messages = warning
		log_connections = off
	EOF
	# A free TCP port: picked at random above the ports the integration harness hands
	# out, checked, and picked again if the server cannot have it after all.
	for attempt in 1 2 3 4 5 6 7 8; do
		port=$((40000 + RANDOM % 20000))
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
		sed -i "/^port = /d" "$dir/data/postgresql.conf"
		echo "port = $port" >>"$dir/data/postgresql.conf"
		if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null; then
			dsn="host=$dir port=$port user=cccd dbname=postgres"
			echo "$dsn" >"$dir/dsn"
			echo "$port" >"$dir/port"
			echo "$dsn"
			exit 0
		fi
	done
	echo "pg-tmp: the cluster did not start (log: $dir/log)" >&2
	tail -n 20 "$dir/log" >&2 || true
	exit 1
	;;
restart)
	as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
	as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null
	;;
stop)
	[ -d "$dir" ] || exit 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop|restart DIR" >&2
	exit 2
	;;
esac
