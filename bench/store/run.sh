#!/usr/bin/env bash
# Durable CreateIVRSession admissions, in one run: SQLite on one node, then PostgreSQL with
# 1, 2 and 3 nodes on one database, each through the API with TC3-signed requests spread
# over the nodes and over TENANTS accounts (each its own instance, caller number and
# callee, so that admissions count and lock different keys, as many customers' would).
# Prints figures only (nothing asserted), one line per setup:
#
#   setup  creates/s  p50/p99 ms  cccd µs/create  postgres µs/create
#   round trips/create (writer, readers)  dial queue depth (at the end)  errors
#
# What it measures: signature, validation, the demo rules' counts in the admission
# transaction, its durable commit (SQLite synchronous = FULL; PostgreSQL fsync on and
# synchronous_commit = on: the reply waits for its group's commit) and the hand-over to
# the dial queue. Admission and dialling are separate rates: the one trunk places 1 call
# a second (cps = 1, to a closed TCP port: each attempt fails at once), so the admitted
# sessions wait in the dial queue, whose depth is printed, instead of costing a call each.
# CPU per create is the processes' own accounting (/proc/PID/stat: user + system) over
# the run, for cccd (all nodes) and for PostgreSQL (the postmaster and its backends),
# divided by the creates; on a shared machine it is the figure to compare, the rate is
# not. Round trips are the nodes' own count (cccd_store_round_trips_total) per create,
# the writer's (rt_w) and the read connections' (rt_r) apart.
#
#   bench/store/run.sh                 5 s per setup, 64 connections, 64 API threads
#   SECONDS_EACH=10 CONNS=128 API_THREADS=128 bench/store/run.sh
#   SETUPS="sqlite pg1" TENANTS=1 bench/store/run.sh   one account, one callee: every
#                                    admission locks the same keys (the worst case)
#
# Ports: free ones chosen at start; PostgreSQL is a throwaway cluster (tests/pg/pg-tmp.sh,
# fsync on). Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECS=${SECONDS_EACH:-5}
CONNS=${CONNS:-64}
THREADS=${API_THREADS:-64} # blocking durable creates: more threads, bigger groups
SETUPS=${SETUPS:-sqlite pg1 pg2 pg3}
TENANTS=${TENANTS:-8} # 1-64
BUILD=build/${CCCD_BUILD:-release}

make -s -j2 >/dev/null
[ "$BUILD" = build/release ] || make -s -j2 VARIANT="${CCCD_BUILD}" >/dev/null
tmp=$(mktemp -d /tmp/cccd-bench-store-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ ! -d "$tmp/pg" ] || tests/pg/pg-tmp.sh stop "$tmp/pg"
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp" # the cluster runs as postgres when this runs as root

bin=build/release/bench
mkdir -p "$bin"
cc -O2 -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc bench/api/load.c \
	build/release/libcccd.a $(pkg-config --libs libre openssl) -lpthread -o "$bin/load"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# user + system CPU ticks of the processes given
ticks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$t"
}
pg_pids() { # the postmaster and every backend
	local pm
	pm=$(head -1 "$tmp/pg/data/postmaster.pid")
	echo "$pm" $(pgrep -P "$pm" || true)
}
metric() { # metric NAME PORT...: the sum of NAME's samples over the nodes' /metrics
	local name=$1 sum=0 port v
	shift
	for port in "$@"; do
		v=$(curl -s "http://127.0.0.1:$port/metrics" |
			awk -v n="$name" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d", s }')
		sum=$((sum + v))
	done
	echo "$sum"
}

conf() { # conf FILE NODE API_PORT ADMIN_PORT SIP_PORT STORE_LINES
	cat >"$1" <<CONF
[admin]
listen = 127.0.0.1:$4
[api]
listen = 127.0.0.1:$3
threads = $THREADS
rate_limit = 0
[cluster]
node_id = $2
[store]
$6
[sip]
listen = 127.0.0.1:$5
# The calls go to a closed TCP port, one a second: admitted sessions wait in the queue.
[trunk sink]
host = 127.0.0.1
port = 9
transport = tcp
route = *
cps = 1
options_interval = 0
[log]
level = warn
CONF
}

dsn=
if grep -q pg <<<"$SETUPS"; then
	dsn=$(tests/pg/pg-tmp.sh start "$tmp/pg")
fi
create='{"SdkAppId":14000000%s,"Callee":"0086130123456%s","IVRId":4600,"Variables":[{"Key":"name","Value":"Li Lei"}],"UUI":"bench"}'
hz=$(getconf CLK_TCK)

echo "cccd durable CreateIVRSession: $CONNS connections, $TENANTS accounts, ${SECS}s each, $THREADS API threads a node, $(nproc) cores"
printf '%-8s %9s %8s %8s %9s %9s %7s %7s %7s %6s\n' setup creates/s p50_ms p99_ms \
	cccd_us pg_us rt_w rt_r dialq errors
for setup in $SETUPS; do
	case $setup in
	sqlite) nodes=1 store_lines="path = $tmp/cccd.db" ;;
	pg[1-9]) # a database of its own: the setups do not inherit each other's queues
		nodes=${setup#pg}
		PGPASSWORD=$(cat "$tmp/pg/password") psql "$dsn" -qc "CREATE DATABASE $setup"
		store_lines="path = $tmp/$setup.db
master_key_file = $tmp/pg.key
backend = postgresql
dsn = $dsn dbname=$setup
password_file = $tmp/pg/password" ;;
	*) echo "unknown setup $setup" >&2; exit 2 ;;
	esac
	api=() admin=() node_pids=()
	for n in $(seq "$nodes"); do
		api+=("$(free_port)")
		admin+=("$(free_port)")
		conf "$tmp/$setup-$n.conf" "node$n" "${api[-1]}" "${admin[-1]}" "$(free_port)" \
			"$store_lines"
	done
	for k in $(seq 10 $((TENANTS + 9))); do
		$BUILD/ccc admin --config "$tmp/$setup-1.conf" tenant-add \
			--sdkappid 14000000$k --ivr 4600:autoOutbound --number 0086755123456$k \
			--rules demo >"$tmp/$setup-$k.cred"
	done
	for n in $(seq "$nodes"); do
		$BUILD/cccd --config "$tmp/$setup-$n.conf" 2>>"$tmp/$setup-$n.log" &
		pids+=($!)
		node_pids+=($!)
	done
	for port in "${api[@]}"; do
		for _ in $(seq 100); do
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
			sleep 0.1
		done
	done
	reqs=()
	for k in $(seq 10 $((TENANTS + 9))); do
		id=$(sed -n 's/^TENCENTCLOUD_SECRET_ID=//p' "$tmp/$setup-$k.cred")
		key=$(sed -n 's/^TENCENTCLOUD_SECRET_KEY=//p' "$tmp/$setup-$k.cred")
		"$bin/load" sign CreateIVRSession "$(printf "$create" "$k" "$k")" \
			"127.0.0.1:${api[0]}" "$id" "$key" >"$tmp/create-$k.http"
		"$bin/load" once 127.0.0.1 "${api[0]}" "$tmp/create-$k.http" >/dev/null # warm
		reqs+=("$tmp/create-$k.http")
	done
	ports=$(IFS=,; echo "${api[*]}")
	w0=$(metric 'cccd_store_round_trips_total{connection="writer"}' "${admin[@]}")
	r0=$(metric 'cccd_store_round_trips_total{connection="reader"}' "${admin[@]}")
	c0=$(ticks "${node_pids[@]}")
	p0=0
	[ "$setup" = sqlite ] || p0=$(ticks $(pg_pids))
	out=$("$bin/load" run 127.0.0.1 "$ports" "$CONNS" "$SECS" "${reqs[@]}")
	c1=$(ticks "${node_pids[@]}")
	p1=0
	[ "$setup" = sqlite ] || p1=$(ticks $(pg_pids))
	w1=$(metric 'cccd_store_round_trips_total{connection="writer"}' "${admin[@]}")
	r1=$(metric 'cccd_store_round_trips_total{connection="reader"}' "${admin[@]}")
	depth=$(metric cccd_dial_queue_depth "${admin[@]}")
	awk -v s="$setup" -v o="$out" -v c="$((c1 - c0))" -v p="$((p1 - p0))" \
		-v w="$((w1 - w0))" -v rd="$((r1 - r0))" -v d="$depth" -v hz="$hz" 'BEGIN {
		n = split(o, kv, /[ =]/);
		for (i = 1; i < n; i += 2) f[kv[i]] = kv[i + 1];
		r = f["requests"] ? f["requests"] : 1;
		printf "%-8s %9d %8.2f %8.2f %9.0f %9.0f %7.2f %7.2f %7d %6d\n", s, f["rps"],
			f["p50_ms"], f["p99_ms"], c * 1e6 / hz / r, p * 1e6 / hz / r, w / r, rd / r,
			d, f["errors"] }'
	# Killed: a drain would wait for the queued sessions, which the next setup (a
	# database of its own) does not need.
	for p in "${node_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	grep -hE ' (error|ERROR) ' "$tmp/$setup"-*.log | head -3 || true
done
