/* Unit tests of the plans of DescribeTelCdr's queries (store_cdr_sql, the statements
 * store_cdr_list runs): on a store of 20,000 finished calls over 20 days, the Phones
 * filter reads the numbers' indexes (sessions_ended_caller, sessions_ended_callee), a page
 * comes in the order of sessions_ended_page without a sort, and nothing reads the whole
 * sessions table. These fail if an index of migration 20 or 26 goes or the query changes
 * shape so that the engine falls back to reading the day's calls (docs/benchmarks.md
 * §Records at scale): a page is a deferred join (its ids from index entries alone, then
 * only its rows from the table), a number's page reads each arm only to offset + limit in
 * the page's order, and DescribeTelCallInfo reads the per-day tally (call_days), which
 * migration 22's back-fill and the finishing write keep equal to the sessions' sums. The
 * results are checked too, against the same filters written plainly.
 *
 * And the plans of the auto-callout scheduler's statements (store_task_sched_sql): on a
 * task of 20,000 callees, none reads the task's callees one by one or sorts them, so
 * that the scheduler's cost per attempt does not grow with the callees waiting
 * (docs/benchmarks.md §Tasks; migration 24).
 *
 * On SQLite (a file per test) by default, with no statistics (cccd runs no ANALYZE);
 * CCCD_TEST_STORE=postgresql runs the same tests on PostgreSQL, a database per test,
 * created through CCCD_TEST_PG_DSN with the password in CCCD_TEST_PG_PASSWORD_FILE, as
 * test_store does, after ANALYZE (what autovacuum does on a table that grew). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "store/store_int.h"

enum {
	ROWS = 20000,
	DAYS = 20,
	DAY_S = 86400,
	T0 = 1700000000 - 1700000000 % DAY_S,
	SDKAPPID = 31,
};

struct fixture {
	char dir[64];
	char pg_db[64];
	struct store_conf conf;
	struct store *st;
	struct db_conn *c; /* a connection of the test's own, to look into the database */
};

static bool on_pg;

static void admin_exec(const char *sql)
{
	struct store_conf admin = {.backend = DB_POSTGRESQL, .busy_timeout_ms = 10000};
	const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
	struct db_conn *c = NULL;

	snprintf(admin.dsn, sizeof(admin.dsn), "%s", getenv("CCCD_TEST_PG_DSN"));
	snprintf(admin.password_file, sizeof(admin.password_file), "%s", pw ? pw : "");
	assert_int_equal(db_open(&c, &admin, false), 0);
	if (db_exec(c, sql))
		fail_msg("%s: %s", sql, db_errmsg(c));
	mem_deref(c);
}

static void exec(struct fixture *f, const char *sql)
{
	if (db_exec(f->c, sql))
		fail_msg("%s: %s", sql, db_errmsg(f->c));
}

/* Row i: instance 31 (and, one in four, 32), 1,000 calls a day ending in the order of i,
 * from one of 50 lines "0086755000000LL" to one of 2,000 customers "0086138000CCCCC";
 * one in ten not answered (EndStatus 202), one in 100 failed (0), the others ok (1). */
static void fill(struct fixture *f)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, "
		 "status, created_ms, start_ts, accept_ts, ended_ts, end_status) "
		 "WITH RECURSIVE g(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM g WHERE i < %d) "
		 "SELECT 'plan' || CAST(i AS TEXT), CASE WHEN i %% 4 = 3 THEN 32 ELSE 31 END, 1, 1, "
		 "'0086755000000' || CAST(10 + i %% 50 AS TEXT), "
		 "'0086138000' || CAST(10000 + i %% 2000 AS TEXT), 3, 0, "
		 "%d + i * %d / %d, %d + i * %d / %d, %d + i * %d / %d + 60, "
		 "CASE WHEN i %% 100 = 7 THEN 0 WHEN i %% 10 = 3 THEN 202 ELSE 1 END FROM g",
		 ROWS - 1, T0, DAYS * DAY_S, ROWS, T0, DAYS * DAY_S, ROWS, T0, DAYS * DAY_S, ROWS);
	exec(f, sql);
	if (on_pg)
		exec(f, "ANALYZE sessions");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static unsigned seq;

	strcpy(f->dir, "/tmp/cccd-test-plan-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	if (on_pg) {
		const char *dsn = getenv("CCCD_TEST_PG_DSN");
		const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
		char sql[128];

		snprintf(f->pg_db, sizeof(f->pg_db), "test_plan_%d_%u", (int)getpid(), ++seq);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
		admin_exec(sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->pg_db);
		admin_exec(sql);
		f->conf.backend = DB_POSTGRESQL;
		snprintf(f->conf.dsn, sizeof(f->conf.dsn), "%s dbname=%s", dsn, f->pg_db);
		snprintf(f->conf.password_file, sizeof(f->conf.password_file), "%s",
			 pw ? pw : "");
	}
	f->conf.batch_max = 64;
	f->conf.busy_timeout_ms = 5000;
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_int_equal(db_open(&f->c, &f->conf, false), 0);
	fill(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->c);
	mem_deref(f->st);
	if (on_pg) {
		snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
		admin_exec(cmd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The plan of one of q's statements, its lines joined by '\n' into plan (EXPLAIN QUERY
 * PLAN's details on SQLite, EXPLAIN's lines on PostgreSQL). */
static void plan_of(struct fixture *f, const struct store_cdr_query *q, bool page,
		    char *plan, size_t size)
{
	char *count_sql = NULL, *page_sql = NULL, sql[4096];
	struct db_stmt *s;
	size_t len = 0;
	int rc;

	assert_int_equal(store_cdr_sql(q, &count_sql, &page_sql), 0);
	snprintf(sql, sizeof(sql), "%s %s", on_pg ? "EXPLAIN" : "EXPLAIN QUERY PLAN",
		 page ? page_sql : count_sql);
	mem_deref(count_sql);
	mem_deref(page_sql);
	s = db_prepare(f->c, sql);
	if (!s)
		fail_msg("%s: %s", sql, db_errmsg(f->c));
	store_list_bind(s, q, page);
	plan[0] = '\0';
	while ((rc = db_step(s)) == DB_ROW) {
		const char *line = db_col_text(s, on_pg ? 0 : 3);

		len += (size_t)snprintf(plan + len, size - len, "%s\n", line ? line : "");
		assert_true(len < size);
	}
	assert_int_equal(rc, DB_DONE);
	mem_deref(s);
}

/* Nothing in the plan reads the sessions table from end to end. */
static void assert_no_scan(const char *plan)
{
	if (strstr(plan, on_pg ? "Seq Scan on sessions" : "SCAN sessions"))
		fail_msg("the plan reads the whole sessions table:\n%s", plan);
}

static void assert_uses(const char *plan, const char *index)
{
	if (!strstr(plan, index))
		fail_msg("the plan does not use %s:\n%s", index, plan);
}

static int count_of(struct store_session *s, void *arg)
{
	(void)s;
	++*(uint64_t *)arg;
	return 0;
}

/* The first column of a query's first row. */
static int64_t raw_int(struct fixture *f, const char *sql)
{
	struct db_stmt *s = db_prepare(f->c, sql);
	int64_t n;

	if (!s)
		fail_msg("%s: %s", sql, db_errmsg(f->c));
	assert_int_equal(db_step(s), DB_ROW);
	n = db_col_int64(s, 0);
	mem_deref(s);
	return n;
}

static int64_t raw_count(struct fixture *f, const char *where)
{
	char sql[640];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sessions WHERE %s", where);
	return raw_int(f, sql);
}

/* The ids of a listing, in order, joined by ',' (the test's own buffer). */
struct ids {
	char text[8192];
	size_t len;
};

static int id_of(struct store_session *s, void *arg)
{
	struct ids *ids = arg;

	ids->len += (size_t)snprintf(ids->text + ids->len, sizeof(ids->text) - ids->len,
				     "%s,", s->id);
	assert_true(ids->len < sizeof(ids->text));
	return 0;
}

/* How many times needle is in plan. */
static int occurrences(const char *plan, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(plan, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Phones: a line (about 20 calls of the day) and a customer, each arm through its own
 * index, the page sorted from those rows only; the count and rows are the plain filter's. */
static void test_phones_use_number_indexes(void **state)
{
	struct fixture *f = *state;
	const char *phones[] = {"008675500000010", "008613800010011"};
	struct store_cdr_query q = {.sdkappid = SDKAPPID, .since = T0 + 5 * DAY_S,
				    .until = T0 + 6 * DAY_S - 1, .phones = phones,
				    .n_phones = 2, .limit = 100};
	char plan[8192], where[512];
	uint64_t total = 0, rows = 0;

	for (int page = 0; page < 2; page++) {
		plan_of(f, &q, page, plan, sizeof(plan));
		assert_no_scan(plan);
		assert_uses(plan, "sessions_ended_caller");
		assert_uses(plan, "sessions_ended_callee");
	}
	/* The page's arms read the indexes in the page's order, so each stops at its limit. */
	assert_uses(plan, "sessions_ended_caller_page");
	assert_uses(plan, "sessions_ended_callee_page");
	assert_int_equal(store_cdr_list(f->st, &q, count_of, &rows, &total), 0);
	snprintf(where, sizeof(where), "sdkappid = %d AND status = 3 AND ended_ts BETWEEN "
		 "%lld AND %lld AND (caller IN ('%s', '%s') OR callee IN ('%s', '%s'))",
		 SDKAPPID, (long long)q.since, (long long)q.until, phones[0], phones[1],
		 phones[0], phones[1]);
	assert_true(total > 10);
	assert_int_equal(total, raw_count(f, where));
	assert_int_equal(rows, total);
}

/* A number's pages: each arm limited to offset + limit before the UNION, and the page
 * cut from their union, give page after page exactly the plain filter's rows in its
 * order — a line (20 calls a day) and a customer it called, 7 records a page. On SQLite
 * each arm reads its index in order (no sort inside it: the only sorts are of the union,
 * at most 2 × (offset + limit) entries, and of the page's rows). */
static void test_phones_pages_in_order(void **state)
{
	struct fixture *f = *state;
	const char *phones[] = {"008675500000010", "008613800011010"};
	struct store_cdr_query q = {.sdkappid = SDKAPPID, .since = T0 + 5 * DAY_S,
				    .until = T0 + 6 * DAY_S - 1, .phones = phones,
				    .n_phones = 2, .limit = 7};
	struct ids paged = {.len = 0}, plain = {.len = 0};
	char sql[1024], plan[8192];
	uint64_t total = 0;
	struct db_stmt *s;
	int rc;

	for (q.offset = 0; q.offset < 40; q.offset += q.limit)
		assert_int_equal(store_cdr_list(f->st, &q, id_of, &paged, &total), 0);
	snprintf(sql, sizeof(sql), "SELECT id FROM sessions WHERE sdkappid = %d AND status = 3 "
		 "AND ended_ts BETWEEN %lld AND %lld AND (caller IN ('%s', '%s') OR callee IN "
		 "('%s', '%s')) ORDER BY ended_ts DESC, id", SDKAPPID, (long long)q.since,
		 (long long)q.until, phones[0], phones[1], phones[0], phones[1]);
	s = db_prepare(f->c, sql);
	assert_non_null(s);
	while ((rc = db_step(s)) == DB_ROW)
		plain.len += (size_t)snprintf(plain.text + plain.len,
					      sizeof(plain.text) - plain.len, "%s,",
					      db_col_text(s, 0));
	assert_int_equal(rc, DB_DONE);
	mem_deref(s);
	assert_true(total > 20 && total < 40);
	assert_string_equal(paged.text, plain.text);

	if (on_pg)
		return;
	q.offset = 14;
	plan_of(f, &q, true, plan, sizeof(plan));
	assert_no_scan(plan);
	if (occurrences(plan, "TEMP B-TREE FOR ORDER BY") > 2 || strstr(plan, "sessions_ended_page"))
		fail_msg("an arm of the page does not read its number's calls in order:\n%s",
			 plan);
}

/* No Phones: a page deep into a day comes in the index's order, with no sort, and the
 * count reads the index alone. The page is a deferred join: its ids come from the
 * index's entries alone (COVERING on SQLite; an index-only scan on PostgreSQL, where
 * without it every skipped entry fetched its row from the heap) and only its 100 rows are
 * read, by primary key. PostgreSQL weighs a sort of the day's 750 rows against reading
 * them in order and may rightly sort at this size: there, sorts are priced out
 * (enable_sort) to check that the index can give the page its order. */
static void test_day_pages_in_index_order(void **state)
{
	struct fixture *f = *state;
	struct store_cdr_query q = {.sdkappid = SDKAPPID, .since = T0 + 5 * DAY_S,
				    .until = T0 + 6 * DAY_S - 1, .offset = 500, .limit = 100};
	struct ids paged = {.len = 0};
	uint64_t total = 0;
	char plan[8192];

	if (on_pg)
		exec(f, "SET enable_sort = off");
	plan_of(f, &q, true, plan, sizeof(plan));
	assert_no_scan(plan);
	assert_uses(plan, on_pg ? "Index Only Scan using sessions_ended_page"
				: "COVERING INDEX sessions_ended_page");
	assert_uses(plan, on_pg ? "sessions_pkey" : "sqlite_autoindex_sessions_1 (id=?)");
	/* The one sort is of the page's own 100 rows, after the join. */
	if (occurrences(plan, on_pg ? "Sort Key" : "TEMP B-TREE") > 1)
		fail_msg("the page is sorted, not read in index order:\n%s", plan);
	plan_of(f, &q, false, plan, sizeof(plan));
	assert_no_scan(plan);
	if (!on_pg)
		assert_uses(plan, "COVERING INDEX sessions_ended_page");
	if (on_pg)
		exec(f, "SET enable_sort = on");
	assert_int_equal(store_cdr_list(f->st, &q, id_of, &paged, &total), 0);
	assert_int_equal(strlen(paged.text), 100 * 9);
	assert_int_equal(total, 750);
}

/* The sessions' own sums of minutes for direction dir over days [first, last]. */
static int64_t raw_minutes(struct fixture *f, int dir, int64_t first, int64_t last)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT coalesce(sum((ended_ts - accept_ts + 59) / 60), 0) "
		 "FROM sessions WHERE sdkappid = %d AND status = 3 AND direction = %d AND "
		 "ended_ts BETWEEN %lld AND %lld AND accept_ts > 0 AND ended_ts >= accept_ts",
		 SDKAPPID, dir, (long long)first * DAY_S, (long long)last * DAY_S + DAY_S - 1);
	return raw_int(f, sql);
}

static void assert_minutes(struct fixture *f, int64_t first, int64_t last)
{
	struct store_usage u = {0, 0};

	assert_int_equal(store_usage_minutes(f->st, SDKAPPID, first, last, &u), 0);
	assert_int_equal(u.in_minutes, raw_minutes(f, 0, first, last));
	assert_int_equal(u.out_minutes, raw_minutes(f, 1, first, last));
}

#define LIVE "0000000000000000000000000000live"

/* The text of the migration (of the engine under test) that holds `what`. */
static const char *migration_of(const char *what)
{
	const struct store_schema *sch = on_pg ? &store_schema_pg : &store_schema_sqlite;

	for (int i = 0; i < sch->n; i++) {
		if (strstr(sch->migrations[i], what))
			return sch->migrations[i];
	}
	fail_msg("no migration holds %s", what);
	return NULL;
}

/* DescribeTelCallInfo reads the tally, never the sessions: migration 22 back-fills it
 * from the finished sessions (here run again on the fixture's, as on a store upgraded),
 * and the write that finishes a session adds it (store_session_finish), so the tally's
 * minutes are the sessions' own sums over any range of whole days. */
static void test_call_info_reads_the_tally(void **state)
{
	struct fixture *f = *state;
	const int64_t d0 = T0 / DAY_S;
	const struct store_session_end end = {.ended_ts = T0 + 5 * DAY_S + 1000 + 125,
					      .end_status = 1, .hungup_side = "user"};
	struct store_usage u = {0, 0};
	char sql[1024], plan[4096];
	struct db_stmt *s;
	size_t len = 0;
	int rc;

	/* Inbound 61 s (2 minutes), an unanswered call, and a call still up on day 5. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, "
		 "status, created_ms, start_ts, accept_ts, ended_ts) VALUES "
		 "('in61', %d, 1, 0, 'a', 'b', 3, 0, %d, %d, %d), "
		 "('unanswered', %d, 1, 1, 'a', 'b', 3, 0, %d, 0, %d), "
		 "('" LIVE "', %d, 1, 1, 'a', 'b', 2, 0, %d, %d, 0)", SDKAPPID,
		 T0 + 5 * DAY_S + 100, T0 + 5 * DAY_S + 100, T0 + 5 * DAY_S + 161, SDKAPPID,
		 T0 + 5 * DAY_S, T0 + 5 * DAY_S + 30, SDKAPPID, T0 + 5 * DAY_S + 990,
		 T0 + 5 * DAY_S + 1000);
	exec(f, sql);

	/* Migration 22 again (its indexes are IF NOT EXISTS), as a store of the previous
	 * version meets it: with the sessions above already there. */
	f->st = mem_deref(f->st);
	exec(f, "DROP TABLE call_days");
	exec(f, migration_of("CREATE TABLE call_days"));
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM call_days"), 2 * DAYS + 1);
	assert_minutes(f, d0, d0 + DAYS - 1);
	assert_minutes(f, d0 + 5, d0 + 5);
	assert_minutes(f, d0 + 3, d0 + 7);

	/* The finishing write adds its call: 125 s of talk, 3 minutes, on day 5. */
	assert_int_equal(store_usage_minutes(f->st, SDKAPPID, d0 + 5, d0 + 5, &u), 0);
	assert_int_equal(store_session_finish(f->st, LIVE, SDKAPPID, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_minutes(f, d0 + 5, d0 + 5);
	assert_minutes(f, d0, d0 + DAYS - 1);
	assert_int_equal(raw_minutes(f, 1, d0 + 5, d0 + 5), u.out_minutes + 3);
	/* A second finish of the same session changes nothing, the tally neither. */
	assert_int_equal(store_session_finish(f->st, LIVE, SDKAPPID, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_minutes(f, d0 + 5, d0 + 5);

	/* The read: the tally's primary key over the range, never the sessions. */
	if (on_pg)
		exec(f, "SET enable_seqscan = off");
	snprintf(sql, sizeof(sql), "%s %s", on_pg ? "EXPLAIN" : "EXPLAIN QUERY PLAN",
		 STORE_USAGE_SQL);
	s = db_prepare(f->c, sql);
	assert_non_null(s);
	db_bind_int64(s, 1, SDKAPPID);
	db_bind_int64(s, 2, d0);
	db_bind_int64(s, 3, d0 + 89);
	while ((rc = db_step(s)) == DB_ROW) {
		const char *line = db_col_text(s, on_pg ? 0 : 3);

		len += (size_t)snprintf(plan + len, sizeof(plan) - len, "%s\n", line ? line : "");
		assert_true(len < sizeof(plan));
	}
	assert_int_equal(rc, DB_DONE);
	mem_deref(s);
	assert_uses(plan, on_pg ? "call_days_pkey" : "sqlite_autoindex_call_days_1");
	if (strstr(plan, "sessions"))
		fail_msg("DescribeTelCallInfo reads the sessions:\n%s", plan);
}

/* Phones at their most (100: the 50 lines and 50 customers), so the page has 200 arms:
 * it runs on both engines and, as every call of the fixture is from one of the lines,
 * gives the count and a page of the whole day. */
static void test_phones_at_their_most(void **state)
{
	struct fixture *f = *state;
	char numbers[100][32], sql[512];
	const char *phones[100];
	struct store_cdr_query q = {.sdkappid = SDKAPPID, .since = T0 + 5 * DAY_S,
				    .until = T0 + 6 * DAY_S - 1, .phones = phones,
				    .n_phones = 100, .offset = 300, .limit = 100};
	struct ids paged = {.len = 0}, plain = {.len = 0};
	uint64_t total = 0;
	struct db_stmt *s;
	int rc;

	for (int i = 0; i < 50; i++) {
		snprintf(numbers[i], sizeof(numbers[i]), "0086755000000%02d", 10 + i);
		snprintf(numbers[50 + i], sizeof(numbers[50 + i]), "0086138000%05d", 11000 + i);
	}
	for (int i = 0; i < 100; i++)
		phones[i] = numbers[i];
	assert_int_equal(store_cdr_list(f->st, &q, id_of, &paged, &total), 0);
	snprintf(sql, sizeof(sql), "SELECT id FROM sessions WHERE sdkappid = %d AND status = 3 "
		 "AND ended_ts BETWEEN %lld AND %lld ORDER BY ended_ts DESC, id LIMIT 100 "
		 "OFFSET 300", SDKAPPID, (long long)q.since, (long long)q.until);
	s = db_prepare(f->c, sql);
	assert_non_null(s);
	while ((rc = db_step(s)) == DB_ROW)
		plain.len += (size_t)snprintf(plain.text + plain.len,
					      sizeof(plain.text) - plain.len, "%s,",
					      db_col_text(s, 0));
	assert_int_equal(rc, DB_DONE);
	mem_deref(s);
	assert_int_equal(total, 750);
	assert_string_equal(paged.text, plain.text);
}

/* CccdEndStatus: one code's calls of a day come from sessions_ended_status in page order
 * (the page's ids without a sort, only its own rows sorted after the join; the count from
 * the index alone on SQLite); with several codes the count still
 * reads that index alone, and nothing reads the table from end to end (SQLite walks the
 * day in page order through sessions_ended_page, checking each row's code, until the
 * page is full). The counts and rows are the plain filter's. */
static void test_end_status_uses_its_index(void **state)
{
	struct fixture *f = *state;
	const int one[] = {202}, two[] = {202, 0};
	struct store_cdr_query q = {.sdkappid = SDKAPPID, .since = T0 + 5 * DAY_S,
				    .until = T0 + 6 * DAY_S - 1, .end_statuses = one,
				    .n_end_statuses = 1, .offset = 20, .limit = 20};
	char plan[8192], where[512];
	uint64_t total = 0, rows = 0;

	if (on_pg)
		exec(f, "SET enable_sort = off");
	plan_of(f, &q, true, plan, sizeof(plan));
	assert_no_scan(plan);
	assert_uses(plan, "sessions_ended_status");
	/* The one sort is of the page's own rows, after the deferred join (list_sql). */
	if (occurrences(plan, on_pg ? "Sort Key" : "TEMP B-TREE") > 1)
		fail_msg("the page is sorted, not read in index order:\n%s", plan);
	plan_of(f, &q, false, plan, sizeof(plan));
	assert_no_scan(plan);
	assert_uses(plan, on_pg ? "sessions_ended_status" : "COVERING INDEX sessions_ended_status");
	if (on_pg)
		exec(f, "SET enable_sort = on");
	for (int k = 0; k < 2; k++) {
		if (k) {
			q.end_statuses = two;
			q.n_end_statuses = 2;
			plan_of(f, &q, true, plan, sizeof(plan));
			assert_no_scan(plan);
			plan_of(f, &q, false, plan, sizeof(plan));
			assert_no_scan(plan);
			assert_uses(plan, on_pg ? "sessions_ended_status" :
				    "COVERING INDEX sessions_ended_status");
		}
		total = rows = 0;
		assert_int_equal(store_cdr_list(f->st, &q, count_of, &rows, &total), 0);
		snprintf(where, sizeof(where), "sdkappid = %d AND status = 3 AND ended_ts BETWEEN "
			 "%lld AND %lld AND end_status IN (%s)", SDKAPPID, (long long)q.since,
			 (long long)q.until, k ? "202, 0" : "202");
		assert_true(total > 40);
		assert_int_equal(total, raw_count(f, where));
		assert_int_equal(rows, 20);
	}
}

enum { TASK_CALLEES = 20000, TASK_DONE = 2000, TASK_CALLING = 64 };

/* Task 1 running: TASK_DONE callees tried (state 2), TASK_CALLING calling, the rest
 * waiting, all due at 1 (the value every parameter is bound to below: "now" for a claim,
 * so that all of them are due); task 2, not started, as many waiting a month later. */
static void fill_tasks(struct fixture *f)
{
	char sql[1024];

	exec(f, "INSERT INTO tasks (task_id, sdkappid, account_id, name, description, ivr_id, "
	     "not_before, not_after, tries, retry_interval, max_ring_s, callers, variables, "
	     "uui, time_zone, windows, retry_statuses, concurrency, state, callee_count, "
	     "created_at) VALUES (1, 31, 1, 'a', '', 1, 1, 1, 1, 600, 60, '[]', '[]', '', '', "
	     "'', '', 0, 1, 20000, 1), (2, 31, 1, 'b', '', 1, 2592000, NULL, 1, 600, 60, "
	     "'[]', '[]', '', '', '', '', 0, 0, 20000, 1)");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO task_callees (task_id, seq, callee, state, tries, due) "
		 "WITH RECURSIVE g(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM g "
		 "WHERE i < %d) SELECT 1 + i / %d, i %% %d, '0086138' || CAST(i AS TEXT), "
		 "CASE WHEN i >= %d THEN 0 WHEN i < %d THEN 2 ELSE 3 END, "
		 "CASE WHEN i >= %d OR i < %d THEN 0 ELSE 1 END, "
		 "CASE WHEN i >= %d THEN 2592000 WHEN i >= %d THEN 1 ELSE NULL END FROM g",
		 2 * TASK_CALLEES - 1, TASK_CALLEES, TASK_CALLEES, TASK_DONE + TASK_CALLING,
		 TASK_DONE, TASK_DONE + TASK_CALLING, TASK_DONE, TASK_CALLEES,
		 TASK_DONE + TASK_CALLING);
	exec(f, sql);
	if (on_pg)
		exec(f, "ANALYZE tasks; ANALYZE task_callees");
}

/* The plan of sql with every parameter bound to 1. */
static void plan_of_sql(struct fixture *f, const char *sql, char *plan, size_t size)
{
	char text[2048];
	struct db_stmt *s;
	size_t len = 0;
	int rc, n = 0;

	snprintf(text, sizeof(text), "%s %s", on_pg ? "EXPLAIN" : "EXPLAIN QUERY PLAN", sql);
	s = db_prepare(f->c, text);
	if (!s)
		fail_msg("%s: %s", text, db_errmsg(f->c));
	for (const char *p = sql; (p = strchr(p, '?')); p++)
		db_bind_int64(s, ++n, 1);
	plan[0] = '\0';
	while ((rc = db_step(s)) == DB_ROW) {
		const char *line = db_col_text(s, on_pg ? 0 : 3);

		len += (size_t)snprintf(plan + len, size - len, "%s\n", line ? line : "");
		assert_true(len < size);
	}
	assert_int_equal(rc, DB_DONE);
	mem_deref(s);
}

/* Does a PostgreSQL plan read task_callees through an index by the task alone (a line
 * "... on task_callees..." whose condition, on the next line, has no AND)? */
static bool pg_by_task_alone(const char *plan)
{
	for (const char *p = plan; (p = strstr(p, " on task_callees")); p++) {
		const char *next = strchr(p, '\n'), *end;

		if (!next || !(end = strchr(next + 1, '\n')))
			return false;
		if (memmem(next, (size_t)(end - next), "Cond: (", 7) &&
		    !memmem(next, (size_t)(end - next), " AND ", 5))
			return true;
	}
	return false;
}

/* Every statement the scheduler runs per tick or per attempt reaches the callees it
 * wants through an index of more than the task: no scan of task_callees, no search of
 * it by task_id alone (every callee of the task, filtered one by one: SQLite's
 * "(task_id=?)", PostgreSQL's index condition on task_id only), and no sort (of the due
 * callees, to take the claim's few). The claim reads task_callees_next. */
static void test_task_scheduler_reads_no_callee_list(void **state)
{
	struct fixture *f = *state;
	const enum db_backend b = on_pg ? DB_POSTGRESQL : DB_SQLITE;
	char plan[8192];
	const char *sql;

	fill_tasks(f);
	for (size_t i = 0; (sql = store_task_sched_sql(b, i)); i++) {
		plan_of_sql(f, sql, plan, sizeof(plan));
		if (strstr(plan, on_pg ? "Seq Scan on task_callees" : "SCAN task_callees") ||
		    (!on_pg && strstr(plan, "SCAN k")))
			fail_msg("%s\nreads the whole of task_callees:\n%s", sql, plan);
		if (on_pg ? pg_by_task_alone(plan) : strstr(plan, "(task_id=?)") != NULL)
			fail_msg("%s\nreads every callee of the task:\n%s", sql, plan);
		if (strstr(plan, on_pg ? "Sort" : "TEMP B-TREE"))
			fail_msg("%s\nsorts the callees:\n%s", sql, plan);
		if (i == 0)
			assert_uses(plan, "task_callees_next");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_phones_use_number_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phones_pages_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phones_at_their_most, setup, teardown),
		cmocka_unit_test_setup_teardown(test_day_pages_in_index_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_info_reads_the_tally, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_status_uses_its_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_scheduler_reads_no_callee_list, setup,
						teardown),
	};
	const char *backend = getenv("CCCD_TEST_STORE");

	on_pg = backend && !strcmp(backend, "postgresql");
	if (on_pg && !getenv("CCCD_TEST_PG_DSN")) {
		fprintf(stderr, "test_store_plan: CCCD_TEST_STORE=postgresql needs "
			"CCCD_TEST_PG_DSN\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
