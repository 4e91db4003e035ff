#!/usr/bin/env bash
# API bench: signed requests per second for DescribeTelSession and CreateIVRSession next to
# the same load generator against nginx serving a static JSON file on this machine, in one
# run, as ratios; then the store alone under the create pattern. Prints figures only.
#
# What each figure measures:
#  - nginx: GET of a static 130-byte JSON file, keep-alive, 2 workers: the ceiling of this
#    machine and load generator.
#  - wrk (2 threads, WRK_CONNS connections, keep-alive), the issue's yardstick: nginx with 2
#    workers answering cccd's own DescribeTelSession reply from memory (`return 200 '...'`)
#    against cccd's TC3-signed DescribeTelSession and durable CreateIVRSession, each with
#    p50/p99 and CPU µs per request (utime + stime of the server's processes from
#    /proc/PID/stat over the run, divided by the requests answered). wrk sends one request
#    signed beforehand (bench/api/fixed.lua): TC3 keeps no replay cache (only v1 does,
#    spec §6), so a TC3 request is valid again and again within its 300 s time window;
#    every request still goes through the whole signature check.
#  - DescribeTelSession: the full path — TC3 signature check with the stored key, rate
#    limit (off here), validation, instance and session reads, the JSON reply.
#  - CreateIVRSession, durable: signature, validation, calling rules (demo rules: no hours
#    and no caps, so one callee can be called again and again), the admission transaction
#    and its durable commit (synchronous = full: the reply waits for fsync, shared by a
#    group), the hand-over to the control loop — and a real call attempt for each: the
#    trunk is a closed TCP port on loopback, so every INVITE fails at once ("Connection
#    refused", EndStatus 208) and its final record is written. What is not measured: SIP
#    transactions with a live peer, media (bench/calls does).
#  - store alone: STORE_THREADS threads admitting sessions (with the counts of the default
#    rules) and queueing their final records, no HTTP: the store's ceiling, with the
#    writer's transactions and the mean number of writes per transaction (group commit).
#
#   BUILD_ONLY=1 bench/api/run.sh   only builds build/release/bench/{load,store} (CI does)
#   bench/api/run.sh                 10 s per figure, 32 connections (wrk: 64)
#   WRK_ONLY=1 bench/api/run.sh      only the wrk figures (nginx, signed read, create)
#   SECONDS_EACH=5 CONNS=64 API_THREADS=8 CCCD_BUILD=asan bench/api/run.sh
#   STORE=postgresql bench/api/run.sh   the same on PostgreSQL: a throwaway cluster
#                                    (tests/pg/pg-tmp.sh, fsync on, synchronous_commit on)
# Ports 18080-18089 on 127.0.0.1 (on a shared machine run it in its own network namespace:
# unshare -n bash -c 'ip link set lo up; bench/api/run.sh'); everything it starts is
# stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECS=${SECONDS_EACH:-10}
CONNS=${CONNS:-32}
WRK_CONNS=${WRK_CONNS:-64}
THREADS=${API_THREADS:-16}  # blocking durable creates: more threads, bigger group commits
STORE_THREADS=${STORE_THREADS:-32}
API_PORT=18080 SIP_PORT=18081 NGINX_PORT=18082 NGINX_RET_PORT=18083
BUILD=build/${CCCD_BUILD:-release}

make -s -j2 >/dev/null
[ "$BUILD" = build/release ] || make -s -j2 VARIANT="${CCCD_BUILD}" >/dev/null
tmp=$(mktemp -d /tmp/cccd-bench-api-XXXXXX)
pids=()
cleanup() {
	[ -s "$tmp/cccd.log" ] && grep -v ' info ' "$tmp/cccd.log" | tail -20 >&2
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ ! -d "$tmp/pg" ] || tests/pg/pg-tmp.sh stop "$tmp/pg"
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp" # nginx workers may run as another user

# The generator links cccd's sign module, so requests are signed exactly as clients do;
# the store bench links the store itself.
bin=build/release/bench
mkdir -p "$bin"
cc -O2 -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc bench/api/load.c \
	build/release/libcccd.a $(pkg-config --libs libre openssl) -lpthread -o "$bin/load"
cc -O2 -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H \
	-DHAVE_INET6 -Isrc $(pkg-config --cflags libre) bench/api/store.c build/release/libcccd.a \
	$(pkg-config --libs libre openssl sqlite3 libpq jansson) -lpthread -o "$bin/store"
[ -z "${BUILD_ONLY:-}" ] || exit 0

store_lines="path = $tmp/cccd.db"
if [ "${STORE:-sqlite}" = postgresql ]; then
	dsn=$(tests/pg/pg-tmp.sh start "$tmp/pg")
	for db in cccd bench_store; do
		PGPASSWORD=$(cat "$tmp/pg/password") psql "$dsn" -qc "CREATE DATABASE $db"
	done
	store_lines="$store_lines
backend = postgresql
dsn = $dsn dbname=cccd
password_file = $tmp/pg/password"
	export BENCH_PG_DSN="$dsn dbname=bench_store" BENCH_PG_PASSWORD_FILE=$tmp/pg/password
fi

cat >"$tmp/cccd.conf" <<CONF
[admin]
listen =
[api]
listen = 127.0.0.1:$API_PORT
threads = $THREADS
rate_limit = 0
[store]
$store_lines
[sip]
listen = 127.0.0.1:$SIP_PORT
# A route for every number; the calls go to a closed TCP port on loopback and fail at once.
[trunk sink]
host = 127.0.0.1
port = 9
transport = tcp
route = *
options_interval = 0
[log]
level = warn
CONF
cred=$($BUILD/ccc admin --config "$tmp/cccd.conf" tenant-add --sdkappid 1400000000 \
	--ivr 4600:autoOutbound --number 008675512345678 --rules demo)
id=$(sed -n 's/^TENCENTCLOUD_SECRET_ID=//p' <<<"$cred")
key=$(sed -n 's/^TENCENTCLOUD_SECRET_KEY=//p' <<<"$cred")
$BUILD/cccd --config "$tmp/cccd.conf" 2>"$tmp/cccd.log" &
pids+=($!)

for i in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$API_PORT) 2>/dev/null && break
	sleep 0.1
done

printf 'GET /static.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >"$tmp/static.http"
printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >"$tmp/nginx-return.http"
create='{"SdkAppId":1400000000,"Callee":"008613012345678","IVRId":4600,"Variables":[{"Key":"name","Value":"Li Lei"}],"UUI":"bench"}'
"$bin/load" sign CreateIVRSession "$create" "127.0.0.1:$API_PORT" "$id" "$key" >"$tmp/create.http"
reply=$("$bin/load" once 127.0.0.1 $API_PORT "$tmp/create.http" || true)
sid=$(sed -n 's/.*"SessionId":"\([0-9a-f]*\)".*/\1/p' <<<"$reply")
[ -n "$sid" ] || { echo "CreateIVRSession failed: $reply"; exit 1; }
"$bin/load" sign DescribeTelSession "{\"SdkAppId\":1400000000,\"SessionId\":\"$sid\"}" \
	"127.0.0.1:$API_PORT" "$id" "$key" >"$tmp/describe.http"
describe_reply=$("$bin/load" once 127.0.0.1 $API_PORT "$tmp/describe.http")
grep -q '"SessionStatus"' <<<"$describe_reply" || { echo "DescribeTelSession failed: $describe_reply"; exit 1; }
mkdir -p "$tmp/www" "$tmp/nginx"
echo '{"Response":{"Session":{"SessionID":"6bb56a09278740bc80c5dc6dab783eff","SessionStatus":"finished"},"RequestId":"6bb56a09-2787-40bc-80c5-dc6dab783eff"}}' >"$tmp/www/static.json"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx;
	proxy_temp_path $tmp/nginx;
	fastcgi_temp_path $tmp/nginx;
	uwsgi_temp_path $tmp/nginx;
	scgi_temp_path $tmp/nginx;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $tmp/www;
		location / { default_type application/json; }
	}
	server {
		listen 127.0.0.1:$NGINX_RET_PORT;
		location / {
			default_type "application/json; charset=utf-8";
			return 200 '$describe_reply';
		}
	}
}
CONF
/usr/sbin/nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" 2>"$tmp/nginx/stderr" &
pids+=($!)

for i in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$NGINX_PORT) 2>/dev/null && break
	sleep 0.1
done

rps() { sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$1"; }

# CPU ticks (user + system) of the processes given, from /proc/PID/stat.
ticks() { for p in "$@"; do cut -d' ' -f14,15 "/proc/$p/stat"; done | awk '{t += $1 + $2} END {print t}'; }
# wrk on port $1 with the request file $2, measuring the CPU of the processes $3...;
# prints the wrk line and "cpu_us_per_req=C".
wrk_run() {
	local port=$1 file=$2 t0 out
	shift 2
	t0=$(ticks "$@")
	out=$(BENCH_REQUEST=$file wrk -t2 -c"$WRK_CONNS" -d"${SECS}s" -s bench/api/fixed.lua \
		"http://127.0.0.1:$port/" | tail -1)
	awk -v out="$out" -v t="$(( $(ticks "$@") - t0 ))" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(out, f, /[ =]/); printf "%s cpu_us_per_req=%.1f\n", out, t * 1e6 / hz / (f[2] ? f[2] : 1) }'
}
nginx_workers=$(ps -o pid= --ppid "${pids[1]}" | tr '\n' ' ')
echo "wrk: 2 threads, $WRK_CONNS connections, ${SECS}s each; nginx 2 workers (return 200, the same reply)"
wn=$(wrk_run $NGINX_RET_PORT "$tmp/nginx-return.http" $nginx_workers)
echo "nginx return 200                      $wn"
wd=$(wrk_run $API_PORT "$tmp/describe.http" "${pids[0]}")
echo "DescribeTelSession (TC3, signed)      $wd"
wcr=$(wrk_run $API_PORT "$tmp/create.http" "${pids[0]}")
echo "CreateIVRSession (TC3, durable)       $wcr"
awk -v n="$(rps "$wn")" -v d="$(rps "$wd")" 'BEGIN {
	printf "wrk ratio DescribeTelSession / nginx  %.2f (target >= 0.8)\n", d / n }'
[ -z "${WRK_ONLY:-}" ] || exit 0
echo "cccd API bench: $CONNS connections, ${SECS}s each, $THREADS API threads, $(nproc) cores, store ${STORE:-sqlite}"
n=$("$bin/load" run 127.0.0.1 $NGINX_PORT "$CONNS" "$SECS" "$tmp/static.http")
echo "nginx static JSON                     $n"
dsc=$("$bin/load" run 127.0.0.1 $API_PORT "$CONNS" "$SECS" "$tmp/describe.http")
echo "DescribeTelSession (TC3, signed)      $dsc"
cre=$("$bin/load" run 127.0.0.1 $API_PORT "$CONNS" "$SECS" "$tmp/create.http")
echo "CreateIVRSession (TC3, durable)       $cre"
awk -v n="$(rps "$n")" -v d="$(rps "$dsc")" -v c="$(rps "$cre")" 'BEGIN {
	printf "ratio DescribeTelSession / nginx      %.2f (target >= 0.5)\n", d / n;
	printf "ratio CreateIVRSession / nginx        %.2f\n", c / n;
	printf "durable CreateIVRSession per second   %d (target >= 2000)\n", c }'
st=$("$bin/store" "$tmp/store.db" "$STORE_THREADS" "$SECS" full)
echo "store alone, $STORE_THREADS threads (full sync)     $st"
grep -E 'error|ERROR' "$tmp/cccd.log" | head -5 || true
