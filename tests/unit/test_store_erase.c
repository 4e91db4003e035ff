/* Unit tests of the store's data over time: retention batches (store_sessions_expire),
 * erasure of a number (store_number_erase), that both find their rows through indexes
 * (the same statements' plans: EXPLAIN QUERY PLAN, or EXPLAIN on PostgreSQL), and the
 * online backup (SQLite; refused on PostgreSQL). Rows are seeded with SQL, as old as a
 * test needs them.
 *
 * On SQLite (a file per test) by default; CCCD_TEST_STORE=postgresql runs the same tests on
 * PostgreSQL, a database per test, created through CCCD_TEST_PG_DSN (a superuser's, e.g.
 * tests/pg/pg-tmp.sh's) with the password in CCCD_TEST_PG_PASSWORD_FILE, as test_store
 * does. The tests seed and count through db.h, the same SQL on both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "store/store_int.h"

struct fixture {
	char dir[64];
	char pg_db[64];         /* PostgreSQL: the test's database */
	struct store_conf conf;
	struct store *st;
	struct db_conn *db;     /* a second connection, for seeding and counting */
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

/* PostgreSQL: sc on a new database named name (dropped by pg_drop). */
static void pg_create(struct store_conf *sc, const char *name)
{
	const char *dsn = getenv("CCCD_TEST_PG_DSN"), *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	admin_exec(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	admin_exec(sql);
	sc->backend = DB_POSTGRESQL;
	assert_true(strlen(dsn) + strlen(name) + 9 < sizeof(sc->dsn));
	snprintf(sc->dsn, sizeof(sc->dsn), "%s dbname=%s", dsn, name);
	snprintf(sc->password_file, sizeof(sc->password_file), "%s", pw ? pw : "");
}

static void pg_drop(const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	admin_exec(sql);
}

static void exec(struct db_conn *db, const char *sql)
{
	if (db_exec(db, sql))
		fail_msg("%s: %s", sql, db_errmsg(db));
}

static int count(struct db_conn *db, const char *sql)
{
	struct db_stmt *q = db_prepare(db, sql);
	int n;

	if (!q)
		fail_msg("%s: %s", sql, db_errmsg(db));
	assert_int_equal(db_step(q), DB_ROW);
	n = (int)db_col_int64(q, 0);
	mem_deref(q);
	return n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static unsigned seq;

	strcpy(f->dir, "/tmp/cccd-test-erase-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	if (on_pg) {
		snprintf(f->pg_db, sizeof(f->pg_db), "test_erase_%d_%u", (int)getpid(), ++seq);
		pg_create(&f->conf, f->pg_db);
	}
	f->conf.batch_max = 64;
	f->conf.busy_timeout_ms = 5000;
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_int_equal(db_open(&f->db, &f->conf, false), 0);
	exec(f->db, "INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 0);"
		"INSERT INTO instances (sdkappid, account_id, created_at) VALUES (1, 1, 0);"
		"INSERT INTO instances (sdkappid, account_id, created_at, retention_days) "
		"VALUES (2, 1, 0, 0)");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->db);
	mem_deref(f->st);
	if (on_pg)
		pg_drop(f->pg_db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A session with 2 key presses, 2 path steps, 2 SIP messages and one delivered push (and
 * a pending one with `pending`); `n` makes its id. */
static void seed(struct db_conn *db, int n, uint64_t sdkappid, const char *caller,
		 const char *callee, int status, int64_t ended_ts, bool pending)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, "
		 "status, created_ms, start_ts, ended_ts, record_url, voicemail_urls) VALUES "
		 "('%032d', %llu, 1, 0, '%s', '%s', %d, 0, 0, %lld, '%llu/%032d.wav', "
		 "'[\"%llu/%032d-vm1.wav\"]');"
		 "INSERT INTO key_presses (session_id, seq, key, ts_ms) VALUES ('%032d', 0, '1', 0),"
		 " ('%032d', 1, '2', 0);"
		 "INSERT INTO session_path (session_id, seq, node, ts_ms) VALUES ('%032d', 0, 'a', 0),"
		 " ('%032d', 1, 'b', 0);"
		 "INSERT INTO sip_messages (session_id, call_id, seq, sdkappid, ts_us, tx, src, dst, "
		 "message, created_ms) VALUES ('%032d', 'c', 0, %llu, 0, 1, '', '', 'INVITE', 0),"
		 " ('%032d', 'c', 1, %llu, 0, 0, '', '', '200', 0);"
		 "INSERT INTO outbox (id, sdkappid, session_id, action, body, state, next_ms, "
		 "created_ms) VALUES ('d%d', %llu, '%032d', 'cdr', '{}', 1, 0, 0);",
		 n, (unsigned long long)sdkappid, caller, callee, status, (long long)ended_ts,
		 (unsigned long long)sdkappid, n, (unsigned long long)sdkappid, n, n, n, n, n, n,
		 (unsigned long long)sdkappid, n, (unsigned long long)sdkappid, n,
		 (unsigned long long)sdkappid, n);
	exec(db, sql);
	if (pending) {
		snprintf(sql, sizeof(sql), "INSERT INTO outbox (id, sdkappid, session_id, action, "
			 "body, state, next_ms, created_ms) VALUES ('p%d', %llu, '%032d', 'cdr', "
			 "'{}', 0, 0, 0)", n, (unsigned long long)sdkappid, n);
		exec(db, sql);
	}
}

/* Rows of session n, every table. */
static int rows_of(struct db_conn *db, int n)
{
	static const char *const tables[] = {"sessions", "key_presses", "session_path",
					     "sip_messages", "outbox"};
	char sql[160];
	int sum = 0;

	for (size_t i = 0; i < 5; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s = '%032d'", tables[i],
			 i ? "session_id" : "id", n);
		sum += count(db, sql);
	}
	return sum;
}

struct files {
	char seen[8][300];
	size_t n;
};

static void files_seen(uint64_t sdkappid, const struct store_erased_session *s, void *arg)
{
	struct files *fl = arg;

	assert_true(sdkappid > 0);
	if (fl->n < 8)
		snprintf(fl->seen[fl->n++], sizeof(fl->seen[0]), "%s %s", s->record_file,
			 s->voicemail_files);
}

static void test_expire(void **state)
{
	struct fixture *f = *state;
	const int64_t now = clock_unix_s(), old = now - 100 * 86400, cut = now - 30 * 86400;
	struct store_erased e;
	struct files fl = {0};

	for (int n = 1; n <= 5; n++)   /* old, finished: due */
		seed(f->db, n, 1, "0086755", "0086138", 3, old, false);
	seed(f->db, 6, 1, "0086755", "0086138", 3, old, true);      /* a push still pending */
	seed(f->db, 7, 1, "0086755", "0086138", 3, now - 86400, false); /* recent */
	seed(f->db, 8, 1, "0086755", "0086138", 2, old, false);     /* not finished */
	seed(f->db, 9, 2, "0086755", "0086138", 3, old, false);     /* another instance */

	assert_int_equal(store_sessions_expire(f->st, 1, cut, 2, &e, files_seen, &fl), 0);
	assert_int_equal(e.sessions, 2);
	assert_int_equal(e.key_presses, 4);
	assert_int_equal(e.path_steps, 4);
	assert_int_equal(e.sip_messages, 4);
	assert_int_equal(e.pushes, 2);
	assert_int_equal(fl.n, 2);
	assert_non_null(strstr(fl.seen[0], "1/0000"));
	assert_non_null(strstr(fl.seen[0], "-vm1.wav"));
	assert_int_equal(store_sessions_expire(f->st, 1, cut, 2, &e, NULL, NULL), 0);
	assert_int_equal(e.sessions, 2);
	assert_int_equal(store_sessions_expire(f->st, 1, cut, 2, &e, NULL, NULL), 0);
	assert_int_equal(e.sessions, 1);
	assert_int_equal(store_sessions_expire(f->st, 1, cut, 2, &e, NULL, NULL), 0);
	assert_int_equal(e.sessions, 0);
	for (int n = 1; n <= 5; n++)
		assert_int_equal(rows_of(f->db, n), 0);
	assert_int_equal(rows_of(f->db, 6), 9);
	for (int n = 7; n <= 9; n++)
		assert_int_equal(rows_of(f->db, n), 8);
	assert_int_equal(store_sessions_expire(f->st, 1, cut, 0, &e, NULL, NULL), EINVAL);
	assert_int_equal(store_sessions_expire(f->st, 1, cut, 1001, &e, NULL, NULL), EINVAL);
}

static int retention_seen(uint64_t sdkappid, int32_t days, void *arg)
{
	int32_t *v = arg;

	v[sdkappid] = days;
	return 0;
}

static void test_instances_retention(void **state)
{
	struct fixture *f = *state;
	struct store_licence l = {.sdkappid = 1, .set_retention_days = true, .retention_days = 90};
	struct store_instance in;
	int32_t days[3] = {7, 7, 7};

	assert_int_equal(store_instances_retention(f->st, retention_seen, days), 0);
	assert_int_equal(days[1], -1);
	assert_int_equal(days[2], 0);
	assert_int_equal(store_instance_licence(f->st, &l), 0);
	assert_int_equal(store_instance_get(f->st, 1, &in), 0);
	assert_int_equal(in.retention_days, 90);
	assert_int_equal(store_instances_retention(f->st, retention_seen, days), 0);
	assert_int_equal(days[1], 90);
}

static void test_erase(void **state)
{
	struct fixture *f = *state;
	const char *x = "008613800138000";
	char sql[256];
	struct store_erased e;
	struct files fl = {0};

	seed(f->db, 1, 1, x, "0086755", 3, 100, false);          /* as caller */
	seed(f->db, 2, 1, "0086755", x, 3, 100, true);           /* as callee, push pending */
	seed(f->db, 3, 1, x, x, 3, 100, false);                  /* both */
	seed(f->db, 4, 1, "0086755", "008613900139000", 3, 100, false); /* another number */
	seed(f->db, 5, 2, "0086755", x, 3, 100, false);          /* another instance */
	seed(f->db, 6, 1, "0086755", x, 1, 0, false);            /* in progress */

	assert_int_equal(store_number_erase(f->st, 1, x, 200, &e, files_seen, &fl), EINPROGRESS);
	assert_int_equal(fl.n, 0);
	assert_int_equal(rows_of(f->db, 1), 8);
	/* Just ended: its SIP messages may still come. */
	snprintf(sql, sizeof(sql), "UPDATE sessions SET status = 3, ended_ts = %lld WHERE id = "
		 "'00000000000000000000000000000006'", (long long)clock_unix_s() - 5);
	exec(f->db, sql);
	assert_int_equal(store_number_erase(f->st, 1, x, 200, &e, files_seen, &fl), EINPROGRESS);
	assert_int_equal(rows_of(f->db, 6), 8);
	exec(f->db, "UPDATE sessions SET ended_ts = ended_ts - 60 WHERE id = "
	     "'00000000000000000000000000000006'");
	assert_int_equal(store_number_erase(f->st, 1, x, 2, &e, files_seen, &fl), 0);
	assert_int_equal(e.sessions, 2);
	assert_int_equal(store_number_erase(f->st, 1, x, 2, &e, files_seen, &fl), 0);
	assert_int_equal(e.sessions, 2);
	assert_int_equal(e.pushes, 3);   /* one delivered each, and 2's pending one */
	assert_int_equal(store_number_erase(f->st, 1, x, 2, &e, files_seen, &fl), 0);
	assert_int_equal(e.sessions, 0);
	assert_int_equal(fl.n, 4);
	for (int n = 1; n <= 6; n++)
		assert_int_equal(rows_of(f->db, n), n == 4 || n == 5 ? 8 : 0);
	assert_int_equal(store_number_erase(f->st, 1, "", 2, &e, NULL, NULL), EINVAL);
}

/* The plan of a statement, every line joined. SQLite: EXPLAIN QUERY PLAN's details.
 * PostgreSQL: EXPLAIN's lines, each `?` a literal '1' (a parameter left unbound would be
 * a NULL, and the planner folds `x = NULL` away without choosing any scan). */
static void plan(struct db_conn *db, const char *sql, char *out, size_t sz)
{
	char eqp[1024];
	struct db_stmt *q;
	size_t len;

	len = (size_t)snprintf(eqp, sizeof(eqp), "%s", on_pg ? "EXPLAIN " : "EXPLAIN QUERY PLAN ");
	for (const char *c = sql; *c && len + 4 < sizeof(eqp); c++) {
		if (*c == '?' && on_pg) {
			memcpy(eqp + len, "'1'", 3);
			len += 3;
		} else {
			eqp[len++] = *c;
		}
	}
	eqp[len] = '\0';
	q = db_prepare(db, eqp);
	if (!q)
		fail_msg("%s: %s", eqp, db_errmsg(db));
	out[0] = '\0';
	while (db_step(q) == DB_ROW) {
		len = strlen(out);
		snprintf(out + len, sz - len, "%s; ", db_col_text(q, on_pg ? 0 : 3));
	}
	mem_deref(q);
}

/* The statements of erase.c (the same text) use an index: no full scan per batch.
 * SQLite: each through the index named. PostgreSQL's planner chooses by statistics (on a
 * test's few rows a sequential scan is its right answer, and on many its choice follows
 * the data), so it is asked with sequential scans disabled: a Seq Scan still in the plan
 * means no index can serve the statement. Which index it picks is its own business (on
 * empty tables it may walk sessions_ended for a caller, say), so on PostgreSQL this
 * proves less for the sessions' SELECTs, which every sdkappid-first index serves, than
 * for the per-session DELETEs, whose primary keys and outbox_session it checks. */
static void test_plans_use_indexes(void **state)
{
	static const struct {
		const char *sql, *index;
	} cases[] = {
		{"SELECT id, record_url, voicemail_urls FROM sessions WHERE sdkappid = ? AND "
		 "status = 3 AND ended_ts < ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE "
		 "outbox.session_id = sessions.id AND outbox.state = 0) LIMIT ?", "sessions_ended"},
		{"SELECT id, record_url, voicemail_urls FROM sessions WHERE sdkappid = ? AND "
		 "caller = ? AND status = 3 LIMIT ?", "sessions_caller"},
		{"SELECT id, record_url, voicemail_urls FROM sessions WHERE sdkappid = ? AND "
		 "callee = ? AND caller <> ? AND status = 3 LIMIT ?", "sessions_callee"},
		{"SELECT 1 FROM sessions WHERE sdkappid = ? AND caller = ? AND status <> 3 LIMIT 1",
		 "sessions_caller"},
		{"SELECT 1 FROM sessions WHERE sdkappid = ? AND callee = ? AND status <> 3 LIMIT 1",
		 "sessions_callee"},
		{"SELECT 1 FROM sessions WHERE sdkappid = ? AND status = 3 AND ended_ts >= ? AND "
		 "(caller = ? OR callee = ?) LIMIT 1", "sessions_ended"},
		{"DELETE FROM key_presses WHERE session_id = ?", "sqlite_autoindex_key_presses"},
		{"DELETE FROM session_path WHERE session_id = ?", "sqlite_autoindex_session_path"},
		{"DELETE FROM sip_messages WHERE session_id = ?", "sqlite_autoindex_sip_messages"},
		{"DELETE FROM outbox WHERE session_id = ?", "outbox_session"},
		{"DELETE FROM sessions WHERE id = ?", "sqlite_autoindex_sessions"},
	};
	struct fixture *f = *state;
	char p[4096];

	if (on_pg)
		exec(f->db, "SET enable_seqscan = off");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan(f->db, cases[i].sql, p, sizeof(p));
		if (on_pg ? strstr(p, "Seq Scan") != NULL :
		    !strstr(p, cases[i].index) || strstr(p, "SCAN sessions") ||
		    strstr(p, "SCAN outbox") || strstr(p, "SCAN key_presses"))
			fail_msg("%s: plan %s", cases[i].sql, p);
	}
}

static void test_backup(void **state)
{
	struct fixture *f = *state;
	char out[128], why[128];
	struct store_conf copy_conf = {.backend = DB_SQLITE, .busy_timeout_ms = 5000};
	struct db_conn *copy = NULL;

	for (int n = 1; n <= 20; n++)
		seed(f->db, n, 1, "0086755", "0086138", 3, 100, false);
	snprintf(out, sizeof(out), "%s/backup.db", f->dir);
	if (on_pg) {
		/* PostgreSQL is backed up with pg_dump (docs/postgresql.md): refused by name. */
		assert_int_equal(store_backup(&f->conf, out, 4), ENOTSUP);
		assert_int_not_equal(access(out, F_OK), 0);
		return;
	}
	assert_int_equal(store_backup(&f->conf, out, 4), 0);
	assert_int_equal(store_integrity_check(out, why, sizeof(why)), 0);
	snprintf(copy_conf.path, sizeof(copy_conf.path), "%s", out);
	assert_int_equal(db_open(&copy, &copy_conf, false), 0);
	assert_int_equal(count(copy, "SELECT count(*) FROM sessions"), 20);
	assert_int_equal(count(copy, "SELECT count(*) FROM key_presses"), 40);
	assert_int_equal(count(copy, "PRAGMA user_version"),
			 count(f->db, "PRAGMA user_version"));
	mem_deref(copy);
	assert_int_equal(store_backup(&f->conf, out, 0), EEXIST);
	snprintf(out, sizeof(out), "%s/none/backup.db", f->dir);
	assert_int_not_equal(store_backup(&f->conf, out, 0), 0);
	assert_int_not_equal(access(out, F_OK), 0);
	snprintf(out, sizeof(out), "%s/garbage.db", f->dir);
	{
		FILE *g = fopen(out, "w");

		assert_non_null(g);
		fputs("this is not a database, not at all, and quite long enough", g);
		fclose(g);
	}
	assert_int_not_equal(store_integrity_check(out, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instances_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plans_use_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	};

	const char *backend = getenv("CCCD_TEST_STORE");

	on_pg = backend && !strcmp(backend, "postgresql");
	if (on_pg && !getenv("CCCD_TEST_PG_DSN")) {
		fprintf(stderr, "test_store_erase: CCCD_TEST_STORE=postgresql needs "
			"CCCD_TEST_PG_DSN\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
