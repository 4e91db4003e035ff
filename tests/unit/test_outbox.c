/* Unit tests of the store's outbox: adding in the caller's transaction, claiming in
 * session order, results, leases, resend, purge, and push configuration rows; several
 * nodes claiming from one database.
 *
 * On SQLite (a file per test) by default; CCCD_TEST_STORE=postgresql runs the same tests on
 * PostgreSQL, a database per test, created through CCCD_TEST_PG_DSN (a superuser's, e.g.
 * tests/pg/pg-tmp.sh's) with the password in CCCD_TEST_PG_PASSWORD_FILE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>
#include "base/base.h"
#include "store/store_int.h"

enum { SDKAPPID = 1400000001, OTHER = 1400000002 };

struct fixture {
	char dir[64];
	char pg_db[64];          /* PostgreSQL: the test's database */
	struct store_conf conf;
	struct store *st;
};

static bool on_pg;

static void pg_admin_exec(const char *fmt, const char *name)
{
	struct store_conf admin = {.backend = DB_POSTGRESQL, .busy_timeout_ms = 10000};
	const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
	struct db_conn *c = NULL;
	char sql[128];

	snprintf(admin.dsn, sizeof(admin.dsn), "%s", getenv("CCCD_TEST_PG_DSN"));
	snprintf(admin.password_file, sizeof(admin.password_file), "%s", pw ? pw : "");
	snprintf(sql, sizeof(sql), fmt, name);
	assert_int_equal(db_open(&c, &admin, false), 0);
	assert_int_equal(db_exec(c, sql), 0);
	mem_deref(c);
}

/* PostgreSQL: sc on a new database named name (dropped at teardown). */
static void pg_create(struct store_conf *sc, const char *name)
{
	const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");

	pg_admin_exec("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	pg_admin_exec("CREATE DATABASE %s", name);
	sc->backend = DB_POSTGRESQL;
	snprintf(sc->dsn, sizeof(sc->dsn), "%s dbname=%s", getenv("CCCD_TEST_PG_DSN"), name);
	snprintf(sc->password_file, sizeof(sc->password_file), "%s", pw ? pw : "");
}

static void instance_add(struct store *st, uint64_t sdkappid)
{
	struct store_instance in = {0};
	uint64_t acct;

	assert_int_equal(store_account_create(st, "t", &acct), 0);
	in.sdkappid = sdkappid;
	in.account_id = acct;
	assert_int_equal(store_instance_put(st, &in), 0);
}

static void conf_put(struct store *st, uint64_t sdkappid, bool enabled, unsigned events)
{
	struct store_push_conf pc = {0};

	pc.sdkappid = sdkappid;
	pc.enabled = enabled;
	strcpy(pc.url, "http://127.0.0.1:1/push");
	pc.events = events;
	assert_int_equal(store_push_conf_put(st, &pc), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/cccd-test-outbox-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	if (on_pg) {
		static unsigned seq;

		snprintf(f->pg_db, sizeof(f->pg_db), "test_outbox_%d_%u", (int)getpid(), ++seq);
		pg_create(&f->conf, f->pg_db);
	}
	strcpy(f->conf.node_id, "n1");
	f->conf.batch_max = 64;
	f->conf.synchronous_full = true;
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	instance_add(f->st, SDKAPPID);
	instance_add(f->st, OTHER);
	conf_put(f->st, SDKAPPID, true, STORE_PUSH_CDR | STORE_PUSH_RECORD | STORE_PUSH_EVENT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->st);
	if (on_pg)
		pg_admin_exec("DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Rows handed to a handler, copied. */
struct rows {
	unsigned n;
	struct store_outbox_row r[16];
	char bodies[16][64];
};

static int rows_collect(struct store_outbox_row *row, void *arg)
{
	struct rows *rs = arg;

	assert_true(rs->n < 16);
	rs->r[rs->n] = *row;
	snprintf(rs->bodies[rs->n], sizeof(rs->bodies[0]), "%s", row->body);
	rs->r[rs->n].body = rs->bodies[rs->n];
	rs->n++;
	return 0;
}

/* The instances with due rows, each with room for `room` rows. */
struct due {
	unsigned n;
	struct store_outbox_room r[8];
};

static int due_collect(uint64_t sdkappid, void *arg)
{
	struct due *d = arg;

	assert_true(d->n < 8);
	d->r[d->n].sdkappid = sdkappid;
	d->r[d->n].room = 16;
	d->n++;
	return 0;
}

static struct due due_get(struct store *st, int64_t now_ms)
{
	struct due d = {0};

	assert_int_equal(store_outbox_due_instances(st, now_ms, due_collect, &d), 0);
	return d;
}

static struct rows claim_max(struct store *st, int64_t now_ms, unsigned max)
{
	struct due d = due_get(st, now_ms);
	struct rows rs = {0};

	assert_int_equal(store_outbox_claim(st, now_ms, 60000, max, d.r, d.n, rows_collect, &rs),
			 0);
	return rs;
}

static struct rows claim(struct store *st, int64_t now_ms)
{
	return claim_max(st, now_ms, 16);
}

static struct rows list(struct store *st, const struct store_outbox_filter *f)
{
	struct rows rs = {0};

	assert_int_equal(store_outbox_list(st, f, rows_collect, &rs), 0);
	return rs;
}

static const struct store_outbox_filter ALL = {.state = -1};

static void result(struct store *st, uint64_t seq, enum store_outbox_state state,
		   int64_t next_ms, const char *error)
{
	struct store_outbox_result r = {0};

	r.seq = seq;
	r.state = state;
	r.attempted = true;
	r.next_ms = next_ms;
	r.now_ms = clock_unix_ms();
	snprintf(r.error, sizeof(r.error), "%s", error);
	assert_int_equal(store_outbox_results(st, &r, 1), 0);
}

static void test_conf_rows(void **state)
{
	struct fixture *f = *state;
	struct store_push_conf pc = {0}, got;

	assert_int_equal(store_push_conf_get(f->st, SDKAPPID, &got), 0);
	assert_true(got.enabled);
	assert_string_equal(got.url, "http://127.0.0.1:1/push");
	assert_int_equal(got.auth, STORE_PUSH_AUTH_NONE);
	assert_false(got.retry_set);
	assert_false(got.event_retry_set);
	assert_int_equal(got.secret_enc_len, 0);

	pc.sdkappid = OTHER;
	strcpy(pc.url, "https://example.test/p?x=1");
	pc.auth = STORE_PUSH_AUTH_OAUTH2;
	strcpy(pc.user, "client");
	strcpy(pc.token_url, "https://example.test/token");
	memcpy(pc.secret_enc, "\x01\x00\x02", 3);
	pc.secret_enc_len = 3;
	pc.events = STORE_PUSH_VOICEMAIL;
	pc.retry_set = true;
	pc.n_retry = 2;
	pc.retry_ms[0] = 100;
	pc.retry_ms[1] = 2500;
	pc.event_retry_set = true; /* an explicit empty schedule: no retry */
	pc.timeout_ms = 1500;
	assert_int_equal(store_push_conf_put(f->st, &pc), 0);
	assert_int_equal(store_push_conf_get(f->st, OTHER, &got), 0);
	assert_false(got.enabled);
	assert_string_equal(got.url, pc.url);
	assert_int_equal(got.auth, STORE_PUSH_AUTH_OAUTH2);
	assert_string_equal(got.user, "client");
	assert_string_equal(got.token_url, pc.token_url);
	assert_int_equal(got.secret_enc_len, 3);
	assert_memory_equal(got.secret_enc, "\x01\x00\x02", 3);
	assert_int_equal(got.events, STORE_PUSH_VOICEMAIL);
	assert_true(got.retry_set);
	assert_int_equal(got.n_retry, 2);
	assert_int_equal(got.retry_ms[0], 100);
	assert_int_equal(got.retry_ms[1], 2500);
	assert_true(got.event_retry_set);
	assert_int_equal(got.n_event_retry, 0);
	assert_int_equal(got.timeout_ms, 1500);

	/* Replaced as a whole. */
	pc.enabled = true;
	pc.retry_set = false;
	assert_int_equal(store_push_conf_put(f->st, &pc), 0);
	assert_int_equal(store_push_conf_get(f->st, OTHER, &got), 0);
	assert_true(got.enabled);
	assert_false(got.retry_set);

	/* Only for an existing instance. */
	pc.sdkappid = 99;
	assert_int_equal(store_push_conf_put(f->st, &pc), ENOENT);
	assert_int_equal(store_push_conf_get(f->st, 99, &got), ENOENT);
	pc.sdkappid = 0;
	assert_int_equal(store_push_conf_put(f->st, &pc), EINVAL);

	assert_int_equal(store_push_conf_delete(f->st, OTHER), 0);
	assert_int_equal(store_push_conf_get(f->st, OTHER, &got), ENOENT);
	assert_int_equal(store_push_conf_delete(f->st, OTHER), ENOENT);
}

static void test_enqueue_rules(void **state)
{
	struct fixture *f = *state;
	const char *sid = "0123456789abcdef0123456789abcdef";
	struct rows rs;
	char id[37], id2[37];

	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "cdr", "{\"a\":1}", id), 0);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "record", "{}", id2), 0);
	assert_string_not_equal(id, id2);

	/* Voicemail is off for the instance; OTHER has no settings; 99 does not exist. */
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "voicemail", "{}", id), 0);
	assert_string_equal(id, "");
	assert_int_equal(store_outbox_enqueue(f->st, OTHER, sid, "cdr", "{}", id), 0);
	assert_string_equal(id, "");
	assert_int_equal(store_outbox_enqueue(f->st, 99, sid, "cdr", "{}", NULL), 0);
	/* Push switched off: nothing either. */
	conf_put(f->st, OTHER, false, STORE_PUSH_CDR);
	assert_int_equal(store_outbox_enqueue(f->st, OTHER, sid, "cdr", "{}", id), 0);
	assert_string_equal(id, "");

	/* Bad arguments. */
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "bogus", "{}", id), EINVAL);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "", "cdr", "{}", id), EINVAL);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, NULL, "cdr", "{}", id), EINVAL);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "cdr", NULL, id), EINVAL);
	assert_int_equal(store_outbox_enqueue(NULL, SDKAPPID, sid, "cdr", "{}", id), EINVAL);

	rs = list(f->st, &ALL);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.r[0].action, "cdr");
	assert_string_equal(rs.r[0].body, "{\"a\":1}");
	assert_string_equal(rs.r[0].session_id, sid);
	assert_int_equal(rs.r[0].sdkappid, SDKAPPID);
	assert_int_equal(rs.r[0].state, STORE_OUTBOX_PENDING);
	assert_int_equal(rs.r[0].attempts, 0);
	assert_true(rs.r[0].created_ms > 0);
	assert_true(rs.r[0].next_ms <= clock_unix_ms());
	assert_string_equal(rs.r[1].id, id2);
	assert_true(rs.r[0].seq < rs.r[1].seq);
}

/* A caller's write job: a state change and its push, kept or rolled back together. */
struct change {
	const char *session_id;
	int fail_with;
};

static int change_write(struct store_conn *c, void *arg)
{
	const struct change *ch = arg;
	int err = store_outbox_add(c, SDKAPPID, ch->session_id, "cdr", "{\"x\":true}");

	assert_int_equal(db_exec(c->db, "CREATE TABLE IF NOT EXISTS t (v TEXT);"
				 "INSERT INTO t VALUES ('x')"), 0);
	return err ? err : ch->fail_with;
}

static atomic_int watched;

static void watch_count(void *arg)
{
	assert_ptr_equal(arg, &watched);
	atomic_fetch_add(&watched, 1);
}

static void test_add_in_transaction(void **state)
{
	struct fixture *f = *state;
	struct change ok = {"s1", 0}, bad = {"s2", EIO};
	struct store_outbox_filter fl = ALL;
	struct rows rs;

	store_outbox_watch(f->st, watch_count, &watched);
	assert_int_equal(store_write(f->st, change_write, &bad), EIO);
	rs = list(f->st, &ALL);
	assert_int_equal(rs.n, 0);
	assert_int_equal(store_write(f->st, change_write, &ok), 0);
	rs = list(f->st, &ALL);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].session_id, "s1");
	assert_true(atomic_load(&watched) >= 1);

	/* Writes without outbox rows do not call the watcher; unregistered, it is gone. */
	atomic_store(&watched, 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(atomic_load(&watched), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "s3", "cdr", "{}", NULL), 0);
	assert_int_equal(atomic_load(&watched), 1);
	store_outbox_watch(f->st, NULL, NULL);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "s3", "cdr", "{}", NULL), 0);
	assert_int_equal(atomic_load(&watched), 1);

	fl.session_id = "s3";
	assert_int_equal(list(f->st, &fl).n, 2);
}

/* A session's recording, voicemails and end: the columns and the pushes, recording and
 * voicemail before the CDR, voicemail only when the instance pushes it. */
static void test_session_recordings(void **state)
{
	struct fixture *f = *state;
	struct store_session *s = NULL, *g = NULL;
	struct store_session_end end = {.ended_ts = 20, .end_status = 1, .hungup_side = "user"};
	struct store_outbox_filter fl = ALL;
	struct store_instance in;
	struct rows rs;

	assert_int_equal(store_instance_get(f->st, SDKAPPID, &in), 0);
	assert_false(in.record_calls);
	in.record_calls = true;
	assert_int_equal(store_instance_put(f->st, &in), 0);
	assert_int_equal(store_instance_get(f->st, SDKAPPID, &in), 0);
	assert_true(in.record_calls);

	assert_int_equal(store_session_alloc(&s, NULL, NULL), 0);
	assert_string_equal(s->voicemail_urls, "[]");
	strcpy(s->id, "0123456789abcdef0123456789abcdef");
	s->sdkappid = SDKAPPID;
	s->direction = 1;
	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_record(f->st, s->id, "1/x.wav", "rid"), 0);
	assert_int_equal(store_session_voicemail(f->st, s->id, SDKAPPID, "1/x-vm1.wav", "{\"v\":1}"),
			 0);
	assert_int_equal(store_session_voicemail(f->st, s->id, SDKAPPID, "1/x-vm2.wav", NULL), 0);
	assert_int_equal(store_session_record(f->st, "short", "a", "b"), EINVAL);
	assert_int_equal(store_session_voicemail(f->st, s->id, SDKAPPID, "", NULL), EINVAL);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, SDKAPPID, s->id, &g), 0);
	assert_string_equal(g->record_url, "1/x.wav");
	assert_string_equal(g->record_id, "rid");
	assert_string_equal(g->voicemail_urls, "[\"1/x-vm1.wav\",\"1/x-vm2.wav\"]");
	g = mem_deref(g);
	/* This instance does not push voicemails. */
	fl.session_id = s->id;
	assert_int_equal(list(f->st, &fl).n, 0);

	strcpy(end.record_url, "1/x.wav");
	strcpy(end.record_id, "rid");
	assert_int_equal(store_session_finish(f->st, s->id, SDKAPPID, &end, "{\"c\":1}",
					      "{\"r\":1}"), 0);
	assert_int_equal(store_sync(f->st), 0);
	rs = list(f->st, &fl);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.r[0].action, "record");
	assert_string_equal(rs.r[0].body, "{\"r\":1}");
	assert_string_equal(rs.r[1].action, "cdr");
	/* After the end nothing changes any more. */
	assert_int_equal(store_session_voicemail(f->st, s->id, SDKAPPID, "1/late.wav", "{}"), 0);
	assert_int_equal(store_session_record(f->st, s->id, "1/other.wav", ""), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, SDKAPPID, s->id, &g), 0);
	assert_string_equal(g->record_url, "1/x.wav");
	assert_string_equal(g->voicemail_urls, "[\"1/x-vm1.wav\",\"1/x-vm2.wav\"]");
	mem_deref(g);
	mem_deref(s);

	/* An instance that pushes voicemails gets one row per message. */
	conf_put(f->st, OTHER, true, STORE_PUSH_VOICEMAIL);
	assert_int_equal(store_session_alloc(&s, NULL, NULL), 0);
	strcpy(s->id, "fedcba9876543210fedcba9876543210");
	s->sdkappid = OTHER;
	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_voicemail(f->st, s->id, OTHER, "2/y-vm1.wav", "{\"v\":2}"),
			 0);
	assert_int_equal(store_sync(f->st), 0);
	fl.session_id = s->id;
	rs = list(f->st, &fl);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].action, "voicemail");
	assert_string_equal(rs.r[0].body, "{\"v\":2}");
	mem_deref(s);
}

static int cdr_count(struct store_session *s, void *arg)
{
	(void)s;
	(*(unsigned *)arg)++;
	return 0;
}

/* A session that ends as it begins (a refused inbound call): one write makes the finished
 * row, listed with the call records, and its CDR push; never seen live. The row is taken
 * over whatever happens; a pushing-less instance gets the row without a push. */
static void test_create_finished(void **state)
{
	struct fixture *f = *state;
	struct store_session_end end = {.ended_ts = 1700000000, .end_status = 105,
					.hungup_side = "system", .end_reason = "refused"};
	struct store_cdr_query q = {.sdkappid = SDKAPPID, .since = 1700000000,
				    .until = 1700000000, .limit = 10};
	struct store_outbox_filter fl = ALL;
	struct store_session *s = NULL, *g = NULL;
	unsigned n = 0, active = 0;
	uint64_t total = 0;
	struct rows rs;

	assert_int_equal(store_session_alloc(&s, "uui", NULL), 0);
	strcpy(s->id, "00112233445566778899aabbccddeeff");
	s->sdkappid = SDKAPPID;
	s->direction = 0;
	strcpy(s->caller, "008613800000000");
	strcpy(s->callee, "008675587654321");
	s->ivr_id = 5;
	s->start_ts = 1700000000;
	s->created_ms = 1700000000000;
	s->status = STORE_STATUS_FINISHED; /* ignored */
	assert_int_equal(store_session_create_finished(f->st, s, &end, "{\"cdr\":1}"), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, SDKAPPID, "00112233445566778899aabbccddeeff",
					   &g), 0);
	assert_int_equal(g->status, STORE_STATUS_FINISHED);
	assert_int_equal(g->direction, 0);
	assert_int_equal(g->start_ts, 1700000000);
	assert_int_equal(g->ended_ts, 1700000000);
	assert_int_equal(g->ring_ts, 0);
	assert_int_equal(g->accept_ts, 0);
	assert_int_equal(g->end_status, 105);
	assert_string_equal(g->hungup_side, "system");
	assert_string_equal(g->end_reason, "refused");
	assert_string_equal(g->caller, "008613800000000");
	assert_string_equal(g->uui, "uui");
	assert_string_equal(g->participants, "[]");
	g = mem_deref(g);
	assert_int_equal(store_cdr_list(f->st, &q, cdr_count, &n, &total), 0);
	assert_int_equal(total, 1);
	assert_int_equal(store_sessions_active(f->st, SDKAPPID, 0, 10, cdr_count, &active,
					       &total), 0);
	assert_int_equal(total, 0);
	fl.session_id = "00112233445566778899aabbccddeeff";
	rs = list(f->st, &fl);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].action, "cdr");
	assert_string_equal(rs.r[0].body, "{\"cdr\":1}");

	/* The same id again: the insert fails, and neither row nor push changes. */
	assert_int_equal(store_session_alloc(&s, NULL, NULL), 0);
	strcpy(s->id, "00112233445566778899aabbccddeeff");
	s->sdkappid = SDKAPPID;
	end.end_status = 0;
	assert_int_equal(store_session_create_finished(f->st, s, &end, "{\"cdr\":2}"), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(list(f->st, &fl).n, 1);
	assert_int_equal(store_session_get(f->st, SDKAPPID, fl.session_id, &g), 0);
	assert_int_equal(g->end_status, 105);
	g = mem_deref(g);

	/* An instance that does not push: the record without a push. */
	assert_int_equal(store_session_alloc(&s, NULL, NULL), 0);
	strcpy(s->id, "ffeeddccbbaa99887766554433221100");
	s->sdkappid = OTHER;
	assert_int_equal(store_session_create_finished(f->st, s, &end, "{}"), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, OTHER, "ffeeddccbbaa99887766554433221100",
					   &g), 0);
	assert_int_equal(g->status, STORE_STATUS_FINISHED);
	g = mem_deref(g);
	fl.session_id = "ffeeddccbbaa99887766554433221100";
	assert_int_equal(list(f->st, &fl).n, 0);

	/* Bad arguments: refused, the row released all the same (no leak under ASan). */
	assert_int_equal(store_session_alloc(&s, NULL, NULL), 0);
	strcpy(s->id, "short");
	assert_int_equal(store_session_create_finished(f->st, s, &end, NULL), EINVAL);
	assert_int_equal(store_session_alloc(&s, NULL, NULL), 0);
	strcpy(s->id, "ffeeddccbbaa99887766554433221101");
	assert_int_equal(store_session_create_finished(f->st, s, NULL, NULL), EINVAL);
	assert_int_equal(store_session_create_finished(f->st, NULL, &end, NULL), EINVAL);
}

static void test_claim_order(void **state)
{
	struct fixture *f = *state;
	uint64_t a1, a2, a3, b1;
	int64_t now;
	struct rows rs;

	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "record", "a1", NULL), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "cdr", "a2", NULL), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "B", "cdr", "b1", NULL), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "event", "a3", NULL), 0);
	now = clock_unix_ms();

	/* Only the oldest row of each session. */
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.bodies[0], "a1");
	assert_string_equal(rs.bodies[1], "b1");
	a1 = rs.r[0].seq;
	b1 = rs.r[1].seq;
	/* Leased: not claimed twice, and A's next row waits. */
	assert_int_equal(claim(f->st, now).n, 0);

	result(f->st, a1, STORE_OUTBOX_DELIVERED, 0, "");
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.bodies[0], "a2");
	a2 = rs.r[0].seq;

	/* A failure: pending until its time, and the session waits with it. */
	result(f->st, a2, STORE_OUTBOX_PENDING, now + 5000, "HTTP 500");
	assert_int_equal(claim(f->st, now + 4999).n, 0);
	rs = claim(f->st, now + 5000);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].seq, a2);
	assert_int_equal(rs.r[0].attempts, 1);
	assert_string_equal(rs.r[0].last_error, "HTTP 500");

	/* Dead also lets the session go on. */
	result(f->st, a2, STORE_OUTBOX_DEAD, 0, "HTTP 500");
	rs = claim(f->st, now + 5000);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.bodies[0], "a3");
	a3 = rs.r[0].seq;

	/* The limit is honoured. */
	result(f->st, b1, STORE_OUTBOX_DELIVERED, 0, "");
	result(f->st, a3, STORE_OUTBOX_DELIVERED, 0, "");
	for (int i = 0; i < 5; i++) {
		char sid[16];

		snprintf(sid, sizeof(sid), "S%d", i);
		assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "cdr", "{}", NULL), 0);
	}
	assert_int_equal(claim_max(f->st, clock_unix_ms(), 2).n, 2);
	assert_int_equal(claim(f->st, clock_unix_ms()).n, 3);

	/* States as listed. */
	{
		struct store_outbox_filter fl = ALL;

		fl.session_id = "A";
		rs = list(f->st, &fl);
		assert_int_equal(rs.n, 3);
		assert_int_equal(rs.r[0].state, STORE_OUTBOX_DELIVERED);
		assert_true(rs.r[0].done_ms > 0);
		assert_int_equal(rs.r[1].state, STORE_OUTBOX_DEAD);
		assert_int_equal(rs.r[1].attempts, 2);
		assert_int_equal(rs.r[2].state, STORE_OUTBOX_DELIVERED);
		fl.session_id = NULL;
		fl.state = STORE_OUTBOX_DEAD;
		assert_int_equal(list(f->st, &fl).n, 1);
		fl.state = STORE_OUTBOX_PENDING;
		fl.limit = 4;
		assert_int_equal(list(f->st, &fl).n, 4);
	}
	{
		struct store_outbox_room room = {SDKAPPID, 1};

		assert_int_equal(store_outbox_claim(f->st, now, 60000, 0, &room, 1, rows_collect,
						    &rs), EINVAL);
		assert_int_equal(store_outbox_claim(f->st, now, 0, 1, &room, 1, rows_collect, &rs),
				 EINVAL);
		assert_int_equal(store_outbox_claim(f->st, now, 60000, 1, NULL, 1, rows_collect,
						    &rs), EINVAL);
	}
}

/* Issue #12: one instance's backlog took every request in flight. A claim gives each
 * instance at most its room, shares what is free evenly, and what one cannot use goes to
 * the others. */
static void test_claim_shared(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_room rooms[2] = {{SDKAPPID, 16}, {OTHER, 16}};
	int64_t now;
	struct rows rs;
	struct due d;
	unsigned a = 0;

	conf_put(f->st, OTHER, true, STORE_PUSH_CDR);
	for (int i = 0; i < 10; i++) {
		char sid[16];

		snprintf(sid, sizeof(sid), "A%d", i);
		assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "cdr", "a", NULL), 0);
	}
	assert_int_equal(store_outbox_enqueue(f->st, OTHER, "B0", "cdr", "b", NULL), 0);
	assert_int_equal(store_outbox_enqueue(f->st, OTHER, "B1", "cdr", "b", NULL), 0);
	assert_int_equal(store_outbox_enqueue(f->st, OTHER, "B2", "cdr", "b", NULL), 0);
	now = clock_unix_ms();

	/* Both are listed, in sdkappid order; nothing is due before it is. */
	d = due_get(f->st, now);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.r[0].sdkappid, SDKAPPID);
	assert_int_equal(d.r[1].sdkappid, OTHER);
	assert_int_equal(due_get(f->st, now - 60000).n, 0);

	/* 4 free slots: 2 each, though the first instance's rows are all older. */
	rs = (struct rows){0};
	assert_int_equal(store_outbox_claim(f->st, now, 60000, 4, rooms, 2, rows_collect, &rs), 0);
	assert_int_equal(rs.n, 4);
	for (unsigned i = 0; i < rs.n; i++)
		a += rs.r[i].sdkappid == SDKAPPID;
	assert_int_equal(a, 2);

	/* Room 1 for the first: the rest of the 8 go to the other, which has only 1 left;
	 * then the first instance's room is kept although slots stay free. */
	rooms[0].room = 1;
	rs = (struct rows){0};
	assert_int_equal(store_outbox_claim(f->st, now, 60000, 8, rooms, 2, rows_collect, &rs), 0);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[0].sdkappid + rs.r[1].sdkappid, (uint64_t)SDKAPPID + OTHER);

	/* Room 0: none of its rows; an instance not listed: none either. */
	rooms[0].room = 0;
	rs = (struct rows){0};
	assert_int_equal(store_outbox_claim(f->st, now, 60000, 8, rooms, 2, rows_collect, &rs), 0);
	assert_int_equal(rs.n, 0);
	rs = (struct rows){0};
	assert_int_equal(store_outbox_claim(f->st, now, 60000, 8, rooms + 1, 1, rows_collect, &rs),
			 0);
	assert_int_equal(rs.n, 0);
}

static void test_leases(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_result r = {0};
	int64_t now;
	struct rows rs;

	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "cdr", "a1", NULL), 0);
	now = clock_unix_ms();
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 1);
	/* A lease ends by itself (a deliverer that died)... */
	assert_int_equal(claim(f->st, now + 59999).n, 0);
	assert_int_equal(claim(f->st, now + 60000).n, 1);
	/* ... or all at once at the next start. */
	assert_int_equal(claim(f->st, now).n, 0);
	assert_int_equal(store_outbox_unlease(f->st), 0);
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 1);
	/* ... or one claim's, by its lease (a claim whose write failed without saying whether
	 * it committed): a lease of another claim stays. */
	assert_int_equal(store_outbox_unclaim(f->st, now + 59999), 0);
	assert_int_equal(claim(f->st, now).n, 0);
	assert_int_equal(store_outbox_unclaim(f->st, now + 60000), 0);
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 1);

	/* Not attempted (stopped before sending): attempts unchanged, due again. */
	r.seq = rs.r[0].seq;
	r.state = STORE_OUTBOX_PENDING;
	r.attempted = false;
	r.next_ms = now;
	r.now_ms = now;
	assert_int_equal(store_outbox_results(f->st, &r, 1), 0);
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].attempts, 0);

	r.state = 7;
	assert_int_equal(store_outbox_results(f->st, &r, 1), EINVAL);
	assert_int_equal(store_outbox_results(f->st, NULL, 0), 0);
}

/* A second node on the same database: its claims name it, its restart drops only its own
 * leases, and a lease that ran out (its node died) is claimed again with the same id. */
static void test_nodes_leases(void **state)
{
	struct fixture *f = *state;
	struct store_conf c2 = f->conf;
	struct store *n2;
	char id[37];
	int64_t now;
	struct rows rs;

	strcpy(c2.node_id, "n2");
	assert_int_equal(store_open(&n2, &c2), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "cdr", "a1", id), 0);
	now = clock_unix_ms();
	rs = claim(f->st, now);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id);
	assert_int_equal(claim(n2, now).n, 0);
	/* n2 restarting leaves n1's lease alone. */
	assert_int_equal(store_outbox_unlease(n2), 0);
	assert_int_equal(claim(n2, now).n, 0);
	/* n1 dies: its lease runs out, n2 delivers the same row, same dedupe id. */
	rs = claim(n2, now + 60000);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id);
	assert_int_equal(claim(f->st, now + 60000).n, 0);
	/* n1 back: its restart does not take n2's lease either. */
	assert_int_equal(store_outbox_unlease(f->st), 0);
	assert_int_equal(claim(f->st, now + 60000).n, 0);
	result(n2, rs.r[0].seq, STORE_OUTBOX_DELIVERED, 0, "");
	assert_int_equal(claim(f->st, now + 120000).n, 0);
	mem_deref(n2);
}

static int no_session(struct store_session *s, void *arg)
{
	(void)s;
	(void)arg;
	return 0;
}

/* A node taken over gives back its claimed pushes at once: the survivor delivers them
 * right after the takeover, same ids, not after the push lease (minutes). */
static void test_nodes_takeover_releases(void **state)
{
	struct fixture *f = *state;
	struct store_conf c2 = f->conf;
	struct store_outbox_room room = {SDKAPPID, 16};
	struct store *n2;
	char id[37], taken[64];
	int64_t now;
	struct rows rs;

	strcpy(c2.node_id, "n2");
	assert_int_equal(store_open(&n2, &c2), 0);
	assert_int_equal(store_node_start(f->st, "n1", 1000, 2000), 0);
	assert_int_equal(store_node_start(n2, "n2", 1000, 2000), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "cdr", "a1", id), 0);
	now = clock_unix_ms();
	rs = (struct rows){0};
	assert_int_equal(store_outbox_claim(f->st, now, 600000, 16, &room, 1, rows_collect, &rs),
			 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(claim(n2, now).n, 0);
	/* n1's node lease runs out; n2 takes it over and may deliver the row at once. */
	assert_int_equal(store_node_heartbeat(n2, "n2", false, 9000, 2000), 0);
	assert_int_equal(store_node_takeover(n2, "n2", 9000, taken, sizeof(taken), no_session,
					     NULL), 0);
	assert_string_equal(taken, "n1");
	rs = claim(n2, now);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id);
	result(n2, rs.r[0].seq, STORE_OUTBOX_DELIVERED, 0, "");
	mem_deref(n2);
}

/* Two nodes claim and deliver at once, as fast as they can: every row is claimed once,
 * and a session's second row only after its first was delivered. */
enum { RACE_SESSIONS = 60 };

struct racer {
	struct store *st;
	atomic_int *clock;           /* shared: orders claims and deliveries */
	int claimed_at[RACE_SESSIONS][2], delivered_at[RACE_SESSIONS][2];
	int claims;
};

static int race_row(struct store_outbox_row *row, void *arg)
{
	struct racer *r = arg;
	int sess = atoi(row->session_id + 1), k = !strcmp(row->body, "second");

	r->claimed_at[sess][k] = atomic_fetch_add(r->clock, 1) + 1;
	r->claims++;
	result(r->st, row->seq, STORE_OUTBOX_DELIVERED, 0, "");
	r->delivered_at[sess][k] = atomic_fetch_add(r->clock, 1) + 1;
	return 0;
}

static void *race_thread(void *arg)
{
	struct racer *r = arg;
	int64_t now = clock_unix_ms() + 1000;

	for (int idle = 0; idle < 3;) {
		struct due d = due_get(r->st, now);
		int before = r->claims;

		for (unsigned i = 0; i < d.n; i++)
			d.r[i].room = 4;
		assert_int_equal(store_outbox_claim(r->st, now, 60000, 4, d.r, d.n, race_row, r),
				 0);
		idle = r->claims == before ? idle + 1 : 0;
	}
	return NULL;
}

static void test_nodes_race(void **state)
{
	struct fixture *f = *state;
	struct store_conf c2 = f->conf;
	atomic_int clock = 0;
	struct racer *r = calloc(2, sizeof(*r));
	pthread_t t[2];

	strcpy(c2.node_id, "n2");
	r[0].st = f->st;
	assert_int_equal(store_open(&r[1].st, &c2), 0);
	r[0].clock = r[1].clock = &clock;
	for (int i = 0; i < RACE_SESSIONS; i++) {
		char sid[16];

		snprintf(sid, sizeof(sid), "S%d", i);
		assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "record", "first",
						      NULL), 0);
		assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, sid, "cdr", "second",
						      NULL), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r[0].claims + r[1].claims, 2 * RACE_SESSIONS);
	for (int i = 0; i < RACE_SESSIONS; i++) {
		int first = r[0].delivered_at[i][0] | r[1].delivered_at[i][0];
		int second = r[0].claimed_at[i][1] | r[1].claimed_at[i][1];

		/* each row by one node only */
		assert_true(!r[0].claimed_at[i][0] != !r[1].claimed_at[i][0]);
		assert_true(!r[0].claimed_at[i][1] != !r[1].claimed_at[i][1]);
		assert_true(first > 0 && second > first);
	}
	mem_deref(r[1].st);
	free(r);
}

static void test_resend_and_purge(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_filter fl = ALL;
	char id1[37], id2[37], id3[37];
	unsigned n;
	int64_t t0;
	struct rows rs;

	t0 = clock_unix_ms();
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "cdr", "a1", id1), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "B", "record", "b1", id2), 0);
	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "C", "cdr", "c1", id3), 0);
	rs = claim(f->st, clock_unix_ms());
	assert_int_equal(rs.n, 3);
	result(f->st, rs.r[0].seq, STORE_OUTBOX_DEAD, 0, "HTTP 500");
	result(f->st, rs.r[1].seq, STORE_OUTBOX_DELIVERED, 0, "");
	result(f->st, rs.r[2].seq, STORE_OUTBOX_DEAD, 0, "timeout");

	/* A selection is required. */
	assert_int_equal(store_outbox_resend(f->st, &fl, &n), EINVAL);

	/* By id: back to pending with the same id, attempts reset. */
	fl.id = id1;
	assert_int_equal(store_outbox_resend(f->st, &fl, &n), 0);
	assert_int_equal(n, 1);
	rs = list(f->st, &fl);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id1);
	assert_int_equal(rs.r[0].state, STORE_OUTBOX_PENDING);
	assert_int_equal(rs.r[0].attempts, 0);
	assert_int_equal(rs.r[0].replays, 1);
	assert_int_equal(rs.r[0].done_ms, 0);
	rs = claim(f->st, clock_unix_ms());
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id1);
	result(f->st, rs.r[0].seq, STORE_OUTBOX_DELIVERED, 0, "");

	/* By session, even a delivered row. */
	fl.id = NULL;
	fl.session_id = "B";
	assert_int_equal(store_outbox_resend(f->st, &fl, &n), 0);
	assert_int_equal(n, 1);
	rs = claim(f->st, clock_unix_ms());
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id2);
	result(f->st, rs.r[0].seq, STORE_OUTBOX_DELIVERED, 0, "");

	/* By time range and action. */
	fl.session_id = NULL;
	fl.since_ms = t0;
	fl.until_ms = clock_unix_ms() + 1;
	fl.action = "cdr";
	assert_int_equal(store_outbox_resend(f->st, &fl, &n), 0);
	assert_int_equal(n, 2);
	fl.action = "voicemail";
	assert_int_equal(store_outbox_resend(f->st, &fl, &n), 0);
	assert_int_equal(n, 0);
	fl.action = NULL;
	fl.until_ms = t0;
	assert_int_equal(store_outbox_resend(f->st, &fl, &n), 0);
	assert_int_equal(n, 0);
	fl = ALL;
	fl.state = STORE_OUTBOX_PENDING;
	rs = list(f->st, &fl);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.r[0].id, id1);
	assert_string_equal(rs.r[1].id, id3);
	assert_int_equal(rs.r[0].replays, 2);

	/* Purge takes finished rows only. */
	assert_int_equal(store_outbox_purge(f->st, clock_unix_ms() + 1, &n), 0);
	assert_int_equal(n, 1);
	rs = list(f->st, &ALL);
	assert_int_equal(rs.n, 2);
	assert_int_equal(store_outbox_purge(f->st, clock_unix_ms() + 1, &n), 0);
	assert_int_equal(n, 0);
}

static void test_state_names(void **state)
{
	enum store_outbox_state s;

	(void)state;
	assert_string_equal(store_outbox_state_name(STORE_OUTBOX_DEAD), "dead");
	assert_string_equal(store_outbox_state_name(9), "");
	assert_int_equal(store_outbox_state_parse("delivered", &s), 0);
	assert_int_equal(s, STORE_OUTBOX_DELIVERED);
	assert_int_equal(store_outbox_state_parse("gone", &s), EINVAL);
	assert_int_equal(store_outbox_state_parse(NULL, &s), EINVAL);
}

static void test_survives_reopen(void **state)
{
	struct fixture *f = *state;
	char id[37];
	struct rows rs;

	assert_int_equal(store_outbox_enqueue(f->st, SDKAPPID, "A", "cdr", "a1", id), 0);
	rs = claim(f->st, clock_unix_ms());
	assert_int_equal(rs.n, 1);
	/* A restart while the row was in flight. */
	mem_deref(f->st);
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_int_equal(store_outbox_unlease(f->st), 0);
	rs = claim(f->st, clock_unix_ms());
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conf_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_in_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_recordings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_takeover_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend_and_purge, setup, teardown),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
	};

	const char *backend = getenv("CCCD_TEST_STORE");

	on_pg = backend && !strcmp(backend, "postgresql");
	if (on_pg && !getenv("CCCD_TEST_PG_DSN")) {
		fprintf(stderr, "test_outbox: CCCD_TEST_STORE=postgresql needs CCCD_TEST_PG_DSN\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
