#!/usr/bin/env bash
# pg-tmp: a throwaway PostgreSQL 15 cluster in a folder, for the tests and the benchmarks.
#
#   tests/pg/pg-tmp.sh start DIR   makes DIR, starts a cluster in it, prints its DSN
#   tests/pg/pg-tmp.sh stop DIR    stops it (if running) and removes DIR
#   tests/pg/pg-tmp.sh restart DIR stops it at once (-m immediate: a crash, connections cut)
#                                  and starts it again on the same port
#
# A primary and its synchronous streaming-replication standby (docs/cluster.md §The
# PostgreSQL standby), both on 127.0.0.1 and the socket folder DIR, each on a free port:
#
#   tests/pg/pg-tmp.sh start-pair DIR    the primary as `start` makes it (DIR/data, DIR/dsn,
#                                        DIR/port), then the standby copied from it by
#                                        pg_basebackup -R (DIR/standby, DIR/standby-dsn,
#                                        DIR/standby-port), then synchronous_standby_names
#                                        on the primary: a commit returns once the standby
#                                        has it. Prints DIR/pair-dsn, the two-host DSN
#                                        (target_session_attrs=read-write) a node uses.
#   tests/pg/pg-tmp.sh crash-primary DIR the primary stopped at once (-m immediate): every
#                                        connection to it cut, its port closed
#   tests/pg/pg-tmp.sh promote DIR       the standby promoted (pg_ctl promote -w: returns
#                                        once it accepts writes)
#   tests/pg/pg-tmp.sh stop DIR          stops both
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
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|restart|start-pair|crash-primary|promote DIR" >&2; exit 2; }

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

# Starts the cluster in data folder $1 (log $2) on a free TCP port of 127.0.0.1: picked at
# random above the ports the integration harness hands out, checked, and picked again if
# the server cannot have it after all. Sets $port.
start_on_free_port() {
	for attempt in 1 2 3 4 5 6 7 8; do
		port=$((40000 + RANDOM % 20000))
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
		sed -i "/^port = /d" "$1/postgresql.conf"
		echo "port = $port" >>"$1/postgresql.conf"
		as_owner "$PG_BIN/pg_ctl" -D "$1" -l "$2" -w -t 60 start >/dev/null && return 0
	done
	echo "pg-tmp: the cluster did not start (log: $2)" >&2
	tail -n 20 "$2" >&2 || true
	return 1
}

# The primary: DIR/data, DIR/dsn, DIR/port, DIR/password (and DIR/pgpass, the same
# password in libpq's passfile form, for the standby's replication connection and psql).
start_primary() {
	[ -x "$PG_BIN/initdb" ] || { echo "pg-tmp: no $PG_BIN/initdb (scripts/install-deps.sh installs postgresql)" >&2; exit 1; }
	[ ! -e "$dir/data" ] || { echo "pg-tmp: $dir/data exists already" >&2; exit 1; }
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# The socket path must fit in sun_path (107 bytes) with "/.s.PGSQL.NNNNN".
	[ ${#dir} -le 80 ] || { echo "pg-tmp: $dir is too long for a unix socket path" >&2; exit 1; }
	[ "$(id -u)" -ne 0 ] || chown "$owner" "$dir"
	chmod 700 "$dir"
	# The password, written by its owner so that initdb can read it.
	as_owner bash -c 'umask 077; head -c 18 /dev/urandom | base64 | tr -d "/+=\n" >"$1/password"
		printf "*:*:*:cccd:%s\n" "$(cat "$1/password")" >"$1/pgpass"' _ "$dir"
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
	start_on_free_port "$dir/data" "$dir/log" || exit 1
	echo "host=$dir port=$port user=cccd dbname=postgres" >"$dir/dsn"
	echo "$port" >"$dir/port"
}

# psql as the superuser on the server at port $1 (socket in DIR), the rest its arguments.
psql_at() {
	local p=$1
	shift
	as_owner env PGPASSFILE="$dir/pgpass" "$PG_BIN/psql" \
		"host=$dir port=$p user=cccd dbname=postgres" -v ON_ERROR_STOP=1 -qAt "$@"
}

case "$cmd" in
start)
	start_primary
	cat "$dir/dsn"
	;;
start-pair)
	start_primary
	# The standby: a copy of the primary (pg_basebackup, WAL streamed alongside), -R
	# writes standby.signal and primary_conninfo, whose application_name is the name
	# synchronous_standby_names gives below. The primary's settings are copied with
	# it, which is why synchronous_standby_names is set only afterwards: once promoted,
	# the standby must not wait for a standby of its own that does not exist.
	as_owner env PGPASSFILE="$dir/pgpass" "$PG_BIN/pg_basebackup" -D "$dir/standby" -R \
		-X stream -c fast --no-sync \
		-d "host=$dir port=$port user=cccd application_name=standby passfile=$dir/pgpass" \
		>"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
	primary_port=$port
	start_on_free_port "$dir/standby" "$dir/standby.log" || exit 1
	echo "host=$dir port=$port user=cccd dbname=postgres" >"$dir/standby-dsn"
	echo "$port" >"$dir/standby-port"
	psql_at "$primary_port" -c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" \
		-c "SELECT pg_reload_conf()" >/dev/null
	# Ready once the primary counts the standby as its synchronous one.
	for _ in $(seq 1 300); do
		[ "$(psql_at "$primary_port" -c "SELECT sync_state FROM pg_stat_replication \
			WHERE application_name = 'standby'")" = sync ] && break
		sleep 0.1
	done
	[ "$(psql_at "$primary_port" -c "SELECT sync_state FROM pg_stat_replication \
		WHERE application_name = 'standby'")" = sync ] || {
		echo "pg-tmp: the standby did not become synchronous (log: $dir/standby.log)" >&2
		exit 1; }
	echo "host=127.0.0.1,127.0.0.1 port=$primary_port,$port user=cccd dbname=postgres" \
		"target_session_attrs=read-write" >"$dir/pair-dsn"
	cat "$dir/pair-dsn"
	;;
restart)
	as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
	as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null
	;;
crash-primary)
	as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
	;;
promote)
	as_owner "$PG_BIN/pg_ctl" -D "$dir/standby" -w -t 60 promote >/dev/null
	;;
stop)
	[ -d "$dir" ] || exit 0
	for data in "$dir/data" "$dir/standby"; do
		if [ -f "$data/postmaster.pid" ]; then
			as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop \
				>/dev/null 2>&1 || true
		fi
	done
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop|restart|start-pair|crash-primary|promote DIR" >&2
	exit 2
	;;
esac
