/* Unit tests of auto-callout tasks in the store (store/task.h): creation whole or not at
 * all, reads and pages, the user actions and the states they allow, claims of due callees
 * (each claimed once, in due order, never before due, never for a paused or stopped task's
 * rows once Stop cleared them), concurrent claimers taking disjoint rows, attempt
 * outcomes.
 *
 * On SQLite (a file per test) by default; CCCD_TEST_STORE=postgresql runs the same tests on
 * PostgreSQL, a database per test, created through CCCD_TEST_PG_DSN (a superuser's, e.g.
 * tests/pg/pg-tmp.sh's) with the password in CCCD_TEST_PG_PASSWORD_FILE, as test_store
 * does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/task.h"

struct fixture {
	char dir[64];
	char pg_db[64];
	struct store_conf conf;
	struct store *st;
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

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static unsigned seq;

	strcpy(f->dir, "/tmp/cccd-test-task-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	if (on_pg) {
		const char *dsn = getenv("CCCD_TEST_PG_DSN");
		const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
		char sql[128];

		snprintf(f->pg_db, sizeof(f->pg_db), "test_task_%d_%u", (int)getpid(), ++seq);
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
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

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

/* A task of n callees "0086130000000<i>" of instance sdkappid, due at not_before. */
static uint64_t task_make(struct store *st, uint64_t sdkappid, size_t n, int64_t not_before)
{
	struct store_task_callee *ce = calloc(n ? n : 1, sizeof(*ce));
	char (*numbers)[33] = calloc(n ? n : 1, 33);
	struct store_task *t = NULL;
	uint64_t id = 0;

	assert_int_equal(store_task_alloc(&t), 0);
	t->sdkappid = sdkappid;
	t->account_id = 1;
	t->ivr_id = 4500;
	t->not_before = not_before;
	t->tries = 2;
	t->retry_interval = 600;
	t->created_at = 1000;
	mem_deref(t->name);
	assert_int_equal(str_dup(&t->name, "reminders"), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(numbers[i], 33, "00861300000%04zu", i);
		ce[i].callee = numbers[i];
	}
	if (n > 1) {
		ce[1].uui = "own";
		ce[1].variables = "[{\"Key\":\"k\",\"Value\":\"v\"}]";
	}
	assert_int_equal(store_task_create(st, t, ce, n, &id), 0);
	assert_int_equal(t->task_id, id);
	assert_int_equal(t->callee_count, n);
	mem_deref(t);
	free(ce);
	free(numbers);
	return id;
}

struct seen {
	unsigned n;
	uint32_t seq[256];
	uint32_t tries[256];
	int state[256];
	char sessions[256][80];
};

static int seen_add(const struct store_callee_row *r, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 256);
	s->seq[s->n] = r->seq;
	s->tries[s->n] = r->tries;
	s->state[s->n] = r->state;
	snprintf(s->sessions[s->n], sizeof(s->sessions[0]), "%s", r->sessions);
	s->n++;
	return 0;
}

/* An attempt as the scheduler makes it: a session of the task's callee, stored, then
 * finished with end_status at ended_ts (the outcome reaches the callee in that write). */
static void attempt(struct fixture *f, uint64_t task_id, uint32_t seq, const char *tag,
		    int end_status, int64_t ended_ts)
{
	struct store_session *s = NULL;
	struct store_session_end end = {.ended_ts = ended_ts, .end_status = end_status};

	assert_int_equal(store_session_alloc(&s, "", "[]"), 0);
	snprintf(s->id, sizeof(s->id), "%-32s", tag);
	for (char *c = s->id; *c; c++)
		*c = *c == ' ' ? '0' : *c;
	s->sdkappid = 7;
	s->account_id = 1;
	s->direction = 1;
	s->ivr_id = 4500;
	s->ivr_version = 1;
	s->status = STORE_STATUS_RINGING;
	s->task_id = task_id;
	s->task_seq = seq;
	strcpy(s->callee, "008613000000000");
	assert_int_equal(store_session_create(f->st, s), 0);
	strcpy(end.hungup_side, "system");
	assert_int_equal(store_session_finish(f->st, s->id, 7, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(f->st), 0);
	mem_deref(s);
}

/* A scheduler tick with no task that can change writes nothing: no commit, no fsync, every
 * tick_ms of an idle cccd. */
static void test_idle_advance_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_stats before, after;

	assert_int_equal(store_sync(f->st), 0);
	store_stats(f->st, &before);
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_tasks_advance(f->st, 100 + i), 0);
	store_stats(f->st, &after);
	assert_int_equal(after.batches, before.batches);
}

static void test_create_and_read(void **state)
{
	struct fixture *f = *state;
	uint64_t id = task_make(f->st, 7, 3, 2000), id2 = task_make(f->st, 7, 1, 2000);
	struct store_task *t = NULL;
	struct seen s = {0};

	assert_int_not_equal(id, id2);
	assert_int_equal(store_task_get(f->st, 7, id, &t), 0);
	assert_string_equal(t->name, "reminders");
	assert_string_equal(t->variables, "[]");
	assert_int_equal(t->not_before, 2000);
	assert_int_equal(t->not_after, 0);
	assert_int_equal(t->tries, 2);
	assert_int_equal(t->state, STORE_TASK_CREATED);
	assert_int_equal(t->callee_count, 3);
	mem_deref(t);
	/* Another instance's task is unknown. */
	assert_int_equal(store_task_get(f->st, 8, id, &t), ENOENT);
	assert_null(t);

	assert_int_equal(store_task_callees(f->st, id, seen_add, &s), 0);
	assert_int_equal(s.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(s.seq[i], i);
		assert_int_equal(s.state[i], STORE_CALLEE_INITIAL);
		assert_int_equal(s.tries[i], 0);
	}
}

static int page_add(const struct store_task *t, void *arg)
{
	struct seen *s = arg;

	s->seq[s->n++] = (uint32_t)t->task_id;
	return 0;
}

static void test_list_pages(void **state)
{
	struct fixture *f = *state;
	uint64_t ids[5], total = 0;
	struct seen s = {0};

	for (int i = 0; i < 5; i++)
		ids[i] = task_make(f->st, 7, 1, 0);
	task_make(f->st, 9, 1, 0);
	assert_int_equal(store_tasks_list(f->st, 7, 2, 2, page_add, &s, &total), 0);
	assert_int_equal(total, 5);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], ids[2]);
	assert_int_equal(s.seq[1], ids[3]);
	s.n = 0;
	assert_int_equal(store_tasks_list(f->st, 7, 10, 2, page_add, &s, &total), 0);
	assert_int_equal(s.n, 0);
}

static void test_user_actions(void **state)
{
	struct fixture *f = *state;
	uint64_t id = task_make(f->st, 7, 3, 100);
	struct store_task *t = NULL;
	struct seen s = {0};

	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_RESUME, NULL, 50), EPERM);
	assert_int_equal(store_task_change(f->st, 8, id, STORE_TASK_PAUSE, NULL, 50), ENOENT);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_PAUSE, "trunk 403", 50), 0);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_PAUSE, NULL, 50), EPERM);
	assert_int_equal(store_task_get(f->st, 7, id, &t), 0);
	assert_int_equal(t->state, STORE_TASK_PAUSED);
	assert_string_equal(t->reason, "trunk 403");
	t = mem_deref(t);
	/* Resumed before NotBefore: not started yet. */
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_RESUME, NULL, 50), 0);
	assert_int_equal(store_task_get(f->st, 7, id, &t), 0);
	assert_int_equal(t->state, STORE_TASK_CREATED);
	assert_string_equal(t->reason, "");
	t = mem_deref(t);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_PAUSE, "", 150), 0);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_RESUME, NULL, 150), 0);
	assert_int_equal(store_task_get(f->st, 7, id, &t), 0);
	assert_int_equal(t->state, STORE_TASK_RUNNING);
	t = mem_deref(t);

	/* One callee calling, one waiting to retry, one never called; then Stop. */
	assert_int_equal(store_task_claim(f->st, id, 200, 2, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 2);
	attempt(f, id, s.seq[0], "aa", 202, 250);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_STOP, NULL, 300), 0);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_STOP, NULL, 300), EPERM);
	assert_int_equal(store_task_change(f->st, 7, id, STORE_TASK_RESUME, NULL, 300), EPERM);
	assert_int_equal(store_task_get(f->st, 7, id, &t), 0);
	assert_int_equal(t->state, STORE_TASK_STOPPED);
	assert_int_equal(t->ended_at, 300);
	t = mem_deref(t);
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, id, 100000, 10, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_task_callees(f->st, id, seen_add, &s), 0);
	assert_int_equal(s.state[0], STORE_CALLEE_NOT_ANSWERED);
	assert_string_equal(s.sessions[0], "aa000000000000000000000000000000");
	assert_int_equal(s.state[1], STORE_CALLEE_CALLING);
	assert_int_equal(s.state[2], STORE_CALLEE_INITIAL);
	/* The call in progress still gets its outcome. */
	attempt(f, id, 1, "bb", 1, 310);
	s.n = 0;
	assert_int_equal(store_task_callees(f->st, id, seen_add, &s), 0);
	assert_int_equal(s.state[1], STORE_CALLEE_ANSWERED);
}

static void test_claim_order_and_retry(void **state)
{
	struct fixture *f = *state;
	uint64_t id = task_make(f->st, 7, 5, 100);
	struct seen s = {0};

	/* Nothing before it is due, nor while the task is not running. */
	assert_int_equal(store_task_claim(f->st, id, 100, 10, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_tasks_advance(f->st, 100), 0);
	assert_int_equal(store_task_claim(f->st, id, 99, 10, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_task_claim(f->st, id, 100, 3, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(s.seq[i], i);
		assert_int_equal(s.tries[i], 1);
		assert_int_equal(s.state[i], STORE_CALLEE_CALLING);
	}
	/* Callee 0 busy (retried 600 s after its end); 1 answered; 2 rejected by the callee
	 * (never retried); all while the task runs. */
	attempt(f, id, 0, "s0", 206, 100);
	attempt(f, id, 1, "s1", 1, 100);
	attempt(f, id, 2, "s2", 203, 100);
	/* At 200 only 3 and 4 are due; at 700 callee 0 again, on its second try. */
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, id, 200, 10, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], 3);
	assert_int_equal(s.seq[1], 4);
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, id, 699, 10, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_task_claim(f->st, id, 700, 10, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.seq[0], 0);
	assert_int_equal(s.tries[0], 2);
	/* Busy again: Tries (2) are used up. */
	attempt(f, id, 0, "s0b", 206, 800);
	s.n = 0;
	assert_int_equal(store_task_callees(f->st, id, seen_add, &s), 0);
	assert_string_equal(s.sessions[0], "s0000000000000000000000000000000,"
			    "s0b00000000000000000000000000000");
	assert_int_equal(s.state[0], STORE_CALLEE_NOT_ANSWERED);
	assert_int_equal(s.state[1], STORE_CALLEE_ANSWERED);
	assert_int_equal(s.state[2], STORE_CALLEE_NOT_ANSWERED);
	assert_int_equal(s.state[3], STORE_CALLEE_CALLING);
	assert_int_equal(store_task_claim(f->st, id, 0, 65, "n1", seen_add, &s), EINVAL);
}

/* Several claimers at once (threads with their own store, as nodes would be): every callee
 * is claimed exactly once. */
struct claimer {
	struct store_conf conf;
	uint64_t task_id;
	struct seen got;
	int err;
};

static void *claim_run(void *arg)
{
	struct claimer *c = arg;
	struct store *st = NULL;

	c->err = store_open(&st, &c->conf);
	for (int i = 0; !c->err && i < 40; i++) {
		unsigned before = c->got.n;

		c->err = store_task_claim(st, c->task_id, 1000, 4, "n", seen_add, &c->got);
		if (c->err == EBUSY)
			c->err = 0;
		if (!c->err && c->got.n == before && i > 10)
			break;
	}
	mem_deref(st);
	return NULL;
}

static enum store_task_state task_state(struct fixture *f, uint64_t id)
{
	struct store_task *t = NULL;
	enum store_task_state st;

	assert_int_equal(store_task_get(f->st, 7, id, &t), 0);
	st = t->state;
	mem_deref(t);
	return st;
}

/* NotBefore starts a task, its last outcome completes it; NotAfter makes a task ending
 * while a call is in progress, ended after; a claim whose session never reached the store
 * is given back at start, one whose session did is not. */
static void test_advance_and_recover(void **state)
{
	struct fixture *f = *state;
	uint64_t a = task_make(f->st, 7, 2, 100), b = task_make(f->st, 7, 2, 100);
	struct store_task *t = NULL;
	struct seen s = {0};
	struct db_conn *db = NULL;

	assert_int_equal(store_tasks_advance(f->st, 99), 0);
	assert_int_equal(task_state(f, a), STORE_TASK_CREATED);
	assert_int_equal(store_tasks_advance(f->st, 100), 0);
	assert_int_equal(task_state(f, a), STORE_TASK_RUNNING);
	assert_int_equal(store_task_claim(f->st, a, 100, 2, "n1", seen_add, &s), 0);
	attempt(f, a, 0, "a0", 1, 110);
	assert_int_equal(store_tasks_advance(f->st, 120), 0);
	assert_int_equal(task_state(f, a), STORE_TASK_RUNNING);
	attempt(f, a, 1, "a1", 205, 130);
	/* 205 is retryable: due at 730, the task still runs. */
	assert_int_equal(store_tasks_advance(f->st, 140), 0);
	assert_int_equal(task_state(f, a), STORE_TASK_RUNNING);
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, a, 730, 2, "n1", seen_add, &s), 0);
	attempt(f, a, 1, "a1b", 205, 740);
	assert_int_equal(store_tasks_advance(f->st, 750), 0);
	assert_int_equal(task_state(f, a), STORE_TASK_COMPLETED);

	/* Task b: NotAfter at 200 while callee 0 is calling and 1 waits. */
	assert_int_equal(db_open(&db, &f->conf, false), 0);
	assert_int_equal(db_exec(db, "UPDATE tasks SET not_after = 200"), 0);
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, b, 150, 1, "n1", seen_add, &s), 0);
	assert_int_equal(store_tasks_advance(f->st, 200), 0);
	assert_int_equal(task_state(f, b), STORE_TASK_ENDING);
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, b, 10000, 5, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 0);
	attempt(f, b, 0, "b0", 202, 210);
	assert_int_equal(store_tasks_advance(f->st, 220), 0);
	assert_int_equal(store_task_get(f->st, 7, b, &t), 0);
	assert_int_equal(t->state, STORE_TASK_STOPPED);
	assert_int_equal(t->ended_at, 220);
	t = mem_deref(t);
	s.n = 0;
	assert_int_equal(store_task_callees(f->st, b, seen_add, &s), 0);
	assert_int_equal(s.state[0], STORE_CALLEE_NOT_ANSWERED); /* not retried: ended */
	assert_int_equal(s.state[1], STORE_CALLEE_INITIAL);

	/* Recover: two claims of node n2, only one with its session stored. */
	{
		uint64_t c = task_make(f->st, 7, 2, 0);

		assert_int_equal(store_tasks_advance(f->st, 0), 0);
		s.n = 0;
		assert_int_equal(store_task_claim(f->st, c, 0, 2, "n2", seen_add, &s), 0);
		assert_int_equal(s.n, 2);
		attempt(f, c, 0, "c0", 1, 5);
		assert_int_equal(db_exec(db, "UPDATE task_callees SET state = 3 WHERE seq = 0 AND "
				 "task_id = (SELECT max(task_id) FROM tasks)"), 0);
		assert_int_equal(store_task_recover(f->st, "n1", 50), 0);
		assert_int_equal(store_task_recover(f->st, "n2", 50), 0);
		s.n = 0;
		assert_int_equal(store_task_callees(f->st, c, seen_add, &s), 0);
		assert_int_equal(s.state[0], STORE_CALLEE_CALLING);
		assert_int_equal(s.tries[0], 1);
		assert_int_equal(s.state[1], STORE_CALLEE_INITIAL);
		assert_int_equal(s.tries[1], 0);
		s.n = 0;
		assert_int_equal(store_task_claim(f->st, c, 50, 2, "n1", seen_add, &s), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.seq[0], 1);
		/* A configuration refusal gives the claim back uncounted. */
		assert_int_equal(store_task_unclaim(f->st, c, 1, 60), 0);
		s.n = 0;
		assert_int_equal(store_task_claim(f->st, c, 60, 2, "n1", seen_add, &s), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.tries[0], 1);
	}
	mem_deref(db);
}

/* A task that ends (completed, ended after NotAfter, stopped) queues one push event for
 * its instance when the instance pushes events, in the write that ends it. */
static void test_finished_push(void **state)
{
	struct fixture *f = *state;
	struct store_push_conf pc = {.sdkappid = 7, .enabled = true,
				     .events = STORE_PUSH_EVENT};
	struct db_conn *db = NULL;
	struct db_stmt *q;
	uint64_t a, b;
	struct seen s = {0};

	assert_int_equal(db_open(&db, &f->conf, false), 0);
	assert_int_equal(db_exec(db, "INSERT INTO accounts (id, name, created_at) VALUES "
				 "(1, 'a', 0);INSERT INTO instances (sdkappid, account_id, "
				 "created_at) VALUES (7, 1, 0)"), 0);
	strcpy(pc.url, "http://127.0.0.1:9/hook");
	assert_int_equal(store_push_conf_put(f->st, &pc), 0);
	a = task_make(f->st, 7, 1, 0);
	b = task_make(f->st, 7, 1, 0);
	assert_int_equal(store_tasks_advance(f->st, 10), 0);
	assert_int_equal(store_task_claim(f->st, a, 10, 1, "n1", seen_add, &s), 0);
	attempt(f, a, 0, "p0", 1, 11);
	assert_int_equal(store_task_change(f->st, 7, b, STORE_TASK_STOP, NULL, 12), 0);
	assert_int_equal(store_tasks_advance(f->st, 13), 0);
	assert_int_equal(store_tasks_advance(f->st, 14), 0);
	q = db_prepare(db, "SELECT session_id, body FROM outbox WHERE action = 'event' ORDER "
		       "BY session_id");
	assert_non_null(q);
	assert_int_equal(db_step(q), DB_ROW);
	assert_non_null(strstr(db_col_text(q, 1), "\"Event\":\"AutoCalloutTaskFinished\""));
	assert_non_null(strstr(db_col_text(q, 1), "\"State\":2"));
	assert_int_equal(db_step(q), DB_ROW);
	assert_non_null(strstr(db_col_text(q, 1), "\"State\":4"));
	assert_int_equal(db_step(q), DB_DONE);
	mem_deref(q);
	mem_deref(db);
}

static void test_concurrent_claims(void **state)
{
	struct fixture *f = *state;
	uint64_t id = task_make(f->st, 7, 120, 0);
	struct claimer c[3];
	pthread_t th[3];
	unsigned char hit[120] = {0};
	unsigned total = 0;

	assert_int_equal(store_tasks_advance(f->st, 0), 0);
	for (int i = 0; i < 3; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].conf = f->conf;
		c[i].task_id = id;
		assert_int_equal(pthread_create(&th[i], NULL, claim_run, &c[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(c[i].err, 0);
		for (unsigned j = 0; j < c[i].got.n; j++) {
			assert_int_equal(hit[c[i].got.seq[j]], 0);
			hit[c[i].got.seq[j]] = 1;
		}
		total += c[i].got.n;
	}
	assert_int_equal(total, 120);
}

/* A machine that answered (EndStatus 222, the flow's answering-machine branch) is retried
 * only when the task's RetryHangupTypes lists 222: not by default. */
static void test_voicemail_retried_when_asked(void **state)
{
	struct fixture *f = *state;
	uint64_t a = task_make(f->st, 7, 1, 100), b = task_make(f->st, 7, 1, 100);
	struct seen s = {0};
	struct db_conn *db = NULL;
	char sql[96];

	assert_int_equal(db_open(&db, &f->conf, false), 0);
	snprintf(sql, sizeof(sql), "UPDATE tasks SET retry_statuses = '205,222' WHERE task_id = %llu",
		 (unsigned long long)b);
	assert_int_equal(db_exec(db, sql), 0);
	mem_deref(db);
	assert_int_equal(store_tasks_advance(f->st, 100), 0);
	assert_int_equal(store_task_claim(f->st, a, 100, 1, "n1", seen_add, &s), 0);
	assert_int_equal(store_task_claim(f->st, b, 100, 1, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 2);
	attempt(f, a, 0, "va0", 222, 110);
	attempt(f, b, 0, "vb0", 222, 110);
	assert_int_equal(store_tasks_advance(f->st, 120), 0);
	assert_int_equal(task_state(f, a), STORE_TASK_COMPLETED);
	assert_int_equal(task_state(f, b), STORE_TASK_RUNNING);
	/* b's callee is due again after the retry interval */
	s.n = 0;
	assert_int_equal(store_task_claim(f->st, b, 709, 1, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_task_claim(f->st, b, 710, 1, "n1", seen_add, &s), 0);
	assert_int_equal(s.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_advance_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order_and_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voicemail_retried_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_advance_and_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finished_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_claims, setup, teardown),
	};
	const char *backend = getenv("CCCD_TEST_STORE");

	on_pg = backend && !strcmp(backend, "postgresql");
	if (on_pg && !getenv("CCCD_TEST_PG_DSN")) {
		fprintf(stderr, "test_store_task: CCCD_TEST_STORE=postgresql needs "
			"CCCD_TEST_PG_DSN\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
