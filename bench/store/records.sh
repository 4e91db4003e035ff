#!/usr/bin/env bash
# Records at scale: how the cost of reading records grows with the store. For each backend
# and size it fills a fresh store with N finished calls (bench/store/fill.sh: bulk load,
# 90 days, 4 instances, 50 lines and N / 10 customers), starts the real cccd on it and
# measures, through the signed API, one request at a time (bench/store/lat.c):
#
#   cdr_customer     DescribeTelCdr, one day, PageSize 100, Phones = a customer called that day
#   cdr_line         DescribeTelCdr, one day, PageSize 100, Phones = one of the instance's
#                    50 lines (its day's calls: about N / 6000 of them)
#   cdr_deep         DescribeTelCdr, one day, PageSize 100, no Phones, a page in the middle
#                    of the day (PageNumber = the day's calls / 200)
#   session          DescribeTelSession of a random session of the instance
#   active           DescribePSTNActiveSessionList, Offset 0, Limit 25 (its most)
#   callinfo_90d     DescribeTelCallInfo over 90 days (the per-day tally, migration 22;
#                    it summed the instance's three quarters of N before)
#
# and prints p50 / p99 / max in ms, the load time, the store's size on disk, and the plans
# of the store's queries behind those actions (EXPLAIN QUERY PLAN on SQLite; EXPLAIN
# ANALYZE on PostgreSQL, the actual rows read beside the plan). It prints figures and
# asserts nothing. Everything lives in /tmp/scale-* and is removed at the end.
#
#   bench/store/records.sh                              100 k and 1 M, SQLite and PostgreSQL
#   SIZES="10000000" BACKENDS=sqlite bench/store/records.sh
#   REQUESTS=200 SIZES=100000 bench/store/records.sh    a quick look
#   BUILD_ONLY=1 bench/store/records.sh                 only builds build/release/bench/lat (CI)
#   RT=1 nice -n 19 bench/store/records.sh              on a machine busy with other work:
#                       the load at the lowest priority; cccd, the PostgreSQL server and
#                       the client measured at real-time priority (SCHED_FIFO 20), so a
#                       request waits for its own work, not for a core
#
# Time and room: loading takes about a minute per million calls per backend on 2 cores;
# a million calls take about 0.6 GB (SQLite) to 0.8 GB (PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=${SIZES:-100000 1000000}
BACKENDS=${BACKENDS:-sqlite postgresql}
REQUESTS=${REQUESTS:-1000}
BUILD=build/release
SDK=1400000000
DAY=86400

make -s -j2 >/dev/null
mkdir -p $BUILD/bench
cc -O2 -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc bench/store/lat.c \
	$BUILD/libcccd.a $(pkg-config --libs libre openssl) -lpthread -o $BUILD/bench/lat
[ -z "${BUILD_ONLY:-}" ] || exit 0

tmp=
cccd_pid=
cleanup() {
	[ -z "$cccd_pid" ] || { kill "$cccd_pid" 2>/dev/null || true; wait "$cccd_pid" || true; }
	cccd_pid=
	if [ -n "$tmp" ]; then
		[ ! -d "$tmp/pg" ] || tests/pg/pg-tmp.sh stop "$tmp/pg"
		rm -rf "$tmp"
	fi
	tmp=
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The store's queries behind the measured actions, with the values of one request, as
# store_cdr_sql / store_usage_minutes write them (src/store/session.c, usage.c).
queries() { # DAY_START LINE OFFSET
	local w="sdkappid = $SDK AND status = 3 AND ended_ts BETWEEN $1 AND $(($1 + DAY - 1))"
	local arm="ORDER BY ended_ts DESC, id LIMIT 100"
	local phpage="id IN (SELECT id FROM (SELECT id, ended_ts FROM (SELECT id, ended_ts FROM sessions WHERE $w AND caller IN ('$2') $arm) AS a0 UNION SELECT id, ended_ts FROM (SELECT id, ended_ts FROM sessions WHERE $w AND callee IN ('$2') $arm) AS a1) AS u ORDER BY ended_ts DESC, id LIMIT 100 OFFSET 0)"
	local cols="id, sdkappid, account_id, direction, caller, callee, ivr_id, ivr_version, uui, variables, max_ring_s, request_id, status, created_ms, start_ts, ring_ts, accept_ts, ended_ts, end_status, hungup_side, end_reason, record_url, record_id, participants, outbound_caller, outbound_callee, voicemail_urls, ai, evidence, dialled_ms"
	local page_ids="" i
	for i in $(seq 0 99); do page_ids="$page_ids${page_ids:+,}'$(printf '%08x%024x' $(((i * 40503) % 4294967296)) $i)'"; done
	echo "DescribeTelCdr, Phones, count|SELECT count(*) FROM (SELECT id FROM sessions WHERE $w AND caller IN ('$2') UNION SELECT id FROM sessions WHERE $w AND callee IN ('$2')) AS u"
	echo "DescribeTelCdr, Phones, page|SELECT $cols FROM sessions WHERE $phpage ORDER BY ended_ts DESC, id"
	echo "DescribeTelCdr, no Phones, count|SELECT count(*) FROM sessions WHERE $w"
	echo "DescribeTelCdr, deep page|SELECT $cols FROM sessions WHERE id IN (SELECT id FROM sessions WHERE $w ORDER BY ended_ts DESC, id LIMIT 100 OFFSET $3) ORDER BY ended_ts DESC, id"
	echo "DescribeTelCdr, key presses of a page|SELECT session_id, key, label, ts_ms, node_label, original, tts_prompt, post FROM key_presses WHERE session_id IN ($page_ids) ORDER BY session_id, seq"
	echo "DescribeTelSession|SELECT $cols FROM sessions WHERE id = '$(printf '%08x%024x' 0 0)' AND sdkappid = $SDK"
	echo "DescribePSTNActiveSessionList, count|SELECT count(*) FROM sessions WHERE sdkappid = $SDK AND status <> 3"
	echo "DescribePSTNActiveSessionList, page|SELECT $cols FROM sessions WHERE id IN (SELECT id FROM sessions WHERE sdkappid = $SDK AND status <> 3 ORDER BY created_ms, id LIMIT 25 OFFSET 0) ORDER BY created_ms, id"
	echo "DescribeTelCallInfo, 90 days|SELECT direction, CAST(SUM(minutes) AS BIGINT) FROM call_days WHERE sdkappid = $SDK AND day BETWEEN $(($1 / DAY - 89)) AND $(($1 / DAY)) GROUP BY direction"
}

# The requests, from fill.sh's formulas: row i of the bench instance (i % 4 != 3) starts
# at t0 + i * span / n, calls customer 3800000000 + (i * 7919) % pool from line
# (i * 13) % 50; a day holds about 3 n / 4 / 90 of the instance's calls.
requests() { # N END_S
	awk -v n="$1" -v end="$2" -v reqs="$REQUESTS" -v sdk=$SDK -v day=$DAY 'BEGIN {
		srand(14); span = 90 * day; t0 = end - span
		pool = int(n / 10) > 1000 ? int(n / 10) : 1000
		perday = int(3 * n / 4 / 90)
		for (r = 0; r < reqs; r++) {
			do i = int(rand() * n); while (i % 4 == 3)
			t = t0 + int(i * span / n); d = t - t % day
			# the call ends the same day or the next: take its end day when in range
			if (d + day > end) d -= day
			cust = sprintf("00861%.0f", 3800000000 + (i * 7919) % pool)
			line = sprintf("0086755123456%02d", (i * 13) % 50)
			range = sprintf("\"SdkAppId\":%d,\"StartTimeStamp\":%d,\"EndTimeStamp\":%d,\"PageSize\":100", sdk, d, d + day - 1)
			printf "cdr_customer DescribeTelCdr {%s,\"PageNumber\":0,\"Phones\":[\"%s\"]}\n", range, cust
			printf "cdr_line DescribeTelCdr {%s,\"PageNumber\":0,\"Phones\":[\"%s\"]}\n", range, line
			printf "cdr_deep DescribeTelCdr {%s,\"PageNumber\":%d}\n", range, int(perday / 200)
			printf "session DescribeTelSession {\"SdkAppId\":%d,\"SessionId\":\"%08x%024x\"}\n", sdk, (i * 40503) % 4294967296, i
			if (r % 10 == 0)
				printf "active DescribePSTNActiveSessionList {\"SdkAppId\":%d,\"Offset\":0,\"Limit\":25}\n", sdk
			if (r % 200 == 0)
				printf "callinfo_90d DescribeTelCallInfo {\"SdkAppIdList\":[%d],\"StartTimeStamp\":%d,\"EndTimeStamp\":%d}\n", sdk, end - 89 * day, end
		}
	}'
}

plans() { # BACKEND N END_S
	local d=$(($3 - $3 % DAY - 10 * DAY)) off=$((3 * $2 / 4 / 90 / 2))
	echo "plans (one day $d, line 008675512345600, deep offset $off):"
	while IFS='|' read -r name sql; do
		echo "  -- $name"
		if [ "$1" = sqlite ]; then
			sqlite3 "$tmp/cccd.db" "EXPLAIN QUERY PLAN $sql" | sed 's/^/    /'
		else
			psql "$dsn dbname=cccd" -qAtc "EXPLAIN (ANALYZE, COSTS OFF) $sql" |
				grep -v '^Planning\|^Execution' | sed 's/^/    /'
		fi
	done < <(queries "$d" 008675512345600 "$off")
}

run() { # BACKEND N
	local backend=$1 n=$2 end_s api_port sip_port store_lines cred id key t0 t1 size
	tmp=$(mktemp -d /tmp/scale-XXXXXX)
	chmod 755 "$tmp" # PostgreSQL runs as its own user when this runs as root
	end_s=$(date +%s)
	store_lines="path = $tmp/cccd.db"
	if [ "$backend" = postgresql ]; then
		dsn=$(tests/pg/pg-tmp.sh start "$tmp/pg")
		export PGPASSWORD
		PGPASSWORD=$(cat "$tmp/pg/password")
		psql "$dsn" -qc "CREATE DATABASE cccd"
		store_lines="$store_lines
backend = postgresql
dsn = $dsn dbname=cccd
password_file = $tmp/pg/password"
	fi
	api_port=$(free_port)
	sip_port=$(free_port)
	cat >"$tmp/cccd.conf" <<-CONF
		[admin]
		listen =
		[api]
		listen = 127.0.0.1:$api_port
		rate_limit = 0
		[store]
		$store_lines
		[sip]
		listen = 127.0.0.1:$sip_port
		[log]
		level = warn
	CONF
	cred=$($BUILD/ccc admin --config "$tmp/cccd.conf" tenant-add --sdkappid $SDK \
		--ivr 4600:autoOutbound --number 008675512345600 --rules demo)
	id=$(sed -n 's/^TENCENTCLOUD_SECRET_ID=//p' <<<"$cred")
	key=$(sed -n 's/^TENCENTCLOUD_SECRET_KEY=//p' <<<"$cred")

	t0=$(date +%s.%N)
	if [ "$backend" = sqlite ]; then
		bench/store/fill.sh sqlite "$tmp/cccd.db" "$n" "$end_s"
		size=$(du -cb "$tmp"/cccd.db* | tail -1 | cut -f1)
	else
		bench/store/fill.sh postgresql "$dsn dbname=cccd" "$n" "$end_s"
		size=$(psql "$dsn dbname=cccd" -qAtc "SELECT pg_database_size('cccd')")
	fi
	t1=$(date +%s.%N)
	echo
	echo "== $backend, $n records: load $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s, store $(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1e9 }') GB"

	local rt=()
	if [ -n "${RT:-}" ]; then
		rt=(chrt -f 20)
		# the server's backends are forked after this, and inherit it
		[ "$backend" = sqlite ] || chrt -f -p 20 "$(head -1 "$tmp/pg/data/postmaster.pid")"
	fi
	"${rt[@]}" $BUILD/cccd --config "$tmp/cccd.conf" 2>"$tmp/cccd.log" &
	cccd_pid=$!
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$api_port) 2>/dev/null && break
		sleep 0.2
	done
	requests "$n" "$end_s" | "${rt[@]}" $BUILD/bench/lat 127.0.0.1 "$api_port" "$id" "$key" |
		sed 's/^/  /'
	plans "$backend" "$n" "$end_s"
	grep -E 'error|ERROR' "$tmp/cccd.log" | head -5 || true
	cleanup
}

echo "records at scale: $(nproc) cores, $REQUESTS requests per query, sizes $SIZES, $BACKENDS${RT:+, measured at real-time priority}"
for n in $SIZES; do
	for backend in $BACKENDS; do
		run "$backend" "$n"
	done
done
