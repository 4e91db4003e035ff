#!/usr/bin/env bash
# fill: bulk-loads N finished calls into a cccd store that `ccc admin tenant-add` made, for
# bench/store/records.sh — straight into the database, not through the API (10 M calls
# through the API would take hours).
#
#   bench/store/fill.sh sqlite PATH N END_S
#   bench/store/fill.sh postgresql DSN N END_S      (password in PGPASSWORD)
#
# The calls of row i (0 <= i < N), the same on both backends (records.sh computes its
# requests from the same formulas):
#   - instance: three rows in four are the bench instance's, 1400000000; the fourth goes
#     to one of 1400000001..3 (other accounts on the same store);
#   - time: spread evenly over the 90 days before END_S, in the order of i (as calls
#     arrive): start_ts = END_S - 90 d + i * 90 d / N; seven calls in ten are answered
#     (after 5..24 s of ringing, talk 10..609 s), the others end 30..59 s after the start;
#   - numbers: nine calls in ten are outbound, from one of the instance's 50 lines
#     (0086755123456LL) to a customer (00861 followed by 38xxxxxxxx, a pool of N / 10
#     customers, at least 1000: each customer is called about ten times in the 90 days);
#     the tenth is inbound, customer to line;
#   - the session id: 8 hex digits of (i * 40503) mod 2^32, then i in 24 hex digits —
#     unique, and inserted in an order as scattered as random ids;
#   - key presses: every third answered call has one, every sixth a second.
# Every call is finished (status 3), as nearly all rows of a store that has run a while.
#
# DescribeTelCallInfo's tally (call_days, migration 22) is then built from the loaded
# sessions by migration 22's own back-fill statement, timed apart: it is what the upgrade
# to migration 22 costs a store of that size (docs/upgrades.md).
#
# Speed: the indexes of sessions and key_presses (but the primary keys) are dropped and
# built again after the rows are in — the same indexes, from the migrations' own text
# (sqlite_master / pg_indexes), built by sorting instead of row by row, so they end up
# denser than a store that grew by itself. SQLite loads in one transaction with no
# journal and synchronous off (WAL again after); PostgreSQL with synchronous_commit off,
# then VACUUM ANALYZE (what autovacuum does on its own after such a load).
set -euo pipefail

backend=$1 target=$2 n=$3 end_s=$4
span=$((90 * 86400))
t0=$((end_s - span))
pool=$((n / 10 > 1000 ? n / 10 : 1000))

# The row generator's columns, in each dialect.
if [ "$backend" = sqlite ]; then
	series="WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < $n - 1)"
	from="g"
	id="printf('%08x%024x', (i * 40503) % 4294967296, i)"
	line="printf('0086755123456%02d', (i * 13) % 50)"
	customer="printf('00861%010d', 3800000000 + (i * 7919) % $pool)"
else
	series=""
	from="generate_series(0::bigint, $n - 1) AS g(i)"
	id="lpad(to_hex((i * 40503) % 4294967296), 8, '0') || lpad(to_hex(i), 24, '0')"
	line="'0086755123456' || lpad(((i * 13) % 50)::text, 2, '0')"
	customer="'00861' || (3800000000 + (i * 7919) % $pool)::text"
fi
rows="$series SELECT i, $id AS id,
	CASE WHEN i % 4 = 3 THEN 1400000001 + (i / 4) % 3 ELSE 1400000000 END AS sdkappid,
	CASE WHEN i % 10 = 9 THEN 0 ELSE 1 END AS direction,
	$line AS line, $customer AS customer,
	$t0 + i * $span / $n AS t,
	CASE WHEN i % 10 < 7 THEN 1 ELSE 0 END AS answered
	FROM $from"

load="INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, ivr_id,
	ivr_version, status, created_ms, start_ts, ring_ts, accept_ts, ended_ts, end_status,
	hungup_side, dialled_ms)
SELECT id, sdkappid, sdkappid - 1399999999, direction,
	CASE WHEN direction = 1 THEN line ELSE customer END,
	CASE WHEN direction = 1 THEN customer ELSE line END,
	4600, 1, 3, t * 1000, t, t + 2,
	CASE WHEN answered = 1 THEN t + 5 + i % 20 ELSE 0 END,
	CASE WHEN answered = 1 THEN t + 15 + i % 20 + (i * 37) % 600 ELSE t + 30 + i % 30 END,
	CASE WHEN answered = 1 THEN 1 ELSE 2 END,
	CASE WHEN i % 2 = 0 THEN 'user' ELSE 'callee' END, t * 1000
FROM ($rows) AS r;
INSERT INTO key_presses (session_id, seq, key, label, ts_ms, node_label)
SELECT id, k.seq, CAST(k.seq AS TEXT), 'menu', (t + 30 + k.seq) * 1000, 'Main menu'
FROM ($rows) AS r, (SELECT 1 AS seq UNION ALL SELECT 2) AS k
WHERE answered = 1 AND i % 3 = 0 AND (k.seq = 1 OR i % 6 = 0);"

if [ "$backend" = sqlite ]; then
	tables="tbl_name IN ('sessions', 'key_presses') AND sql IS NOT NULL"
	drop=$(sqlite3 "$target" "SELECT 'DROP INDEX ' || name || ';' FROM sqlite_master
		WHERE type = 'index' AND $tables")
	create=$(sqlite3 "$target" "SELECT sql || ';' FROM sqlite_master
		WHERE type = 'index' AND $tables")
	sqlite3 "$target" >/dev/null <<-SQL
		PRAGMA journal_mode = DELETE;
		PRAGMA journal_mode = OFF;
		PRAGMA synchronous = OFF;
		PRAGMA cache_size = -1000000;
		PRAGMA temp_store = MEMORY;
		BEGIN;
		$drop
		$load
		$create
		COMMIT;
		PRAGMA journal_mode = WAL;
	SQL
else
	tables="tablename IN ('sessions', 'key_presses') AND indexname NOT LIKE '%pkey'"
	drop=$(psql "$target" -qAtc "SELECT 'DROP INDEX ' || indexname || ';' FROM pg_indexes
		WHERE $tables")
	create=$(psql "$target" -qAtc "SELECT indexdef || ';' FROM pg_indexes WHERE $tables")
	psql "$target" -q -v ON_ERROR_STOP=1 <<-SQL
		SET synchronous_commit = off;
		SET maintenance_work_mem = '1GB';
		BEGIN;
		$drop
		$load
		$create
		COMMIT;
		VACUUM ANALYZE sessions;
		VACUUM ANALYZE key_presses;
		CHECKPOINT;
	SQL
fi

tally="DELETE FROM call_days;
INSERT INTO call_days (sdkappid, day, direction, node_id, calls, answered, talk_s, minutes)
SELECT sdkappid, ended_ts / 86400, direction, '', count(*),
	sum(CASE WHEN accept_ts > 0 AND ended_ts >= accept_ts THEN 1 ELSE 0 END),
	sum(CASE WHEN accept_ts > 0 AND ended_ts >= accept_ts THEN ended_ts - accept_ts
	    ELSE 0 END),
	sum(CASE WHEN accept_ts > 0 AND ended_ts >= accept_ts
	    THEN (ended_ts - accept_ts + 59) / 60 ELSE 0 END)
FROM sessions WHERE status = 3 GROUP BY sdkappid, ended_ts / 86400, direction;"
t0=$(date +%s.%N)
if [ "$backend" = sqlite ]; then
	sqlite3 "$target" "$tally"
else
	psql "$target" -q -v ON_ERROR_STOP=1 -c "BEGIN; $tally COMMIT;" -c "VACUUM ANALYZE call_days"
fi
t1=$(date +%s.%N)
echo "tally back-fill (migration 22): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
