/* Unit tests of the store: tenancy rows, IVR versions, sessions, group commit, reopen.
 *
 * On SQLite (a file per test) by default; CCCD_TEST_STORE=postgresql runs the same tests on
 * PostgreSQL, a database per test, created through CCCD_TEST_PG_DSN (a superuser's, e.g.
 * tests/pg/pg-tmp.sh's) with the password in CCCD_TEST_PG_PASSWORD_FILE. The tests look
 * into the database through db.h, the same way on both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <re.h>
#include "base/base.h"
#include "conf/conf.h"
#include "store/store.h"
#include "store/store_int.h"

struct fixture {
	char dir[64];
	char pg_db[64];          /* PostgreSQL: the test's database */
	struct store_conf conf;
	struct store *st;
};

static bool on_pg;

/* An independent connection to the database sc names; a statement run on it. */
static struct db_conn *raw_open(const struct store_conf *sc)
{
	struct db_conn *c = NULL;

	assert_int_equal(db_open(&c, sc, false), 0);
	return c;
}

static void raw_exec(const struct store_conf *sc, const char *sql)
{
	struct db_conn *c = raw_open(sc);

	assert_int_equal(db_exec(c, sql), 0);
	mem_deref(c);
}

static int64_t raw_int(const struct store_conf *sc, const char *sql)
{
	struct db_conn *c = raw_open(sc);
	struct db_stmt *q = db_prepare(c, sql);
	int64_t v;

	assert_non_null(q);
	assert_int_equal(db_step(q), DB_ROW);
	v = db_col_int64(q, 0);
	mem_deref(q);
	mem_deref(c);
	return v;
}

/* PostgreSQL: sc on a new database named name (dropped by pg_drop). */
static void pg_create(struct store_conf *sc, const char *name)
{
	struct store_conf admin = {.backend = DB_POSTGRESQL, .busy_timeout_ms = 10000};
	const char *dsn = getenv("CCCD_TEST_PG_DSN"), *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
	char sql[128];

	assert_non_null(dsn);
	snprintf(admin.dsn, sizeof(admin.dsn), "%s", dsn);
	snprintf(admin.password_file, sizeof(admin.password_file), "%s", pw ? pw : "");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	raw_exec(&admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	raw_exec(&admin, sql);
	sc->backend = DB_POSTGRESQL;
	assert_true(strlen(dsn) + strlen(name) + 9 < sizeof(sc->dsn));
	snprintf(sc->dsn, sizeof(sc->dsn), "%s dbname=%s", dsn, name);
	snprintf(sc->password_file, sizeof(sc->password_file), "%s", pw ? pw : "");
}

static void pg_drop(const char *name)
{
	struct store_conf admin = {.backend = DB_POSTGRESQL, .busy_timeout_ms = 10000};
	const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
	char sql[128];

	snprintf(admin.dsn, sizeof(admin.dsn), "%s", getenv("CCCD_TEST_PG_DSN"));
	snprintf(admin.password_file, sizeof(admin.password_file), "%s", pw ? pw : "");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	raw_exec(&admin, sql);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static unsigned seq;

	strcpy(f->dir, "/tmp/cccd-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	if (on_pg) {
		snprintf(f->pg_db, sizeof(f->pg_db), "test_store_%d_%u", (int)getpid(), ++seq);
		pg_create(&f->conf, f->pg_db);
	}
	f->conf.batch_max = 64;
	f->conf.synchronous_full = true;
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->st);
	if (on_pg)
		pg_drop(f->pg_db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_tenancy(void **state)
{
	struct fixture *f = *state;
	struct store_credential cr = {0}, got;
	struct store_instance in = {0}, gi;
	uint64_t a1, a2;
	bool empty;

	assert_int_equal(store_is_empty(f->st, &empty), 0);
	assert_true(empty);
	assert_int_equal(store_account_create(f->st, "one", &a1), 0);
	assert_int_equal(store_account_create(f->st, "two", &a2), 0);
	assert_int_not_equal(a1, a2);
	assert_int_equal(store_is_empty(f->st, &empty), 0);
	assert_false(empty);

	strcpy(cr.secret_id, "AKIDtest");
	cr.account_id = a1;
	memcpy(cr.key_enc, "\x01\x02\x00\x03", 4);
	cr.key_enc_len = 4;
	cr.enabled = true;
	assert_int_equal(store_credential_add(f->st, &cr), 0);
	assert_int_equal(store_credential_add(f->st, &cr), EEXIST);
	assert_int_equal(store_credential_get(f->st, "AKIDtest", &got), 0);
	assert_int_equal(got.account_id, a1);
	assert_int_equal(got.key_enc_len, 4);
	assert_memory_equal(got.key_enc, "\x01\x02\x00\x03", 4);
	assert_true(got.enabled);
	assert_int_equal(store_credential_get(f->st, "AKIDnone", &got), ENOENT);

	in.sdkappid = 1400000000;
	in.account_id = a1;
	strcpy(in.name, "demo");
	in.edition = STORE_EDITION_ADVANCED;
	assert_int_equal(store_instance_put(f->st, &in), 0);
	in.package_expires_at = 42;
	assert_int_equal(store_instance_put(f->st, &in), 0);
	assert_int_equal(store_instance_get(f->st, 1400000000, &gi), 0);
	assert_int_equal(gi.account_id, a1);
	assert_int_equal(gi.package_expires_at, 42);
	assert_int_equal(gi.edition, STORE_EDITION_ADVANCED);
	/* Another account cannot take the instance over. */
	in.account_id = a2;
	assert_int_equal(store_instance_put(f->st, &in), EEXIST);
	assert_int_equal(store_instance_get(f->st, 1400000000, &gi), 0);
	assert_int_equal(gi.account_id, a1);
	assert_int_equal(store_instance_get(f->st, 1, &gi), ENOENT);
}

static int count_rows(const struct store_conf *sc, const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return (int)raw_int(sc, sql);
}

/* A tenant is made whole or not at all. */
static void test_tenant_create_atomic(void **state)
{
	struct fixture *f = *state;
	const char *numbers[] = {"008601000000001"};
	struct store_tenant_ivr ivr = {.ivr_id = 4500, .name = "d",
				       .type = STORE_IVR_AUTO_OUTBOUND, .document = "{}"};
	struct store_tenant_new tn = {.account_name = "a", .ivrs = &ivr, .n_ivrs = 1,
				      .numbers = numbers, .n_numbers = 1};
	struct store_instance gi;

	strcpy(tn.credential.secret_id, "AKIDone");
	tn.credential.key_enc_len = 1;
	tn.credential.enabled = true;
	tn.instance.sdkappid = 11;
	tn.instance.edition = STORE_EDITION_ADVANCED;
	assert_int_equal(store_tenant_create(f->st, &tn), 0);
	assert_int_not_equal(tn.account_id, 0);
	assert_int_equal(store_instance_get(f->st, 11, &gi), 0);
	assert_int_equal(gi.account_id, tn.account_id);
	/* A create's one read: the instance, its rules' text and the IVR asked for. */
	{
		struct store_ivr gv;
		char *rules = NULL;

		assert_int_equal(store_instance_rules_put(f->st, 11, "{\"caller_concurrency\": 2}"),
				 0);
		assert_int_equal(store_instance_get_rules(f->st, 11, 4500, &gi, &rules, &gv), 0);
		assert_int_equal(gi.account_id, tn.account_id);
		assert_string_equal(rules, "{\"caller_concurrency\": 2}");
		assert_int_equal(gv.ivr_id, 4500);
		assert_int_equal(gv.type, STORE_IVR_AUTO_OUTBOUND);
		assert_int_equal(gv.version, 1);
		rules = mem_deref(rules);
		assert_int_equal(store_instance_get_rules(f->st, 11, 4501, &gi, &rules, &gv), 0);
		assert_int_equal(gv.ivr_id, 0);
		assert_int_equal(gi.sdkappid, 11);
		rules = mem_deref(rules);
		assert_int_equal(store_instance_get_rules(f->st, 13, 4500, &gi, &rules, &gv),
				 ENOENT);
		assert_null(rules);
	}

	/* Same instance again: refused, and no second account or credential is left. */
	strcpy(tn.credential.secret_id, "AKIDtwo");
	assert_int_equal(store_tenant_create(f->st, &tn), EEXIST);
	assert_int_equal(count_rows(&f->conf, "accounts"), 1);
	assert_int_equal(count_rows(&f->conf, "credentials"), 1);
	/* A bad IVR type also rolls everything back. */
	tn.instance.sdkappid = 12;
	ivr.type = 7;
	assert_int_equal(store_tenant_create(f->st, &tn), EINVAL);
	assert_int_equal(count_rows(&f->conf, "accounts"), 1);
	assert_int_equal(store_instance_get(f->st, 12, &gi), ENOENT);
}

static int collect_number(const struct store_number *n, void *arg)
{
	char *out = arg;

	strcat(out, n->number);
	strcat(out, ";");
	return 0;
}

/* Appends "X" to the rules text, or fails as asked. */
static int edit_append(const char *old, char **newp, void *arg)
{
	int *mode = arg;

	if (*mode == 1)
		return EPERM;
	if (*mode == 2)
		return 0;   /* no change */
	return re_sdprintf(newp, "%sX", old);
}

struct edit_arg {
	struct store *st;
	int failures;
};

static void *edit_thread(void *arg)
{
	struct edit_arg *a = arg;
	int mode = 0;

	for (int i = 0; i < 10; i++)
		a->failures += store_instance_rules_edit(a->st, 61, edit_append, &mode) != 0;
	return NULL;
}

/* Licence fields change one at a time; rule edits are read-modify-writes that never lose
 * each other, even from 8 threads at once. */
static void test_licence_and_rules_edit(void **state)
{
	struct fixture *f = *state;
	struct store_instance in = {.sdkappid = 61, .edition = STORE_EDITION_ADVANCED,
				    .package_expires_at = 99, .ai_channels = 2};
	struct store_licence l = {.sdkappid = 61, .set_ai_channels = true, .ai_channels = 5};
	struct edit_arg ea[8];
	pthread_t t[8];
	char *text = NULL;
	int mode = 0;

	assert_int_equal(store_account_create(f->st, "x", &in.account_id), 0);
	assert_int_equal(store_instance_put(f->st, &in), 0);
	assert_int_equal(store_instance_licence(f->st, &l), 0);
	l = (struct store_licence){.sdkappid = 61, .set_edition = true,
				   .edition = STORE_EDITION_STANDARD};
	assert_int_equal(store_instance_licence(f->st, &l), 0);
	assert_int_equal(store_instance_get(f->st, 61, &in), 0);
	assert_int_equal(in.ai_channels, 5);
	assert_int_equal(in.edition, STORE_EDITION_STANDARD);
	assert_int_equal(in.package_expires_at, 99);
	assert_false(in.record_calls);
	/* The recording switch alone (ccc admin instance-set --record). */
	l = (struct store_licence){.sdkappid = 61, .set_record_calls = true, .record_calls = true};
	assert_int_equal(store_instance_licence(f->st, &l), 0);
	assert_int_equal(store_instance_get(f->st, 61, &in), 0);
	assert_true(in.record_calls);
	assert_int_equal(in.ai_channels, 5);
	assert_int_equal(in.edition, STORE_EDITION_STANDARD);
	assert_int_equal(in.package_expires_at, 99);
	l = (struct store_licence){.sdkappid = 61, .set_package_expires_at = true,
				   .package_expires_at = 7};
	assert_int_equal(store_instance_licence(f->st, &l), 0);
	assert_int_equal(store_instance_get(f->st, 61, &in), 0);
	assert_true(in.record_calls);
	assert_int_equal(in.package_expires_at, 7);
	l.sdkappid = 62;
	assert_int_equal(store_instance_licence(f->st, &l), ENOENT);

	assert_int_equal(store_instance_rules_edit(f->st, 61, edit_append, &mode), 0);
	mode = 1;
	assert_int_equal(store_instance_rules_edit(f->st, 61, edit_append, &mode), EPERM);
	mode = 2;
	assert_int_equal(store_instance_rules_edit(f->st, 61, edit_append, &mode), 0);
	assert_int_equal(store_instance_rules_edit(f->st, 62, edit_append, &mode), ENOENT);
	assert_int_equal(store_instance_rules_get(f->st, 61, &text), 0);
	assert_string_equal(text, "X");
	text = mem_deref(text);
	for (int i = 0; i < 8; i++) {
		ea[i] = (struct edit_arg){f->st, 0};
		assert_int_equal(pthread_create(&t[i], NULL, edit_thread, &ea[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ea[i].failures, 0);
	}
	assert_int_equal(store_instance_rules_get(f->st, 61, &text), 0);
	assert_int_equal(strlen(text), 1 + 80);
	mem_deref(text);
}

static void test_numbers_and_ivrs(void **state)
{
	struct fixture *f = *state;
	struct store_instance in = {.sdkappid = 7, .edition = STORE_EDITION_ADVANCED};
	struct store_number n = {.sdkappid = 7, .state = 1, .outbound = true}, gn;
	struct store_ivr iv;
	char list[256] = "";
	uint32_t ver;
	char *doc;

	assert_int_equal(store_account_create(f->st, "x", &in.account_id), 0);
	assert_int_equal(store_instance_put(f->st, &in), 0);
	strcpy(n.number, "008601000000001");
	assert_int_equal(store_number_put(f->st, &n), 0);
	strcpy(n.number, "008601000000002");
	n.state = 4;
	assert_int_equal(store_number_put(f->st, &n), 0);
	assert_int_equal(store_number_get(f->st, 7, "008601000000002", &gn), 0);
	assert_int_equal(gn.state, 4);
	assert_int_equal(store_number_get(f->st, 8, "008601000000002", &gn), ENOENT);
	assert_int_equal(store_numbers_outbound(f->st, 7, collect_number, list), 0);
	assert_string_equal(list, "008601000000001;");
	list[0] = '\0';
	assert_int_equal(store_numbers_list(f->st, 7, collect_number, list), 0);
	assert_non_null(strstr(list, "008601000000001;"));

	assert_int_equal(store_ivr_put(f->st, 7, 4500, "demo", STORE_IVR_AUTO_OUTBOUND,
				       "{\"v\":1}", &ver), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(store_ivr_put(f->st, 7, 4500, "demo", STORE_IVR_AUTO_OUTBOUND,
				       "{\"v\":2}", &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(store_ivr_get(f->st, 7, 4500, &iv), 0);
	assert_int_equal(iv.version, 2);
	assert_int_equal(iv.type, STORE_IVR_AUTO_OUTBOUND);
	assert_int_equal(store_ivr_document(f->st, 7, 4500, 1, &doc), 0);
	assert_string_equal(doc, "{\"v\":1}");
	mem_deref(doc);
	assert_int_equal(store_ivr_document(f->st, 7, 4500, 3, &doc), ENOENT);
	assert_int_equal(store_ivr_get(f->st, 8, 4500, &iv), ENOENT);
	assert_int_equal(store_ivr_put(f->st, 7, 1, "bad", 9, "{}", &ver), EINVAL);
}

static struct store_session *new_session(uint64_t sdkappid)
{
	struct store_session *s;

	assert_int_equal(store_session_alloc(&s, "uui data", "[{\"Key\":\"a\",\"Value\":\"b\"}]"), 0);
	assert_int_equal(ids_session(s->id), 0);
	s->sdkappid = sdkappid;
	s->account_id = 1;
	s->direction = 1;
	strcpy(s->caller, "008601000000001");
	strcpy(s->callee, "008613000000000");
	s->ivr_id = 4500;
	s->ivr_version = 2;
	s->max_ring_s = 30;
	assert_int_equal(ids_uuid(s->request_id), 0);
	s->status = STORE_STATUS_RINGING;
	s->created_ms = clock_unix_ms();
	s->start_ts = s->created_ms / 1000;
	return s;
}

static void test_session_create_get(void **state)
{
	struct fixture *f = *state;
	struct store_session *s = new_session(7), *g;

	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_create(f->st, s), EEXIST);
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_string_equal(g->id, s->id);
	assert_string_equal(g->uui, "uui data");
	assert_string_equal(g->variables, s->variables);
	assert_string_equal(g->caller, s->caller);
	assert_string_equal(g->request_id, s->request_id);
	assert_int_equal(g->max_ring_s, 30);
	assert_int_equal(g->status, STORE_STATUS_RINGING);
	assert_int_equal(g->start_ts, s->start_ts);
	assert_string_equal(store_status_name(g->status), "ringing");
	mem_deref(g);
	/* Another instance does not see it. */
	assert_int_equal(store_session_get(f->st, 8, s->id, &g), ENOENT);
	mem_deref(s);
}

static int collect_key(const struct store_key_press *kp, void *arg)
{
	char *out = arg;

	strcat(out, kp->key);
	strcat(out, "/");
	strcat(out, kp->post ? "post" : kp->label);
	strcat(out, ";");
	return 0;
}

/* Queued lifecycle writes land in order and show in the row. */
static void test_session_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct store_session *s = new_session(7), *g;
	struct store_key_press kp = {.key = "1", .label = "confirm", .ts_ms = 5,
				     .node_label = "menu", .tts_prompt = "Press 1"};
	struct store_session_end end = {.ended_ts = 300, .end_status = 1, .hungup_side = "user",
					.end_reason = "callee hung up"};
	char keys[128] = "";

	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_ringing(f->st, s->id, 100), 0);
	assert_int_equal(store_session_ringing(f->st, s->id, 150), 0); /* first one wins */
	assert_int_equal(store_session_answered(f->st, s->id, 200), 0);
	assert_int_equal(store_session_key(f->st, s->id, 0, &kp), 0);
	strcpy(kp.key, "1234");
	strcpy(kp.label, "");
	assert_int_equal(store_session_key(f->st, s->id, 1, &kp), 0);
	assert_int_equal(store_session_path(f->st, s->id, 0, "n1", "menu", "key 1", 6), 0);
	assert_int_equal(store_sync(f->st), 0);

	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_int_equal(g->status, STORE_STATUS_IN_PROGRESS);
	assert_int_equal(g->ring_ts, 100);
	assert_int_equal(g->accept_ts, 200);
	mem_deref(g);

	assert_int_equal(store_session_finish(f->st, s->id, 7, &end, NULL, NULL), 0);
	end.end_status = 0; /* a second finish does not rewrite the record */
	assert_int_equal(store_session_finish(f->st, s->id, 7, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_int_equal(g->status, STORE_STATUS_FINISHED);
	assert_int_equal(g->ended_ts, 300);
	assert_int_equal(g->end_status, 1);
	assert_string_equal(g->hungup_side, "user");
	assert_string_equal(g->end_reason, "callee hung up");
	mem_deref(g);

	assert_int_equal(store_session_keys(f->st, s->id, collect_key, keys), 0);
	assert_string_equal(keys, "1/confirm;1234/;");
	assert_int_equal(store_session_ringing(f->st, "short", 1), EINVAL);
	mem_deref(s);
}

/* What SQLite's json_insert(urls, '$[#]', file) made of the files, for comparison. */
static void json_insert_sqlite(char *out, size_t sz, const char *const *files, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *q;

	snprintf(out, sz, "[]");
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_insert(?, '$[#]', ?)", -1, &q,
						    NULL), SQLITE_OK);
		sqlite3_bind_text(q, 1, out, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, files[i], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		snprintf(out, sz, "%s", (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
}

/* The writes that were SQLite-only SQL before the common dialect: a key press written again
 * at its sequence number replaces it (was INSERT OR REPLACE), voicemail files append to the
 * JSON array exactly as json_insert did, a path step is replaced too. */
static void test_session_rewrites(void **state)
{
	struct fixture *f = *state;
	static const char *const files[] = {"var/vm/a.wav", "b \"quoted\" \\ dir\t\n\x01.wav", "c.wav"};
	struct store_session *s = new_session(7), *g;
	struct store_key_press kp = {.key = "1", .label = "first", .ts_ms = 5};
	char keys[128] = "", want[512];

	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_key(f->st, s->id, 0, &kp), 0);
	strcpy(kp.key, "2");
	strcpy(kp.label, "again");
	assert_int_equal(store_session_key(f->st, s->id, 0, &kp), 0);
	assert_int_equal(store_session_path(f->st, s->id, 0, "n1", "menu", "key 1", 6), 0);
	assert_int_equal(store_session_path(f->st, s->id, 0, "n2", "menu", "key 2", 7), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(store_session_voicemail(f->st, s->id, 7, files[i], NULL), 0);
	assert_int_equal(store_sync(f->st), 0);

	assert_int_equal(store_session_keys(f->st, s->id, collect_key, keys), 0);
	assert_string_equal(keys, "2/again;");
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	json_insert_sqlite(want, sizeof(want), files, 3);
	assert_string_equal(g->voicemail_urls, want);
	mem_deref(g);
	mem_deref(s);
}

/* [store] backend, dsn and password_file: each mistake is a config error that says what
 * to do, and a password never gets into the configuration. */
static int conf_try(const char *text, struct store_conf *sc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	if (!rc)
		rc = store_conf_read(cf, sc, err);
	mem_deref(cf);
	return rc;
}

static void test_conf_backend(void **state)
{
	struct store_conf sc;
	struct conf_err err;

	(void)state;
	assert_int_equal(conf_try("[store]\npath = x.db\n", &sc, &err), 0);
	assert_int_equal(sc.backend, DB_SQLITE);
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n"
				  "dsn = host=127.0.0.1 dbname=cccd user=cccd\n"
				  "password_file = /etc/cccd/pg.pass\n", &sc, &err), 0);
	assert_int_equal(sc.backend, DB_POSTGRESQL);
	assert_string_equal(sc.dsn, "host=127.0.0.1 dbname=cccd user=cccd");
	assert_string_equal(sc.password_file, "/etc/cccd/pg.pass");
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n"
				  "dsn = postgresql://cccd@db.example/cccd\n", &sc, &err), 0);

	assert_int_equal(conf_try("[store]\nbackend = mysql\n", &sc, &err), EINVAL);
	assert_non_null(strstr(err.msg, "mysql"));
	assert_non_null(strstr(err.msg, "postgresql"));
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n", &sc, &err), EINVAL);
	assert_non_null(strstr(err.msg, "dsn"));
	assert_int_equal(err.line, 2);
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n"
				  "dsn = host=db user=cccd password=secret\n", &sc, &err), EINVAL);
	assert_non_null(strstr(err.msg, "password_file"));
	assert_null(strstr(err.msg, "secret"));
	assert_int_equal(err.line, 3);
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n"
				  "dsn = host=db PASSWORD = secret\n", &sc, &err), EINVAL);
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n"
				  "dsn = postgresql://cccd:secret@db/cccd\n", &sc, &err), EINVAL);
	assert_int_equal(conf_try("[store]\nbackend = postgresql\n"
				  "dsn = postgres://db/cccd?password=secret\n", &sc, &err), EINVAL);
	/* A dsn without backend = postgresql would silently run on SQLite. */
	assert_int_equal(conf_try("[store]\ndsn = host=db\n", &sc, &err), EINVAL);
	assert_non_null(strstr(err.msg, "backend = postgresql"));
}

/* A transfer: the live status and the external leg's numbers, the legs in the final
 * record, and survey inputs told apart from the IVR's. */
static void test_session_transfer(void **state)
{
	struct fixture *f = *state;
	struct store_session *s = new_session(7), *g;
	struct store_key_press kp = {.key = "1", .ts_ms = 5};
	struct store_session_end end = {.ended_ts = 300, .end_status = 1, .hungup_side = "seat",
					.participants = "[{\"Phone\":\"7001\"}]"};
	char keys[128] = "";

	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_answered(f->st, s->id, 200), 0);
	assert_int_equal(store_session_transfer(f->st, s->id, STORE_STATUS_SEAT_JOINING, NULL,
						NULL), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_int_equal(g->status, STORE_STATUS_SEAT_JOINING);
	assert_string_equal(g->participants, "[]");
	assert_string_equal(g->outbound_callee, "");
	mem_deref(g);

	assert_int_equal(store_session_transfer(f->st, s->id, STORE_STATUS_IN_PROGRESS,
						"008601000000001", "7001"), 0);
	assert_int_equal(store_session_key(f->st, s->id, 0, &kp), 0);
	kp.post = true;
	strcpy(kp.key, "5");
	assert_int_equal(store_session_key(f->st, s->id, 1, &kp), 0);
	assert_int_equal(store_session_finish(f->st, s->id, 7, &end, NULL, NULL), 0);
	/* a finished session's status is not touched by a late transfer write */
	assert_int_equal(store_session_transfer(f->st, s->id, STORE_STATUS_IN_PROGRESS, NULL,
						NULL), 0);
	assert_int_equal(store_session_transfer(f->st, s->id, STORE_STATUS_FINISHED, NULL,
						NULL), EINVAL);
	assert_int_equal(store_sync(f->st), 0);
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_int_equal(g->status, STORE_STATUS_FINISHED);
	assert_string_equal(g->outbound_caller, "008601000000001");
	assert_string_equal(g->outbound_callee, "7001");
	assert_string_equal(g->participants, "[{\"Phone\":\"7001\"}]");
	assert_string_equal(g->hungup_side, "seat");
	mem_deref(g);
	assert_int_equal(store_session_keys(f->st, s->id, collect_key, keys), 0);
	assert_string_equal(keys, "1/;5/post;");
	mem_deref(s);
}

/* A cap of 5 per callee and 1 live call per caller, decided inside the transaction. */
static int decide_cap(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	(void)arg;
	if (c->callee_daily >= 5)
		return STORE_ADMIT_REFUSED + 1;
	for (size_t i = 0; i < c->n_callers; i++) {
		if (c->callers[i].live < 100) {
			*chosen = i;
			return 0;
		}
	}
	return STORE_ADMIT_REFUSED + 2;
}

struct admit_arg {
	struct store *st;
	int admitted, refused, errors;
};

static void *admit_thread(void *arg)
{
	struct admit_arg *a = arg;
	struct store_admit_query q = {.callee_interval_since = 0, .callee_daily_since = 0,
				      .callers = {"008601000000009"}, .n_callers = 1};

	for (int i = 0; i < 3; i++) {
		struct store_session *s = new_session(21);
		int rc = store_session_admit(a->st, s, &q, decide_cap, NULL);

		if (rc == 0)
			a->admitted++;
		else if (rc == STORE_ADMIT_REFUSED + 1)
			a->refused++;
		else
			a->errors++;
		mem_deref(s);
	}
	return NULL;
}

/* 20 threads race for one callee: exactly the cap gets through. */
static void test_admit_concurrent_cap(void **state)
{
	struct fixture *f = *state;
	enum { THREADS = 20 };
	struct admit_arg a[THREADS];
	pthread_t t[THREADS];
	int admitted = 0, refused = 0;
	struct store_session *s = new_session(21), *g;
	struct store_admit_query q = {.callers = {"008601000000001", "008601000000002"},
				      .n_callers = 2};

	for (int i = 0; i < THREADS; i++) {
		a[i] = (struct admit_arg){f->st, 0, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, admit_thread, &a[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].errors, 0);
		admitted += a[i].admitted;
		refused += a[i].refused;
	}
	assert_int_equal(admitted, 5);
	assert_int_equal(refused, THREADS * 3 - 5);

	/* The chosen caller is written into the session. */
	strcpy(s->callee, "008613900000000");
	assert_int_equal(store_session_admit(f->st, s, &q, decide_cap, NULL), 0);
	assert_int_equal(store_session_get(f->st, 21, s->id, &g), 0);
	assert_string_equal(g->caller, "008601000000001");
	mem_deref(g);
	mem_deref(s);
}

/* A cap of 3 live sessions per caller number. */
static int decide_live3(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	(void)arg;
	if (c->callers[0].live >= 3)
		return STORE_ADMIT_REFUSED + 3;
	*chosen = 0;
	return 0;
}

struct node_arg {
	struct store *st;
	unsigned rate_limit;
	int64_t rate_since_ms;  /* one window for the whole race, however long it takes */
	int admitted, refused, limited, errors;
};

static void *node_thread(void *arg)
{
	struct node_arg *a = arg;
	struct store_admit_query q = {.callers = {"008601000000077"}, .n_callers = 1,
				      .skip = STORE_ADMIT_SKIP_CALLEE_INTERVAL |
					      STORE_ADMIT_SKIP_CALLEE_DAILY |
					      STORE_ADMIT_SKIP_CALLER_RECENT,
				      .rate_limit = a->rate_limit};

	for (int i = 0; i < 5; i++) {
		struct store_session *s = new_session(31);
		int rc;

		/* Every request to another callee: only the caller's count and the rate
		 * are shared between them. */
		snprintf(s->callee, sizeof(s->callee), "0086130%08d", (int)(random() % 100000000));
		q.rate_since_ms = a->rate_since_ms;
		rc = store_session_admit(a->st, s, &q, decide_live3, NULL);
		if (rc == 0)
			a->admitted++;
		else if (rc == STORE_ADMIT_REFUSED + 3)
			a->refused++;
		else if (rc == STORE_ADMIT_RATE_LIMITED)
			a->limited++;
		else
			a->errors++;
		mem_deref(s);
	}
	return NULL;
}

/* Three stores on one database, each with its own writer and its own group commit (three
 * nodes): 8 threads each race for one caller number's 3 live calls, then for an
 * account's 20 sessions a second. On PostgreSQL only the counter locks make these exact
 * (counting then inserting is not atomic under READ COMMITTED); on SQLite the file's
 * write lock does, and the rate is left to the API's limiter (one node). */
static void race_nodes(struct fixture *f, unsigned rate_limit, int *admittedp,
		       int *limitedp)
{
	enum { NODES = 3, THREADS = 8 };
	struct store *st[NODES] = {f->st};
	struct node_arg a[NODES * THREADS];
	pthread_t t[NODES * THREADS];

	*admittedp = *limitedp = 0;
	for (int n = 1; n < NODES; n++)
		assert_int_equal(store_open(&st[n], &f->conf), 0);
	for (int i = 0; i < NODES * THREADS; i++) {
		a[i] = (struct node_arg){st[i % NODES], rate_limit, clock_unix_ms() - 1000,
					 0, 0, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, node_thread, &a[i]), 0);
	}
	for (int i = 0; i < NODES * THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].errors, 0);
		*admittedp += a[i].admitted;
		*limitedp += a[i].limited;
	}
	for (int n = 1; n < NODES; n++)
		mem_deref(st[n]);
}

static void test_admit_exact_across_nodes(void **state)
{
	struct fixture *f = *state;
	int admitted, limited;

	race_nodes(f, 0, &admitted, &limited);
	assert_int_equal(admitted, 3);
	assert_int_equal(limited, 0);
	if (!on_pg)
		return;
	/* The rate: the caller's sessions end, its cap is no longer what refuses. */
	raw_exec(&f->conf, "UPDATE sessions SET status = 3, created_ms = 0");
	race_nodes(f, 2, &admitted, &limited);
	assert_int_equal(admitted, 2);
	assert_true(limited > 0);
}

/* db_lock_keys: a key one connection holds makes another wait (PostgreSQL), until the
 * holder's commit; a savepoint rolled back releases it; SQLite has nothing to lock. */
static int lock1(struct db_conn *c, int64_t key, bool wait)
{
	return db_lock_keys(c, &key, 1, wait);
}

struct lock_waiter {
	struct db_conn *c;
	int err;
	uint64_t waited_us;
};

static void *lock_wait_thread(void *arg)
{
	struct lock_waiter *w = arg;
	uint64_t t0 = clock_mono_us();

	w->err = lock1(w->c, 42, true);
	w->waited_us = clock_mono_us() - t0;
	return NULL;
}

static void test_db_lock_key(void **state)
{
	struct fixture *f = *state;
	struct db_conn *a = raw_open(&f->conf), *b = raw_open(&f->conf);
	struct lock_waiter w = {b, -1, 0};
	pthread_t t;

	assert_int_equal(db_exec(a, "BEGIN"), 0);
	assert_int_equal(lock1(a, 42, true), 0);
	assert_int_equal(lock1(a, 42, false), 0); /* again, in the same transaction */
	assert_int_equal(db_exec(b, "BEGIN"), 0);
	assert_int_equal(lock1(b, 42, false), on_pg ? EAGAIN : 0);
	assert_int_equal(lock1(b, 43, false), 0);
	{
		const int64_t two[2] = {41, 42}; /* one of them held: the pair is refused */

		assert_int_equal(db_lock_keys(b, two, 2, false), on_pg ? EAGAIN : 0);
	}
	assert_int_equal(pthread_create(&t, NULL, lock_wait_thread, &w), 0);
	usleep(300000);
	assert_int_equal(db_exec(a, "COMMIT"), 0);
	pthread_join(t, NULL);
	assert_int_equal(w.err, 0);
	if (on_pg)
		assert_true(w.waited_us >= 250000);
	assert_int_equal(db_exec(b, "COMMIT"), 0);

	/* Released by a rollback to the savepoint taken before it. */
	assert_int_equal(db_exec(a, "BEGIN"), 0);
	assert_int_equal(db_exec(a, "SAVEPOINT job"), 0);
	assert_int_equal(lock1(a, 44, true), 0);
	assert_int_equal(db_exec(b, "BEGIN"), 0);
	assert_int_equal(lock1(b, 44, false), on_pg ? EAGAIN : 0);
	assert_int_equal(db_exec(a, "ROLLBACK TO job"), 0);
	assert_int_equal(lock1(b, 44, false), 0);
	assert_int_equal(db_exec(b, "COMMIT"), 0);
	assert_int_equal(db_exec(a, "COMMIT"), 0);
	mem_deref(a);
	mem_deref(b);
}

/* db_send: statements sent inside a transaction each get their own rows at their
 * db_step, and on PostgreSQL all of them and the statement read first cost one round
 * trip; one that fails gets its error, and those behind it too (the transaction is
 * aborted), while the savepoint before them rolls back and the transaction goes on. */
static void send_pair(struct db_conn *c, int64_t x, int64_t *a, int64_t *b)
{
	struct db_stmt *s1 = db_stmt(c, "SELECT CAST(? AS BIGINT) + 1");
	struct db_stmt *s2 = db_stmt(c, "SELECT CAST(? AS BIGINT) * 3");

	db_bind_int64(s1, 1, x);
	db_bind_int64(s2, 1, x);
	assert_int_equal(db_send(s1), 0);
	assert_int_equal(db_send(s2), 0);
	assert_int_equal(db_step(s1), DB_ROW);
	*a = db_col_int64(s1, 0);
	db_reset(s1);
	assert_int_equal(db_step(s2), DB_ROW);
	*b = db_col_int64(s2, 0);
	assert_int_equal(db_step(s2), DB_DONE);
}

static void test_db_send(void **state)
{
	struct fixture *f = *state;
	struct db_conn *c = raw_open(&f->conf);
	struct db_stmt *ins, *after;
	int64_t a, b;
	uint64_t rt;

	assert_int_equal(db_exec(c, "BEGIN"), 0);
	send_pair(c, 4, &a, &b); /* prepares them */
	assert_int_equal(a, 5);
	assert_int_equal(b, 12);
	rt = db_round_trips(c);
	send_pair(c, 10, &a, &b);
	assert_int_equal(a, 11);
	assert_int_equal(b, 30);
	assert_int_equal(db_round_trips(c) - rt, on_pg ? 1 : 0);

	/* A duplicate key: its error, and the statement behind it aborted. */
	assert_int_equal(db_exec(c, "INSERT INTO accounts (id, name, created_at) "
				 "VALUES (990001, 'dup', 0)"), 0);
	assert_int_equal(db_exec(c, "SAVEPOINT job"), 0);
	ins = db_stmt(c, "INSERT INTO accounts (id, name, created_at) VALUES (990001, 'x', 0)");
	after = db_stmt(c, "SELECT count(*) FROM accounts WHERE name = ?");
	db_bind_text(after, 1, "dup", -1);
	assert_int_equal(db_send(ins), 0);
	assert_int_equal(db_send(after), 0);
	assert_int_equal(db_step(ins), EEXIST);
	if (on_pg)
		assert_int_equal(db_step(after), EEXIST);
	else
		assert_int_equal(db_step(after), DB_ROW);
	db_reset(after);
	assert_int_equal(db_exec(c, "ROLLBACK TO job"), 0);
	send_pair(c, 1, &a, &b);
	assert_int_equal(a, 2);
	assert_int_equal(db_exec(c, "ROLLBACK"), 0);

	/* Outside a transaction a sent statement simply runs at its db_step. */
	send_pair(c, 2, &a, &b);
	assert_int_equal(b, 6);
	mem_deref(c);
}

static int command_collect(const struct store_command *cmd, void *arg)
{
	struct store_command *out = arg;

	*out = *cmd;
	return 0;
}

/* Commands for the node holding a call: written by one node, heard of (NOTIFY) and read
 * by the others, never by the writer, and no longer open once done. SQLite: one node,
 * nothing written, no listener. */
static void test_commands(void **state)
{
	struct fixture *f = *state;
	struct store_conf c2 = f->conf;
	struct store *n2;
	struct store_listener *l = NULL;
	struct store_command got = {0};
	int64_t id;
	const char *sid = "0123456789abcdef0123456789abcdef";

	strcpy(f->conf.node_id, "n1");
	strcpy(c2.node_id, "n2");
	mem_deref(f->st);
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_int_equal(store_open(&n2, &c2), 0);
	if (!on_pg) {
		assert_int_equal(store_command_add(f->st, 7, sid, "hangup"), 0);
		assert_int_equal(store_commands_open(n2, 0, command_collect, &got), 0);
		assert_int_equal(got.id, 0);
		assert_int_equal(store_listener_open(n2, &l), ENOTSUP);
		mem_deref(n2);
		return;
	}
	assert_int_equal(store_listener_open(n2, &l), 0);
	assert_int_equal(store_listener_wait(l, 100), ETIMEDOUT);
	assert_int_equal(store_command_add(f->st, 7, sid, "hangup"), 0);
	assert_int_equal(store_listener_wait(l, 2000), 0);
	assert_int_equal(store_commands_open(n2, 0, command_collect, &got), 0);
	assert_true(got.id > 0);
	assert_int_equal(got.sdkappid, 7);
	assert_string_equal(got.session_id, sid);
	assert_string_equal(got.kind, "hangup");
	id = got.id;
	/* not for the node that wrote it; not again past the last id seen */
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_commands_open(f->st, 0, command_collect, &got), 0);
	assert_int_equal(got.id, 0);
	assert_int_equal(store_commands_open(n2, id, command_collect, &got), 0);
	assert_int_equal(got.id, 0);
	/* done: no longer open */
	assert_int_equal(store_command_done(n2, id), 0);
	assert_int_equal(store_sync(n2), 0);
	assert_int_equal(store_commands_open(n2, 0, command_collect, &got), 0);
	assert_int_equal(got.id, 0);
	assert_int_equal(raw_int(&f->conf, "SELECT count(*) FROM commands WHERE "
				 "claimed_by = 'n2' AND done_ms > 0"), 1);
	mem_deref(l);
	mem_deref(n2);
}

static int collect_id(struct store_session *s, void *arg)
{
	char *out = arg;

	strncat(out, s->callee + 13, 2);
	strcat(out, ";");
	return 0;
}

/* CDR listing: time range, paging, session id and phone filters; active list. */
static void test_cdr_and_active_lists(void **state)
{
	struct fixture *f = *state;
	struct store_session_end end = {.end_status = 1, .hungup_side = "user"};
	char ids[6][33], got[128];
	const char *one_id[1], *phones[1];
	struct store_cdr_query q = {.sdkappid = 31, .since = 100, .until = 200, .limit = 10};
	uint64_t total;

	for (int i = 0; i < 6; i++) {
		struct store_session *s = new_session(31);

		snprintf(s->callee, sizeof(s->callee), "00861390000%04d", i);
		assert_int_equal(store_session_create(f->st, s), 0);
		strcpy(ids[i], s->id);
		end.ended_ts = 100 + i * 20; /* 100, 120, ... 200 */
		if (i < 5)
			assert_int_equal(store_session_finish(f->st, s->id, 31, &end, NULL, NULL), 0);
		mem_deref(s);
	}
	assert_int_equal(store_sync(f->st), 0);

	got[0] = '\0';
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_int_equal(total, 5);
	assert_string_equal(got, "04;03;02;01;00;");

	q.since = 120;
	q.until = 160;
	got[0] = '\0';
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_int_equal(total, 3);
	assert_string_equal(got, "03;02;01;");

	q.limit = 1;
	q.offset = 1;
	got[0] = '\0';
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_int_equal(total, 3);
	assert_string_equal(got, "02;");

	q.offset = 0;
	q.limit = 10;
	q.since = 0;
	q.until = 1000;
	one_id[0] = ids[1];
	q.session_ids = one_id;
	q.n_session_ids = 1;
	got[0] = '\0';
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_string_equal(got, "01;");

	q.n_session_ids = 0;
	phones[0] = "008613900000003";
	q.phones = phones;
	q.n_phones = 1;
	got[0] = '\0';
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_string_equal(got, "03;");
	phones[0] = "008601000000001"; /* the caller of all of them */
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_int_equal(total, 5);

	/* Another instance sees nothing; the unfinished one is active. */
	q.sdkappid = 32;
	assert_int_equal(store_cdr_list(f->st, &q, collect_id, got, &total), 0);
	assert_int_equal(total, 0);
	got[0] = '\0';
	assert_int_equal(store_sessions_active(f->st, 31, 0, 25, collect_id, got, &total), 0);
	assert_int_equal(total, 1);
	assert_string_equal(got, "05;");
}

static int decide_first(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	(void)c;
	(void)arg;
	*chosen = 0;
	return 0;
}

/* The pool lists the least recently used number first. */
static void test_pool_rotates(void **state)
{
	struct fixture *f = *state;
	struct store_instance in = {.sdkappid = 41, .edition = STORE_EDITION_ADVANCED};
	struct store_number n = {.sdkappid = 41, .state = 1, .outbound = true};
	struct store_session *s = new_session(41);
	struct store_admit_query q = {.callers = {"008601000000001"}, .n_callers = 1};
	char list[128] = "";

	assert_int_equal(store_account_create(f->st, "x", &in.account_id), 0);
	assert_int_equal(store_instance_put(f->st, &in), 0);
	strcpy(n.number, "008601000000001");
	assert_int_equal(store_number_put(f->st, &n), 0);
	strcpy(n.number, "008601000000002");
	assert_int_equal(store_number_put(f->st, &n), 0);
	assert_int_equal(store_numbers_outbound(f->st, 41, collect_number, list), 0);
	assert_string_equal(list, "008601000000001;008601000000002;");
	assert_int_equal(store_session_admit(f->st, s, &q, decide_first, NULL), 0);
	list[0] = '\0';
	assert_int_equal(store_numbers_outbound(f->st, 41, collect_number, list), 0);
	assert_string_equal(list, "008601000000002;008601000000001;");
	mem_deref(s);
}

static int decide_keep(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	*(struct store_admit_counts *)arg = *c;
	*chosen = 0;
	return 0;
}

/* Each count over its rows (a finished call is not live), and skipped counts read 0. */
static void test_admit_counts_and_skip(void **state)
{
	struct fixture *f = *state;
	struct store_session_end end = {.ended_ts = 1, .end_status = 1, .hungup_side = "user"};
	struct store_admit_query q = {.callers = {"008601000000001", "008601000000002"},
				      .n_callers = 2};
	struct store_admit_counts got;
	struct store_session *s;

	for (int i = 0; i < 3; i++) {
		s = new_session(51);
		assert_int_equal(store_session_create(f->st, s), 0);
		if (i == 0)
			assert_int_equal(store_session_finish(f->st, s->id, 51, &end, NULL, NULL), 0);
		mem_deref(s);
	}
	assert_int_equal(store_sync(f->st), 0);
	s = new_session(51);
	assert_int_equal(store_session_admit(f->st, s, &q, decide_keep, &got), 0);
	mem_deref(s);
	assert_int_equal(got.callee_interval, 3);
	assert_int_equal(got.callee_daily, 3);
	assert_int_equal(got.callers[0].live, 2);
	assert_int_equal(got.callers[0].recent, 3);
	assert_int_equal(got.callers[1].live, 0);

	q.skip = STORE_ADMIT_SKIP_CALLEE_INTERVAL | STORE_ADMIT_SKIP_CALLER_LIVE;
	s = new_session(51);
	assert_int_equal(store_session_admit(f->st, s, &q, decide_keep, &got), 0);
	mem_deref(s);
	assert_int_equal(got.callee_interval, 0);
	assert_int_equal(got.callee_daily, 4);
	assert_int_equal(got.callers[0].live, 0);
	assert_int_equal(got.callers[0].recent, 4);

	q.skip = STORE_ADMIT_SKIP_CALLEE_DAILY | STORE_ADMIT_SKIP_CALLER_RECENT;
	s = new_session(51);
	assert_int_equal(store_session_admit(f->st, s, &q, decide_keep, &got), 0);
	mem_deref(s);
	assert_int_equal(got.callee_interval, 5);
	assert_int_equal(got.callee_daily, 0);
	assert_int_equal(got.callers[0].live, 4);
	assert_int_equal(got.callers[0].recent, 0);
}

static void *create_one(void *arg)
{
	struct fixture *f = ((void **)arg)[0];
	struct store_session *s = ((void **)arg)[1];

	assert_int_equal(store_session_create(f->st, s), 0);
	return NULL;
}

/* A thread's snapshot sees one state: another thread's commit shows only once this
 * thread writes itself (it reads its own writes) or ends the snapshot. */
static void test_snapshot(void **state)
{
	struct fixture *f = *state;
	struct store_session *a = new_session(61), *b = new_session(61), *c = new_session(61);
	struct store_session *g = NULL;
	void *args[2] = {f, b};
	pthread_t t;

	assert_int_equal(store_session_create(f->st, a), 0);
	assert_int_equal(store_snapshot_begin(f->st), 0);
	assert_int_equal(store_snapshot_begin(f->st), EALREADY);
	assert_int_equal(store_session_get(f->st, 61, a->id, &g), 0);
	g = mem_deref(g);
	assert_int_equal(pthread_create(&t, NULL, create_one, args), 0);
	pthread_join(t, NULL);
	assert_int_equal(store_session_get(f->st, 61, b->id, &g), ENOENT);
	assert_int_equal(store_session_create(f->st, c), 0);
	assert_int_equal(store_session_get(f->st, 61, c->id, &g), 0);
	g = mem_deref(g);
	assert_int_equal(store_session_get(f->st, 61, b->id, &g), 0);
	g = mem_deref(g);
	store_snapshot_end(f->st);
	store_snapshot_end(f->st); /* no snapshot: nothing */
	assert_int_equal(store_snapshot_begin(f->st), 0);
	store_snapshot_end(f->st);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
}

struct writer_arg {
	struct store *st;
	int n, failures;
};

static void *writer_thread(void *arg)
{
	struct writer_arg *w = arg;

	for (int i = 0; i < w->n; i++) {
		struct store_session *s = new_session(9);

		if (store_session_create(w->st, s))
			w->failures++;
		mem_deref(s);
	}
	return NULL;
}

/* Many threads creating at once all succeed; the writer batches them. */
static void test_concurrent_creates_reopen(void **state)
{
	struct fixture *f = *state;
	enum { THREADS = 8, EACH = 50 };
	struct writer_arg w[THREADS];
	pthread_t t[THREADS];
	int count = -1;
	struct store_stats stats;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct writer_arg){f->st, EACH, 0};
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	/* Every write went through a transaction; a transaction carries one or more. */
	store_stats(f->st, &stats);
	assert_true(stats.jobs >= THREADS * EACH);
	assert_true(stats.batches >= 1 && stats.batches <= stats.jobs);
	f->st = mem_deref(f->st);

	/* Everything acknowledged is in the database, seen by an independent connection. */
	count = (int)raw_int(&f->conf, "SELECT count(*) FROM sessions WHERE sdkappid = 9");
	assert_int_equal(count, THREADS * EACH);

	assert_int_equal(store_open(&f->st, &f->conf), 0);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st2 = NULL;

	raw_exec(&f->conf, on_pg ? "UPDATE schema_version SET version = 999"
				 : "PRAGMA user_version=999");
	raw_exec(&f->conf, "UPDATE schema_compat SET oldest = 999");
	assert_int_equal(store_open(&st2, &f->conf), EPROTO);
	assert_null(st2);
}

/* A newer schema whose migrations only added (schema_compat.oldest at or below ours) is
 * used as it is: the previous release keeps running during a rolling upgrade. */
static void test_newer_additive_schema_used(void **state)
{
	struct fixture *f = *state;
	struct store *st2 = NULL;

	raw_exec(&f->conf, on_pg ? "UPDATE schema_version SET version = 999"
				 : "PRAGMA user_version=999");
	assert_int_equal(store_open(&st2, &f->conf), 0);
	assert_non_null(st2);
	mem_deref(st2);
	assert_int_equal(raw_int(&f->conf, on_pg ? "SELECT version FROM schema_version"
						 : "PRAGMA user_version"), 999); /* untouched */
}

/* Two processes (here two stores) starting at once on a new database migrate it once:
 * the second waits for the first's migration lock, then finds the work done. */
struct opener {
	struct store_conf conf;
	struct store *st;
	int err;
};

static void *open_thread(void *arg)
{
	struct opener *o = arg;

	o->err = store_open(&o->st, &o->conf);
	return NULL;
}

static void test_concurrent_migrate(void **state)
{
	struct fixture *f = *state;
	struct opener o[2];
	pthread_t t[2];
	char new_db[80];

	for (int i = 0; i < 2; i++) {
		o[i] = (struct opener){.conf = f->conf};
		snprintf(o[i].conf.path, sizeof(o[i].conf.path), "%s/both.db", f->dir);
	}
	snprintf(new_db, sizeof(new_db), "%s_both", f->pg_db);
	if (on_pg) {
		pg_create(&o[0].conf, new_db);
		o[1].conf = o[0].conf;
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(o[i].err, 0);
	}
	assert_int_equal(raw_int(&o[0].conf, on_pg ? "SELECT count(*) FROM schema_version"
						   : "SELECT 1"), 1);
	assert_true(raw_int(&o[0].conf, on_pg ? "SELECT version FROM schema_version"
					      : "PRAGMA user_version") >= 13);
	mem_deref(o[0].st);
	mem_deref(o[1].st);
	if (on_pg)
		pg_drop(new_db);
}

/* The command-line tools (keep_schema) set up a new database but never migrate one with
 * an older schema: a live older cccd may be writing it (issue #12). */
static void test_tools_keep_schema(void **state)
{
	struct fixture *f = *state;
	struct store_conf tools = f->conf;
	struct store *st2 = NULL;
	char new_db[80];

	tools.keep_schema = true;
	assert_int_equal(store_open(&st2, &tools), 0); /* current schema: nothing to do */
	mem_deref(st2);
	st2 = NULL;
	raw_exec(&f->conf, on_pg ? "UPDATE schema_version SET version = 3" : "PRAGMA user_version=3");
	assert_int_equal(store_open(&st2, &tools), EPROTO);
	assert_null(st2);
	assert_int_equal(raw_int(&f->conf, on_pg ? "SELECT version FROM schema_version"
						 : "PRAGMA user_version"), 3); /* untouched */

	snprintf(tools.path, sizeof(tools.path), "%s/new.db", f->dir);
	snprintf(new_db, sizeof(new_db), "%s_new", f->pg_db);
	if (on_pg)
		pg_create(&tools, new_db);
	assert_int_equal(store_open(&st2, &tools), 0); /* a new database is set up */
	mem_deref(st2);
	if (on_pg)
		pg_drop(new_db);
}

/* What the admin actions and the AI licences need from the store: operator accounts, the
 * list of an instance's IVRs, and the live AI sessions counted inside the admission. */
static int collect_ivr(const struct store_ivr *iv, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%llu:%u;", (unsigned long long)iv->ivr_id,
		 iv->version);
	return 0;
}

static int decide_ai(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	*(uint32_t *)arg = c->ai_in_use;
	*chosen = 0;
	return 0;
}

static void test_admin_and_ai(void **state)
{
	struct fixture *f = *state;
	struct store_instance in = {.sdkappid = 51, .edition = STORE_EDITION_ADVANCED};
	struct store_admit_query q = {.callers = {"008601000000001"}, .n_callers = 1, .ai = true};
	struct store_session *s, *g;
	char list[256] = "";
	uint32_t ver, in_use = 99;
	uint64_t op;
	bool is_op = true;

	assert_int_equal(store_account_create(f->st, "ops", &op), 0);
	assert_int_equal(store_account_is_operator(f->st, op, &is_op), 0);
	assert_false(is_op);
	assert_int_equal(store_account_operator_set(f->st, op, true), 0);
	assert_int_equal(store_account_is_operator(f->st, op, &is_op), 0);
	assert_true(is_op);
	assert_int_equal(store_account_operator_set(f->st, op + 100, true), ENOENT);
	assert_int_equal(store_account_is_operator(f->st, op + 100, &is_op), ENOENT);
	assert_false(is_op);

	in.account_id = op;
	assert_int_equal(store_instance_put(f->st, &in), 0);
	assert_int_equal(store_ivrs_list(f->st, 51, collect_ivr, list), 0);
	assert_string_equal(list, "");
	assert_int_equal(store_ivr_put(f->st, 51, 9, "", STORE_IVR_INBOUND, "{}", &ver), 0);
	assert_int_equal(store_ivr_put(f->st, 51, 2, "", STORE_IVR_AUTO_OUTBOUND, "{}", &ver), 0);
	assert_int_equal(store_ivr_put(f->st, 51, 9, "", STORE_IVR_INBOUND, "{}", &ver), 0);
	assert_int_equal(store_ivrs_list(f->st, 51, collect_ivr, list), 0);
	assert_string_equal(list, "2:1;9:2;");

	/* Two live AI sessions, one finished, one without AI: 2 in use. */
	for (int i = 0; i < 4; i++) {
		s = new_session(51);
		s->ai = i != 3;
		assert_int_equal(store_session_create(f->st, s), 0);
		if (i == 0) {
			struct store_session_end end = {.ended_ts = s->start_ts, .end_status = 1};

			assert_int_equal(store_session_finish(f->st, s->id, 51, &end, NULL, NULL),
					 0);
			assert_int_equal(store_sync(f->st), 0);
		}
		mem_deref(s);
	}
	s = new_session(51);
	s->ai = true;
	assert_int_equal(store_session_admit(f->st, s, &q, decide_ai, &in_use), 0);
	assert_int_equal(in_use, 2);
	assert_int_equal(store_session_get(f->st, 51, s->id, &g), 0);
	assert_true(g->ai);
	mem_deref(g);
	mem_deref(s);
	/* Without q.ai nothing is counted. */
	q.ai = false;
	in_use = 99;
	s = new_session(51);
	assert_int_equal(store_session_admit(f->st, s, &q, decide_ai, &in_use), 0);
	assert_int_equal(in_use, 0);
	mem_deref(s);
}

/* Another connection holding the lock that the writer's session writes need: SQLite's
 * write lock; on PostgreSQL a lock on sessions that blocks writes, not reads. */
#define LOCK_WRITES (on_pg ? "BEGIN; LOCK TABLE sessions IN EXCLUSIVE MODE" : "BEGIN IMMEDIATE")

/* Issue #12: the inbound row was shared with the writer thread (mem_ref across threads:
 * libre's counts are not atomic), and a queued write that failed was dropped with a log
 * line, leaving the session ringing for ever. With another connection holding the write
 * lock past the busy timeout: the caller's row is left alone (one reference; the writer
 * has its own copy), the store turns unusable and refuses a durable write at once, and
 * once the lock goes the queued writes land, in order, without anything else done. */
static void test_locked_writes_retried(void **state)
{
	struct fixture *f = *state;
	struct store_session_end end = {.ended_ts = 300, .end_status = 1, .hungup_side = "user"};
	struct store_session *s, *o, *g;
	char want_caller[33];
	struct db_conn *other;
	int i;

	mem_deref(f->st);
	f->conf.busy_timeout_ms = 50;
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_true(store_usable(f->st));
	other = raw_open(&f->conf);
	assert_int_equal(db_exec(other, LOCK_WRITES), 0);

	s = new_session(7);
	strcpy(want_caller, s->caller);
	assert_int_equal(store_session_create_async(f->st, s), 0);
	assert_int_equal(mem_nrefs(s), 1);
	strcpy(s->caller, "0099");     /* the loop's row is its own to change */
	assert_int_equal(store_session_ringing(f->st, s->id, 100), 0);
	assert_int_equal(store_session_finish(f->st, s->id, 7, &end, NULL, NULL), 0);

	for (i = 0; i < 500 && store_usable(f->st); i++)
		usleep(10000);
	assert_false(store_usable(f->st));
	o = new_session(7);
	assert_int_equal(store_session_create(f->st, o), EBUSY);
	assert_int_equal(store_sync(f->st), EBUSY);

	assert_int_equal(db_exec(other, "ROLLBACK"), 0);
	mem_deref(other);
	for (i = 0; i < 1000 && !store_usable(f->st); i++)
		usleep(10000);
	assert_true(store_usable(f->st));
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_string_equal(g->caller, want_caller);
	assert_int_equal(g->ring_ts, 100);
	assert_int_equal(g->status, STORE_STATUS_FINISHED);
	assert_int_equal(g->end_status, 1);
	mem_deref(g);
	assert_int_equal(store_session_create(f->st, o), 0);
	mem_deref(o);
	mem_deref(s);
}

/* Stopping while queued writes still fail does not wait for ever: the writer makes one
 * last attempt, then drops them (counted in the log); a restart closes their sessions. */
static void test_stop_while_failing(void **state)
{
	struct fixture *f = *state;
	struct store_session *s = new_session(7);
	struct db_conn *other;
	int i;

	mem_deref(f->st);
	f->conf.busy_timeout_ms = 20;
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	other = raw_open(&f->conf);
	assert_int_equal(db_exec(other, LOCK_WRITES), 0);
	assert_int_equal(store_session_create_async(f->st, s), 0);
	for (i = 0; i < 500 && store_usable(f->st); i++)
		usleep(10000);
	assert_false(store_usable(f->st));
	f->st = mem_deref(f->st);
	db_exec(other, "ROLLBACK");
	mem_deref(other);
	mem_deref(s);
}

/* A queued write refused for good (a duplicate row: a bug) is dropped alone and never
 * retried: the writes around it land and the store stays usable. */
static void test_refused_write_dropped(void **state)
{
	struct fixture *f = *state;
	struct store_session *s = new_session(7), *g;

	assert_int_equal(store_session_create(f->st, s), 0);
	assert_int_equal(store_session_create_async(f->st, s), 0);
	assert_int_equal(store_session_ringing(f->st, s->id, 100), 0);
	assert_int_equal(store_sync(f->st), 0);
	assert_true(store_usable(f->st));
	assert_int_equal(store_session_get(f->st, 7, s->id, &g), 0);
	assert_int_equal(g->ring_ts, 100);
	mem_deref(g);
	mem_deref(s);
}

/* Every migration exists for both backends (docs/architecture.md §Storage): a database of
 * either engine reaches the same schema version. */
/* ---- nodes ------------------------------------------------------------------------- */

static struct store *node_store(struct fixture *f, const char *node_id)
{
	struct store_conf sc = f->conf;
	struct store *st;

	snprintf(sc.node_id, sizeof(sc.node_id), "%s", node_id);
	assert_int_equal(store_open(&st, &sc), 0);
	return st;
}

struct taken {
	char ids[4][33];
	unsigned n;
};

static int take_row(struct store_session *s, void *arg)
{
	struct taken *t = arg;

	assert_true(t->n < 4);
	strcpy(t->ids[t->n++], s->id);
	return 0;
}

struct marks {
	char id[33];
	int err;
	unsigned n;
};

/* The completion handler: runs on the writer thread, read after a store_sync. */
static void mark_seen(const char *id, int err, void *arg)
{
	struct marks *m = arg;

	snprintf(m->id, sizeof(m->id), "%s", id);
	m->err = err;
	m->n++;
}

struct claimer {
	struct store *st;
	const char *node_id;
	char taken[64];
	struct taken rows;
	int err;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;

	c->err = store_node_takeover(c->st, c->node_id, 10000, c->taken, sizeof(c->taken),
				     take_row, &c->rows);
	return NULL;
}

/* Heartbeats renew a lease; a node whose lease ran out is claimed by exactly one of two
 * claimers, with its unfinished sessions (never its finished ones); the loser and the
 * dead node see nothing of them; finishing twice keeps the first record; a node that
 * restarts takes nothing back; a stopped node is taken over at once. */
static void test_nodes_takeover(void **state)
{
	struct fixture *f = *state;
	struct store *a = node_store(f, "node-a"), *b = node_store(f, "node-b"),
		*c = node_store(f, "node-c");
	struct store_session *s1 = new_session(7), *s2 = new_session(7), *s3 = new_session(7), *g;
	struct store_session_end end = {.ended_ts = 300, .end_status = 1, .hungup_side = "user"};
	struct claimer cl[2] = {{.st = b, .node_id = "node-b"}, {.st = c, .node_id = "node-c"}};
	struct store_node n;
	struct taken none = {0};
	struct marks mk = {0};
	pthread_t t[2];
	char taken[64];
	int w;

	assert_int_equal(store_node_start(a, "node-a", 1000, 2000), 0);
	assert_int_equal(store_node_start(b, "node-b", 1000, 2000), 0);
	assert_int_equal(store_node_start(c, "node-c", 1000, 2000), 0);
	assert_int_equal(store_node_heartbeat(a, "node-a", false, 1500, 2000), 0);
	assert_int_equal(store_node_get(a, "node-a", &n), 0);
	assert_int_equal(n.heartbeat_ms, 1500);
	assert_int_equal(n.lease_until_ms, 3500);
	assert_int_equal(n.state, STORE_NODE_RUNNING);
	assert_int_equal(store_node_heartbeat(a, "node-a", true, 1500, 2000), 0);
	assert_int_equal(store_node_get(a, "node-a", &n), 0);
	assert_int_equal(n.state, STORE_NODE_DRAINING);

	/* node-a's sessions: one dialled, one waiting, one finished. */
	assert_int_equal(store_session_create(a, s1), 0);
	assert_int_equal(store_session_create(a, s2), 0);
	assert_int_equal(store_session_create(a, s3), 0);
	store_done_handler(a, mark_seen, &mk);
	assert_int_equal(store_session_dialled(a, s1->id, 1600), 0);
	assert_int_equal(store_session_finish(a, s3->id, 7, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(a), 0);
	assert_int_equal(mk.n, 1); /* the mark's completion: committed */
	assert_string_equal(mk.id, s1->id);
	assert_int_equal(mk.err, 0);
	/* The same mark run again (its batch's COMMIT landed but the answer was lost, so the
	 * writer runs the batch again): done, not refused. Another mark is refused. */
	assert_int_equal(store_session_dialled(a, s1->id, 1600), 0);
	assert_int_equal(store_sync(a), 0);
	assert_int_equal(mk.n, 2);
	assert_int_equal(mk.err, 0);
	assert_int_equal(store_session_dialled(a, s1->id, 1601), 0);
	assert_int_equal(store_sync(a), 0);
	assert_int_equal(mk.n, 3);
	assert_int_equal(mk.err, ESRCH);
	mk.n = 1;

	/* Nobody's lease has run out at 3000 (node-c's ends at 3000: not before it). */
	assert_int_equal(store_node_takeover(b, "node-b", 3000, taken, sizeof(taken), take_row,
					     &none), ENOENT);
	assert_int_equal(none.n, 0);
	assert_int_equal(store_node_heartbeat(b, "node-b", false, 9000, 2000), 0);
	assert_int_equal(store_node_heartbeat(c, "node-c", false, 9000, 2000), 0);

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claim_thread, &cl[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_true((cl[0].err == 0) != (cl[1].err == 0));
	w = cl[0].err == 0 ? 0 : 1;
	assert_int_equal(cl[!w].err, ENOENT);
	assert_int_equal(cl[!w].rows.n, 0);
	assert_string_equal(cl[w].taken, "node-a");
	assert_int_equal(cl[w].rows.n, 2); /* oldest first, the finished one not */
	assert_string_equal(cl[w].rows.ids[0], s1->id);
	assert_string_equal(cl[w].rows.ids[1], s2->id);
	assert_int_equal(store_node_get(a, "node-a", &n), 0);
	assert_int_equal(n.state, STORE_NODE_DEAD);
	assert_string_equal(n.taken_by, cl[w].node_id);
	assert_int_equal(store_session_get(a, 7, s1->id, &g), 0);
	assert_int_equal(g->dialled_ms, 1600); /* what the restart rule reads */
	mem_deref(g);

	/* A node that lost a session may not mark it (so never dials it): ESRCH. */
	assert_int_equal(store_session_dialled(a, s2->id, 10050), 0);
	assert_int_equal(store_sync(a), 0);
	assert_int_equal(mk.n, 2);
	assert_string_equal(mk.id, s2->id);
	assert_int_equal(mk.err, ESRCH);
	store_done_handler(a, NULL, NULL);
	assert_int_equal(store_session_get(a, 7, s2->id, &g), 0);
	assert_int_equal(g->dialled_ms, 0);
	mem_deref(g);

	/* The dead node's lease is not renewed any more; its restart takes nothing back. */
	assert_int_equal(store_node_heartbeat(a, "node-a", false, 10100, 2000), ESRCH);
	none.n = 0;
	assert_int_equal(store_sessions_live(a, take_row, &none), 0);
	assert_int_equal(none.n, 0);
	none.n = 0;
	assert_int_equal(store_sessions_live(cl[w].st, take_row, &none), 0);
	assert_int_equal(none.n, 2);
	assert_int_equal(store_node_start(a, "node-a", 10200, 2000), 0);
	none.n = 0;
	assert_int_equal(store_sessions_live(a, take_row, &none), 0);
	assert_int_equal(none.n, 0);
	assert_int_equal(store_node_get(a, "node-a", &n), 0);
	assert_int_equal(n.state, STORE_NODE_RUNNING);

	/* Finishing is idempotent: the dead node's late finish and the new owner's. */
	end.end_status = 0;
	assert_int_equal(store_session_finish(cl[w].st, s1->id, 7, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(cl[w].st), 0);
	end.end_status = 1;
	assert_int_equal(store_session_finish(a, s1->id, 7, &end, NULL, NULL), 0);
	assert_int_equal(store_sync(a), 0);
	assert_int_equal(store_session_get(a, 7, s1->id, &g), 0);
	assert_int_equal(g->status, STORE_STATUS_FINISHED);
	assert_int_equal(g->end_status, 0);
	mem_deref(g);

	/* A graceful stop hands over at once: no wait for the lease. */
	assert_int_equal(store_node_stopped(cl[!w].st, cl[!w].node_id, 10300), 0);
	assert_int_equal(store_node_takeover(a, "node-a", 10301, taken, sizeof(taken), take_row,
					     &none), 0);
	assert_string_equal(taken, cl[!w].node_id);
	assert_int_equal(store_node_get(a, cl[!w].node_id, &n), 0);
	assert_int_equal(n.state, STORE_NODE_STOPPED);
	assert_string_equal(n.taken_by, "node-a");
	assert_int_equal(store_node_heartbeat(a, "", false, 1, 1), EINVAL);

	mem_deref(s1);
	mem_deref(s2);
	mem_deref(s3);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
}

static void test_migrations_both_backends(void **state)
{
	(void)state;
	assert_int_equal(store_schema_sqlite.n, store_schema_pg.n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_both_backends),
		cmocka_unit_test_setup_teardown(test_tenancy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_and_ivrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_licence_and_rules_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_create_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_transfer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_concurrent_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_exact_across_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_lock_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdr_and_active_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_rotates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_counts_and_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_creates_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_additive_schema_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tools_keep_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_rewrites, setup, teardown),
		cmocka_unit_test(test_conf_backend),
		cmocka_unit_test_setup_teardown(test_admin_and_ai, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_writes_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_write_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_takeover, setup, teardown),
	};

	const char *backend = getenv("CCCD_TEST_STORE");

	on_pg = backend && !strcmp(backend, "postgresql");
	if (on_pg && !getenv("CCCD_TEST_PG_DSN")) {
		fprintf(stderr, "test_store: CCCD_TEST_STORE=postgresql needs CCCD_TEST_PG_DSN\n");
		return 1;
	}
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
