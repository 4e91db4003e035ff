/* Unit tests of the web console's rules (console/console.h) and its rows in the store:
 * passwords hashed with Argon2id and checked (a wrong one, an empty hash, an unknown
 * user's), tokens and their hashes, the CSRF comparison, the session cookie's parsing, the
 * roles and what each may run, user names; and in the store, users, sessions joined with
 * their user (a deleted user's sessions go), one-time links that sign in once and expire,
 * and the audit log, newest first.
 *
 * On SQLite (a file per test) by default; CCCD_TEST_STORE=postgresql runs the store tests
 * on PostgreSQL, a database per test, created through CCCD_TEST_PG_DSN with the password
 * in CCCD_TEST_PG_PASSWORD_FILE, as test_store does. */
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
#include "console/console.h"
#include "store/store.h"
#include "store/db.h"

static void test_password(void **state)
{
	char h[CONSOLE_HASH_MAX], h2[CONSOLE_HASH_MAX];

	(void)state;
	assert_int_equal(console_password_hash("correct horse", h, sizeof(h)), 0);
	assert_non_null(strstr(h, "$argon2id$"));
	assert_null(strstr(h, "correct horse"));
	assert_int_equal(console_password_check(h, "correct horse"), 0);
	assert_int_equal(console_password_check(h, "correct hors"), EACCES);
	assert_int_equal(console_password_check(h, ""), EACCES);
	assert_int_equal(console_password_check("", "correct horse"), EACCES);
	assert_int_equal(console_password_check(NULL, "anything at all"), EACCES);
	/* A fresh salt each time: the same password never hashes the same twice. */
	assert_int_equal(console_password_hash("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(console_password_hash("short", h, sizeof(h)), EINVAL);
	assert_int_equal(console_password_hash(NULL, h, sizeof(h)), EINVAL);
	assert_int_equal(console_password_check("not a hash", "correct horse"), EINVAL);
}

static void test_tokens(void **state)
{
	char a[CONSOLE_TOKEN_LEN + 1], b[CONSOLE_TOKEN_LEN + 1], ha[CONSOLE_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(console_token_new(a), 0);
	assert_int_equal(console_token_new(b), 0);
	assert_true(console_token_ok(a));
	assert_string_not_equal(a, b);
	console_token_hash(a, ha);
	assert_true(console_token_ok(ha));
	assert_string_not_equal(a, ha);
	assert_false(console_token_ok(NULL));
	assert_false(console_token_ok(""));
	a[5] = 'G';
	assert_false(console_token_ok(a));
	b[CONSOLE_TOKEN_LEN - 1] = '\0';
	assert_false(console_token_ok(b));
}

static void test_csrf(void **state)
{
	(void)state;
	assert_true(console_csrf_ok("abc123", "abc123"));
	assert_false(console_csrf_ok("abc124", "abc123"));
	assert_false(console_csrf_ok("abc12", "abc123"));
	assert_false(console_csrf_ok(NULL, "abc123"));
	assert_false(console_csrf_ok("", ""));
	assert_false(console_csrf_ok("abc", NULL));
}

static void test_cookie(void **state)
{
	char v[70];

	(void)state;
	assert_int_equal(console_cookie_get("cccd_session=abc", "cccd_session", v, sizeof(v)), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(console_cookie_get("a=1; cccd_session=xyz; b=2", "cccd_session", v,
					    sizeof(v)), 0);
	assert_string_equal(v, "xyz");
	assert_int_equal(console_cookie_get("x_cccd_session=1; cccd_sessionx=2", "cccd_session",
					    v, sizeof(v)), ENOENT);
	assert_int_equal(console_cookie_get("", "cccd_session", v, sizeof(v)), ENOENT);
	assert_int_equal(console_cookie_get("cccd_session=0123456789", "cccd_session", v, 5),
			 EINVAL);
}

static void test_roles(void **state)
{
	enum console_role r;

	(void)state;
	assert_int_equal(console_role_parse("viewer", &r), 0);
	assert_int_equal(r, CONSOLE_VIEWER);
	assert_int_equal(console_role_parse("supervisor", &r), 0);
	assert_int_equal(console_role_parse("administrator", &r), 0);
	assert_string_equal(console_role_name(r), "administrator");
	assert_int_equal(console_role_parse("Administrator", &r), EINVAL);
	assert_int_equal(console_role_parse(NULL, &r), EINVAL);

	assert_true(console_role_allows(CONSOLE_VIEWER, "DescribeTelCdr"));
	assert_true(console_role_allows(CONSOLE_VIEWER, "CccdDescribeIvrFlow"));
	assert_false(console_role_allows(CONSOLE_VIEWER, "HangUpCall"));
	assert_false(console_role_allows(CONSOLE_VIEWER, "CccdPutIvrFlow"));
	assert_false(console_role_allows(CONSOLE_VIEWER, "CreateIVRSession"));
	assert_true(console_role_allows(CONSOLE_SUPERVISOR, "HangUpCall"));
	assert_true(console_role_allows(CONSOLE_SUPERVISOR, "DescribePSTNActiveSessionList"));
	assert_false(console_role_allows(CONSOLE_SUPERVISOR, "CccdModifyBlacklist"));
	assert_true(console_role_allows(CONSOLE_ADMINISTRATOR, "CccdModifyBlacklist"));
	assert_true(console_role_allows(CONSOLE_ADMINISTRATOR, "HangUpCall"));
	assert_false(console_role_allows(CONSOLE_VIEWER, "CccdDescribeConsoleUsers"));
	assert_false(console_role_allows(CONSOLE_SUPERVISOR, "CccdDescribeConsoleUsers"));
	assert_false(console_role_allows(CONSOLE_SUPERVISOR, "CccdModifyConsoleUser"));
	assert_true(console_role_allows(CONSOLE_ADMINISTRATOR, "CccdDescribeConsoleUsers"));
	assert_true(console_role_allows(CONSOLE_ADMINISTRATOR, "CccdModifyConsoleUser"));
	assert_false(console_role_allows((enum console_role)0, "DescribeTelCdr"));
	assert_false(console_role_allows(CONSOLE_ADMINISTRATOR, NULL));

	assert_false(console_action_changes("DescribeTelCdr"));
	assert_false(console_action_changes("CccdDescribeConsoleAudit"));
	assert_true(console_action_changes("HangUpCall"));
	assert_true(console_action_changes("CccdPutIvrFlow"));

	assert_true(console_user_name_ok("ann.lee@example-1_x"));
	assert_false(console_user_name_ok(""));
	assert_false(console_user_name_ok("a b"));
	assert_false(console_user_name_ok("a;b"));
	assert_false(console_user_name_ok("0123456789012345678901234567890123456789"
					  "01234567890123456789012345"));
}

/* Failed sign-ins: the max-th failure blocks the key for the rest of its window, other
 * keys are not touched, a clear forgets, and the window's end lets it try again; a flood
 * of other keys does not make the table grow, nor push a blocked key out. */
static void test_limit(void **state)
{
	struct console_limit *l = NULL;
	char key[32];

	(void)state;
	assert_int_equal(console_limit_alloc(&l, 3, 300), 0);
	for (int i = 0; i < 2; i++)
		console_limit_fail(l, "1/ann", 1000 + i);
	assert_int_equal(console_limit_wait(l, "1/ann", 1002), 0);
	console_limit_fail(l, "1/ann", 1010);
	assert_int_equal(console_limit_wait(l, "1/ann", 1010), 290);
	assert_int_equal(console_limit_wait(l, "1/bob", 1010), 0);
	assert_int_equal(console_limit_wait(l, "2/ann", 1010), 0);
	assert_int_equal(console_limit_wait(l, "1/ann", 1299), 1);
	assert_int_equal(console_limit_wait(l, "1/ann", 1300), 0);
	console_limit_fail(l, "1/ann", 1300);
	assert_int_equal(console_limit_wait(l, "1/ann", 1300), 0);
	console_limit_clear(l, "1/ann");
	for (int i = 0; i < 3; i++)
		console_limit_fail(l, "1/ann", 2000);
	assert_int_equal(console_limit_wait(l, "1/ann", 2000), 300);
	console_limit_clear(l, "1/ann");
	assert_int_equal(console_limit_wait(l, "1/ann", 2000), 0);
	/* 100,000 other keys failing once each, later than ann's blocked window started. */
	for (int i = 0; i < 3; i++)
		console_limit_fail(l, "1/ann", 3000);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "1/u%d", i);
		console_limit_fail(l, key, 3001);
	}
	assert_int_equal(console_limit_wait(l, "1/u99999", 3001), 0);
	assert_int_equal(console_limit_wait(l, "1/ann", 3001), 299);
	mem_deref(l);
	assert_int_equal(console_limit_alloc(&l, 0, 300), EINVAL);
}

static void test_assets(void **state)
{
	const struct console_asset *a = console_asset_find("/console/");

	(void)state;
	assert_non_null(a);
	assert_string_equal(a->path, "/console/index.html");
	assert_non_null(strstr(a->type, "text/html"));
	assert_true(a->len > 0);
	assert_ptr_equal(console_asset_find("/console/index.html"), a);
	assert_null(console_asset_find("/console/../cccd.conf"));
	assert_null(console_asset_find("/console/nothing.js"));
}

/* ---- the store's rows ---------------------------------------------------------------- */

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

	strcpy(f->dir, "/tmp/cccd-test-console-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	if (on_pg) {
		const char *pw = getenv("CCCD_TEST_PG_PASSWORD_FILE");
		char sql[128];

		snprintf(f->pg_db, sizeof(f->pg_db), "test_console_%d_%u", (int)getpid(), ++seq);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_db);
		admin_exec(sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->pg_db);
		admin_exec(sql);
		f->conf.backend = DB_POSTGRESQL;
		snprintf(f->conf.dsn, sizeof(f->conf.dsn), "%s dbname=%s",
			 getenv("CCCD_TEST_PG_DSN"), f->pg_db);
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

static void user_make(struct store *st, uint64_t sdkappid, const char *name, const char *role)
{
	struct store_console_user u = {.sdkappid = sdkappid, .created_at = 1000};

	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.role, sizeof(u.role), "%s", role);
	snprintf(u.pw_hash, sizeof(u.pw_hash), "$argon2id$x");
	assert_int_equal(store_console_user_add(st, &u), 0);
}

static int count_user(const struct store_console_user *u, void *arg)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static void test_store_users_sessions(void **state)
{
	struct fixture *f = *state;
	struct store_console_user u;
	struct store_console_session s = {.sdkappid = 7, .created_at = 100, .expires_at = 200,
					  .last_used_at = 100}, got;
	int n = 0;

	user_make(f->st, 7, "ann", "supervisor");
	user_make(f->st, 7, "bob", "viewer");
	user_make(f->st, 8, "ann", "administrator");
	assert_int_equal(store_console_user_add(f->st, &(struct store_console_user){
		.sdkappid = 7, .name = "ann", .role = "viewer"}), EEXIST);
	assert_int_equal(store_console_user_get(f->st, 7, "ann", &u), 0);
	assert_string_equal(u.role, "supervisor");
	assert_string_equal(u.pw_hash, "$argon2id$x");
	assert_int_equal(store_console_user_get(f->st, 9, "ann", &u), ENOENT);
	assert_int_equal(store_console_users_list(f->st, 7, count_user, &n), 0);
	assert_int_equal(n, 2);

	strcpy(s.token_hash, "h1");
	strcpy(s.name, "ann");
	strcpy(s.csrf, "c1");
	assert_int_equal(store_console_session_add(f->st, &s), 0);
	assert_int_equal(store_console_session_get(f->st, "h1", &got), 0);
	assert_string_equal(got.role, "supervisor");
	assert_string_equal(got.csrf, "c1");
	assert_int_equal(got.sdkappid, 7);
	assert_int_equal(got.expires_at, 200);
	assert_int_equal(store_console_session_touch(f->st, "h1", 150), 0);
	assert_int_equal(store_console_session_get(f->st, "h1", &got), 0);
	assert_int_equal(got.last_used_at, 150);
	assert_int_equal(store_console_session_get(f->st, "h2", &got), ENOENT);

	/* A deleted user's sessions end with it. */
	assert_int_equal(store_console_user_delete(f->st, 7, "ann"), 0);
	assert_int_equal(store_console_session_get(f->st, "h1", &got), ENOENT);
	assert_int_equal(store_console_user_delete(f->st, 7, "ann"), ENOENT);
	assert_int_equal(store_console_user_get(f->st, 8, "ann", &u), 0);

	strcpy(s.token_hash, "h3");
	strcpy(s.name, "bob");
	assert_int_equal(store_console_session_add(f->st, &s), 0);
	assert_int_equal(store_console_session_delete(f->st, "h3"), 0);
	assert_int_equal(store_console_session_get(f->st, "h3", &got), ENOENT);
}

static void test_store_links(void **state)
{
	struct fixture *f = *state;
	struct store_console_session s = {0}, got;

	user_make(f->st, 7, "ann", "administrator");
	assert_int_equal(store_console_link_add(f->st, "l1", 7, "ann", 1000), 0);
	assert_int_equal(store_console_link_add(f->st, "l2", 7, "ann", 1000), 0);
	assert_int_equal(store_console_link_add(f->st, "l3", 7, "gone", 1000), 0);

	strcpy(s.token_hash, "s1");
	strcpy(s.csrf, "c");
	s.expires_at = 5000;
	assert_int_equal(store_console_link_redeem(f->st, "l1", 999, &s), 0);
	assert_int_equal(s.sdkappid, 7);
	assert_string_equal(s.name, "ann");
	assert_string_equal(s.role, "administrator");
	assert_int_equal(store_console_session_get(f->st, "s1", &got), 0);
	/* Once only. */
	strcpy(s.token_hash, "s2");
	assert_int_equal(store_console_link_redeem(f->st, "l1", 999, &s), ENOENT);
	assert_int_equal(store_console_session_get(f->st, "s2", &got), ENOENT);
	/* Not after it expired, nor for a user who is gone, nor an unknown link. */
	assert_int_equal(store_console_link_redeem(f->st, "l2", 1000, &s), ENOENT);
	assert_int_equal(store_console_link_redeem(f->st, "l3", 10, &s), ENOENT);
	assert_int_equal(store_console_link_redeem(f->st, "nope", 10, &s), ENOENT);
	assert_int_equal(store_console_session_get(f->st, "s2", &got), ENOENT);
}

static int audit_collect(const struct store_console_audit *a, void *arg)
{
	char *out = arg;

	strcat(out, a->action);
	strcat(out, ",");
	return 0;
}

static void test_store_audit(void **state)
{
	struct fixture *f = *state;
	const char *actions[] = {"HangUpCall", "CccdPutIvrFlow", "CccdModifyBlacklist"};
	char seen[256] = "";
	uint64_t total = 0;

	for (int i = 0; i < 3; i++) {
		struct store_console_audit a = {.sdkappid = 7, .at_ms = 1000 + i};

		strcpy(a.name, "ann");
		strcpy(a.action, actions[i]);
		strcpy(a.result, "ok");
		strcpy(a.summary, "{}");
		assert_int_equal(store_console_audit_add(f->st, &a), 0);
	}
	assert_int_equal(store_console_audit_add(f->st, &(struct store_console_audit){
		.sdkappid = 8, .at_ms = 5, .name = "x", .action = "HangUpCall"}), 0);
	assert_int_equal(store_console_audit_list(f->st, 7, 0, 2, audit_collect, seen, &total),
			 0);
	assert_int_equal(total, 3);
	assert_string_equal(seen, "CccdModifyBlacklist,CccdPutIvrFlow,");
	seen[0] = '\0';
	assert_int_equal(store_console_audit_list(f->st, 7, 2, 2, audit_collect, seen, &total),
			 0);
	assert_string_equal(seen, "HangUpCall,");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_limit),
		cmocka_unit_test_setup_teardown(test_store_users_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_audit, setup, teardown),
	};
	const char *backend = getenv("CCCD_TEST_STORE");

	on_pg = backend && !strcmp(backend, "postgresql");
	if (on_pg && !getenv("CCCD_TEST_PG_DSN")) {
		fprintf(stderr, "test_console: CCCD_TEST_STORE=postgresql needs CCCD_TEST_PG_DSN\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
