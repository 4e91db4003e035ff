/* Unit tests of push's rules: URL query, reply success rule, retry jitter bounds,
 * schedules, events, OAuth2 token replies, dedupe keys, [push] config, and instance
 * settings with their secrets sealed in the database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "conf/conf.h"
#include "push/push.h"
#include "store/store.h"
#include "tenant/tenant.h"

static void test_url_join(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(push_url_join("http://h/p", "cdr", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h/p?action=cdr&version=1");
	assert_int_equal(push_url_join("http://h/p", "record", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h/p?action=record&version=1");
	assert_int_equal(push_url_join("http://h/p", "voicemail", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h/p?action=voicemail");
	assert_int_equal(push_url_join("http://h/p", "event", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h/p?action=event&version=1");
	/* A query already there: joined with '&' (or nothing after a trailing ? or &). */
	assert_int_equal(push_url_join("https://h/p?token=abc", "cdr", out, sizeof(out)), 0);
	assert_string_equal(out, "https://h/p?token=abc&action=cdr&version=1");
	assert_int_equal(push_url_join("https://h/p?", "voicemail", out, sizeof(out)), 0);
	assert_string_equal(out, "https://h/p?action=voicemail");
	assert_int_equal(push_url_join("https://h/p?a=1&", "cdr", out, sizeof(out)), 0);
	assert_string_equal(out, "https://h/p?a=1&action=cdr&version=1");
	assert_int_equal(push_url_join("http://h/p", "bogus", out, sizeof(out)), EINVAL);
	assert_int_equal(push_url_join("http://h/p", "cdr", out, 20), ENOSPC);
	assert_int_equal(push_url_join(NULL, "cdr", out, sizeof(out)), EINVAL);
}

static bool ok(long status, const char *body)
{
	char why[256];
	bool r = push_reply_ok(status, body, body ? strlen(body) : 0, why, sizeof(why));

	assert_true(r ? !*why : *why != '\0');
	return r;
}

static void test_reply_rule(void **state)
{
	char why[256];

	(void)state;
	assert_true(ok(200, "{\"ErrCode\":0,\"ErrMsg\":\"ok\"}"));
	assert_true(ok(200, "{\"ErrCode\":0}"));
	assert_true(ok(204, " { \"ErrCode\" : \"0\" } "));
	assert_true(ok(201, "{\"ErrCode\":\"0\",\"ErrMsg\":\"\"}"));
	assert_true(ok(299, "{\"ErrCode\":0.0}"));
	/* Failures. */
	assert_false(ok(200, "{\"ErrCode\":1,\"ErrMsg\":\"busy\"}"));
	assert_false(ok(200, "{\"ErrCode\":\"1\"}"));
	assert_false(ok(200, "{\"ErrCode\":\"\"}"));
	assert_false(ok(200, "{\"ErrCode\":\"0x\"}"));
	assert_false(ok(200, "{\"ErrCode\":\" 0\"}"));
	assert_false(ok(200, "{\"ErrCode\":null}"));
	assert_false(ok(200, "{\"ErrCode\":false}"));
	assert_false(ok(200, "{\"ErrMsg\":\"no code\"}"));
	assert_false(ok(200, "ok"));
	assert_false(ok(200, ""));
	assert_false(ok(200, NULL));
	assert_false(ok(200, "[0]"));
	assert_false(ok(200, "{\"ErrCode\":0,\"ErrCode\":1}"));
	assert_false(ok(500, "{\"ErrCode\":0}"));
	assert_false(ok(302, "{\"ErrCode\":0}"));
	assert_false(ok(0, NULL));

	/* The reasons name what was wrong. */
	{
		const char *r = "{\"ErrCode\":1,\"ErrMsg\":\"busy\\n\"}";

		push_reply_ok(200, r, strlen(r), why, sizeof(why));
	}
	assert_string_equal(why, "ErrCode 1: busy?");
	push_reply_ok(500, "{\"ErrCode\":0}", 13, why, sizeof(why));
	assert_string_equal(why, "HTTP 500");
	push_reply_ok(200, "nope", 4, why, sizeof(why));
	assert_string_equal(why, "HTTP 200: the reply is not a JSON object");
	push_reply_ok(200, "{}", 2, why, sizeof(why));
	assert_string_equal(why, "HTTP 200: no ErrCode in the reply");
	push_reply_ok(200, "{\"ErrCode\":\"7\"}", 15, why, sizeof(why));
	assert_string_equal(why, "ErrCode 7: ");
	/* Without a buffer for the reason. */
	assert_true(push_reply_ok(200, "{\"ErrCode\":0}", 13, NULL, 0));
}

static void test_retry_jitter(void **state)
{
	(void)state;
	assert_int_equal(push_retry_delay_ms(10000, 20, 0), 8000);
	assert_int_equal(push_retry_delay_ms(10000, 20, UINT32_MAX), 12000);
	assert_int_equal(push_retry_delay_ms(10000, 0, 12345), 10000);
	assert_int_equal(push_retry_delay_ms(0, 20, UINT32_MAX), 0);
	assert_int_equal(push_retry_delay_ms(300000, 100, 0), 0);
	assert_int_equal(push_retry_delay_ms(300000, 150, UINT32_MAX), 600000);
	for (int i = 0; i < 10000; i++) {
		uint32_t rnd, d;

		assert_int_equal(ids_random(&rnd, sizeof(rnd)), 0);
		d = push_retry_delay_ms(60000, 20, rnd);
		assert_true(d >= 48000 && d <= 72000);
	}
	/* Spread over the range, not stuck at one end. */
	assert_true(push_retry_delay_ms(60000, 20, UINT32_MAX / 2) > 59000);
	assert_true(push_retry_delay_ms(60000, 20, UINT32_MAX / 2) < 61000);
}

/* A failing receiver's back-off (issue #12): 1 s doubling to 5 min by round, jittered. */
static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(push_backoff_ms(1, 0, 0), 1000);
	assert_int_equal(push_backoff_ms(2, 0, 0), 2000);
	assert_int_equal(push_backoff_ms(3, 0, 0), 4000);
	assert_int_equal(push_backoff_ms(9, 0, 0), 256000);
	assert_int_equal(push_backoff_ms(10, 0, 0), 300000);
	assert_int_equal(push_backoff_ms(1000, 0, 0), 300000);
	assert_int_equal(push_backoff_ms(1, 20, 0), 800);
	assert_int_equal(push_backoff_ms(1000, 20, UINT32_MAX), 360000);

	/* No answer, 429 and 5xx: the receiver is failing; any other answer: it is up. */
	assert_true(push_receiver_failing(false, 0));
	assert_true(push_receiver_failing(true, 429));
	assert_true(push_receiver_failing(true, 500));
	assert_true(push_receiver_failing(true, 503));
	assert_false(push_receiver_failing(true, 200));
	assert_false(push_receiver_failing(true, 401));
	assert_false(push_receiver_failing(true, 404));
	assert_false(push_receiver_failing(true, 302));
}

static void test_schedules(void **state)
{
	struct push_schedule s;
	char buf[128];

	(void)state;
	assert_int_equal(push_schedule_parse("10s,60s,300s", &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ms[0], 10000);
	assert_int_equal(s.ms[2], 300000);
	push_schedule_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "10s,60s,300s");
	assert_int_equal(push_schedule_parse("200ms,1,2m", &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ms[0], 200);
	assert_int_equal(s.ms[1], 1000);
	assert_int_equal(s.ms[2], 120000);
	push_schedule_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "200ms,1s,120s");
	assert_int_equal(push_schedule_parse("none", &s), 0);
	assert_int_equal(s.n, 0);
	push_schedule_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	assert_int_equal(push_schedule_parse("", &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(push_schedule_parse("1,2,3,4,5,6,7,8,9,10", &s), 0);
	assert_int_equal(s.n, 10);

	assert_int_equal(push_schedule_parse("1,2,3,4,5,6,7,8,9,10,11", &s), EINVAL);
	assert_int_equal(push_schedule_parse("10s,", &s), EINVAL);
	assert_int_equal(push_schedule_parse(",10s", &s), EINVAL);
	assert_int_equal(push_schedule_parse("10h", &s), EINVAL);
	assert_int_equal(push_schedule_parse("-1", &s), EINVAL);
	assert_int_equal(push_schedule_parse("10 s", &s), EINVAL);
	assert_int_equal(push_schedule_parse("1441m", &s), EINVAL);
	assert_int_equal(push_schedule_parse("99999999999999999999", &s), EINVAL);
	assert_int_equal(push_schedule_parse(NULL, &s), EINVAL);
}

static void test_events(void **state)
{
	unsigned e;
	char buf[64];

	(void)state;
	assert_int_equal(push_events_parse("cdr", &e), 0);
	assert_int_equal(e, STORE_PUSH_CDR);
	assert_int_equal(push_events_parse("voicemail,cdr,record,event", &e), 0);
	assert_int_equal(e, STORE_PUSH_CDR | STORE_PUSH_RECORD | STORE_PUSH_VOICEMAIL |
			    STORE_PUSH_EVENT);
	push_events_format(e, buf, sizeof(buf));
	assert_string_equal(buf, "cdr,record,voicemail,event");
	assert_int_equal(push_events_parse("", &e), 0);
	assert_int_equal(e, 0);
	push_events_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(push_events_parse("cdr,", &e), EINVAL);
	assert_int_equal(push_events_parse("cdr,,record", &e), EINVAL);
	assert_int_equal(push_events_parse("cdrs", &e), EINVAL);
	assert_int_equal(push_events_parse("CDR", &e), EINVAL);
}

static void test_token_reply(void **state)
{
	char tok[64], why[128];
	int64_t exp;

#define TP(s) push_token_parse(s, strlen(s), tok, sizeof(tok), &exp, why, sizeof(why))
	(void)state;
	assert_int_equal(TP("{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
			    "\"expires_in\":3600}"), 0);
	assert_string_equal(tok, "abc");
	assert_int_equal(exp, 3600);
	assert_int_equal(TP("{\"access_token\":\"x.y\",\"token_type\":\"bearer\"}"), 0);
	assert_int_equal(exp, 0);
	assert_int_equal(TP("{\"access_token\":\"t\",\"expires_in\":\"120\"}"), 0);
	assert_int_equal(exp, 120);
	assert_int_equal(TP("{\"access_token\":\"t\",\"expires_in\":-5}"), 0);
	assert_int_equal(exp, 0);

	assert_int_equal(TP("{\"token_type\":\"Bearer\"}"), EPROTO);
	assert_string_equal(why, "token reply has no access_token");
	assert_int_equal(TP("{\"access_token\":\"\"}"), EPROTO);
	assert_int_equal(TP("{\"access_token\":\"t\",\"token_type\":\"mac\"}"), EPROTO);
	assert_string_equal(why, "token_type is not Bearer");
	assert_int_equal(TP("{\"access_token\":\"a b\"}"), EPROTO);
	assert_int_equal(TP("{\"access_token\":\"a\\r\\nX: y\"}"), EPROTO);
	assert_int_equal(TP("not json"), EPROTO);
	assert_int_equal(TP("{\"access_token\":\"0123456789012345678901234567890123456789"
			    "012345678901234567890123456789\"}"), EPROTO);
#undef TP
}

static void test_dedupe_key(void **state)
{
	char key[128];

	(void)state;
	push_dedupe_key("s1", "cdr", "{\"SessionId\":\"s1\",\"RecordId\":\"\"}", key,
			sizeof(key));
	assert_string_equal(key, "s1:cdr");
	push_dedupe_key("s1", "record", "{\"RecordId\":\"r9\"}", key, sizeof(key));
	assert_string_equal(key, "s1:record:r9");
	push_dedupe_key("s1", "event", "{\"Event\":\"ringing\",\"Timestamp\":1700000000123}",
			key, sizeof(key));
	assert_string_equal(key, "s1:event:ringing:1700000000123");
	push_dedupe_key("s1", "record", "{\"RecordId\":\"a b\\n\"}", key, sizeof(key));
	assert_string_equal(key, "s1:record:a_b_");
	push_dedupe_key("s1", "cdr", "not json", key, sizeof(key));
	assert_string_equal(key, "s1:cdr");
}

static int conf_read_text(const char *text, struct push_conf *pc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	if (!rc)
		rc = push_conf_read(cf, pc, err);
	if (!rc)
		rc = conf_unused(cf, err);
	mem_deref(cf);
	return rc;
}

static void test_conf_section(void **state)
{
	struct push_conf pc, def;
	struct conf_err err;

	(void)state;
	push_conf_default(&def);
	assert_int_equal(conf_read_text("", &pc, &err), 0);
	assert_memory_equal(&pc, &def, sizeof(pc));
	assert_true(pc.enabled);
	assert_int_equal(pc.concurrency, 64);
	assert_int_equal(pc.poll_ms, 1000);
	assert_int_equal(pc.timeout_ms, 10000);
	assert_int_equal(pc.retry.n, 6);
	assert_int_equal(pc.retry.ms[0], 10000);
	assert_int_equal(pc.retry.ms[1], 60000);
	assert_int_equal(pc.retry.ms[2], 300000);
	assert_int_equal(pc.retry.ms[3], 1800000);
	assert_int_equal(pc.retry.ms[5], 21600000);
	assert_int_equal(pc.event_retry.n, 1);
	assert_int_equal(pc.jitter_pct, 20);
	assert_int_equal(pc.retention_days, 7);
	assert_int_equal(pc.stop_timeout_ms, 2000);
	assert_int_equal(pc.settings_cache_ms, 5000);

	assert_int_equal(conf_read_text("[push]\nenabled = no\nconcurrency = 8\npoll_ms = 50\n"
					"timeout_ms = 500\nretry_schedule = 100ms,200ms\n"
					"event_retry_schedule = none\njitter_percent = 0\n"
					"retention_days = 1\nstop_timeout_ms = 0\n"
					"settings_cache_ms = 0\n", &pc, &err), 0);
	assert_false(pc.enabled);
	assert_int_equal(pc.concurrency, 8);
	assert_int_equal(pc.poll_ms, 50);
	assert_int_equal(pc.timeout_ms, 500);
	assert_int_equal(pc.retry.n, 2);
	assert_int_equal(pc.retry.ms[1], 200);
	assert_int_equal(pc.event_retry.n, 0);
	assert_int_equal(pc.jitter_pct, 0);
	assert_int_equal(pc.retention_days, 1);
	assert_int_equal(pc.stop_timeout_ms, 0);
	assert_int_equal(pc.settings_cache_ms, 0);

	assert_int_equal(conf_read_text("[push]\nretry_schedule = 10s,forever\n", &pc, &err),
			 EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "retry_schedule"));
	assert_int_equal(conf_read_text("[push]\nconcurrency = 0\n", &pc, &err), EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(conf_read_text("[push]\njitter_percent = 101\n", &pc, &err), EINVAL);
	assert_int_equal(conf_read_text("[push]\nretries = 3\n", &pc, &err), EINVAL);
	assert_non_null(strstr(err.msg, "retries"));
}

static void base_settings(struct push_settings *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->sdkappid = 1400000001;
	ps->enabled = true;
	strcpy(ps->url, "http://127.0.0.1:17000/push");
	ps->events = STORE_PUSH_CDR;
}

static void test_settings_check(void **state)
{
	struct push_settings ps;
	char why[160];

#define BAD(field_change) do { base_settings(&ps); field_change; \
	assert_int_equal(push_settings_check(&ps, why, sizeof(why)), EINVAL); \
	assert_true(*why); } while (0)
	(void)state;
	base_settings(&ps);
	assert_int_equal(push_settings_check(&ps, why, sizeof(why)), 0);
	strcpy(ps.url, "https://example.com:8443/a/b?k=v");
	assert_int_equal(push_settings_check(&ps, why, sizeof(why)), 0);
	ps.auth = STORE_PUSH_AUTH_BASIC;
	strcpy(ps.user, "u");
	strcpy(ps.secret, "p:w");
	assert_int_equal(push_settings_check(&ps, why, sizeof(why)), 0);
	ps.auth = STORE_PUSH_AUTH_OAUTH2;
	strcpy(ps.token_url, "https://auth.example.com/token");
	assert_int_equal(push_settings_check(&ps, why, sizeof(why)), 0);

	BAD(ps.sdkappid = 0);
	BAD(strcpy(ps.url, "ftp://h/p"));
	BAD(strcpy(ps.url, "h/p"));
	BAD(strcpy(ps.url, ""));
	BAD(strcpy(ps.url, "http://user:pw@h/p"));
	BAD(strcpy(ps.url, "http://h/p q"));
	BAD(strcpy(ps.url, "http://h/p#frag"));
	BAD(memset(ps.url, 'a', sizeof(ps.url)));
	BAD(ps.events = 1u << 9);
	BAD(ps.timeout_ms = 50);
	BAD(ps.timeout_ms = 300001);
	BAD(ps.retry.n = 11);
	BAD(strcpy(ps.user, "x"));
	BAD(ps.auth = STORE_PUSH_AUTH_BASIC);
	BAD(ps.auth = STORE_PUSH_AUTH_BASIC; strcpy(ps.user, "a:b"));
	BAD(ps.auth = STORE_PUSH_AUTH_OAUTH2; strcpy(ps.user, "id"); strcpy(ps.secret, "s"));
	BAD(ps.auth = STORE_PUSH_AUTH_OAUTH2; strcpy(ps.user, "id");
	    strcpy(ps.token_url, "http://t/"));
	BAD(ps.auth = STORE_PUSH_AUTH_OAUTH2; strcpy(ps.user, "id"); strcpy(ps.secret, "s");
	    strcpy(ps.token_url, "file:///etc/passwd"));
	BAD(ps.auth = 7);
#undef BAD
}

static bool file_contains(const char *path, const char *needle)
{
	static char buf[4 << 20];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp)
		return false;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void test_settings_sealed(void **state)
{
	const char *secret = "Sup3r-Secret-Passw0rd-42";
	struct store_conf sc = {0};
	struct store_instance in = {0};
	struct store_push_conf raw;
	struct push_settings ps, got;
	struct store *st;
	struct tenant *t, *t2;
	char dir[64] = "/tmp/cccd-test-push-XXXXXX", path[128], cmd[128];
	uint64_t acct;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sc.path, sizeof(sc.path), "%s/cccd.db", dir);
	snprintf(path, sizeof(path), "%s/master.key", dir);
	sc.synchronous_full = true;
	assert_int_equal(store_open(&st, &sc), 0);
	assert_int_equal(tenant_open(&t, st, path), 0);
	assert_int_equal(store_account_create(st, "a", &acct), 0);
	in.account_id = acct;
	in.sdkappid = 1400000001;
	assert_int_equal(store_instance_put(st, &in), 0);
	in.sdkappid = 1400000002;
	assert_int_equal(store_instance_put(st, &in), 0);

	base_settings(&ps);
	ps.auth = STORE_PUSH_AUTH_OAUTH2;
	strcpy(ps.user, "client-1");
	strcpy(ps.secret, secret);
	strcpy(ps.token_url, "http://127.0.0.1:17000/token");
	ps.retry_set = true;
	assert_int_equal(push_schedule_parse("100ms,200ms", &ps.retry), 0);
	ps.timeout_ms = 700;
	assert_int_equal(push_settings_put(t, &ps), 0);
	assert_int_equal(push_settings_get(t, 1400000001, &got), 0);
	assert_string_equal(got.secret, secret);
	assert_string_equal(got.user, "client-1");
	assert_string_equal(got.token_url, ps.token_url);
	assert_int_equal(got.auth, STORE_PUSH_AUTH_OAUTH2);
	assert_true(got.retry_set);
	assert_int_equal(got.retry.n, 2);
	assert_int_equal(got.retry.ms[1], 200);
	assert_false(got.event_retry_set);
	assert_int_equal(got.timeout_ms, 700);
	assert_int_equal(push_settings_get(t, 1400000002, &got), ENOENT);

	/* Stored sealed, bound to its instance: copied to another one it does not open. */
	assert_int_equal(store_push_conf_get(st, 1400000001, &raw), 0);
	assert_true(raw.secret_enc_len > strlen(secret));
	assert_null(memmem(raw.secret_enc, raw.secret_enc_len, secret, strlen(secret)));
	raw.sdkappid = 1400000002;
	assert_int_equal(store_push_conf_put(st, &raw), 0);
	assert_int_equal(push_settings_get(t, 1400000002, &got), EIO);

	/* Another master key does not open it either. */
	snprintf(path, sizeof(path), "%s/other.key", dir);
	assert_int_equal(tenant_open(&t2, st, path), 0);
	assert_int_equal(push_settings_get(t2, 1400000001, &got), EIO);
	mem_deref(t2);

	/* Refused settings are not stored; unknown instance. */
	base_settings(&ps);
	strcpy(ps.url, "http://u:p@h/");
	assert_int_equal(push_settings_put(t, &ps), EINVAL);
	base_settings(&ps);
	ps.sdkappid = 5;
	assert_int_equal(push_settings_put(t, &ps), ENOENT);

	/* Nowhere in clear in the files (the WAL while open, then the database). */
	snprintf(path, sizeof(path), "%s/cccd.db-wal", dir);
	assert_false(file_contains(path, secret));
	assert_false(file_contains(sc.path, secret));
	mem_deref(t);
	mem_deref(st);
	assert_false(file_contains(sc.path, secret));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_join),
		cmocka_unit_test(test_reply_rule),
		cmocka_unit_test(test_retry_jitter),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_token_reply),
		cmocka_unit_test(test_dedupe_key),
		cmocka_unit_test(test_conf_section),
		cmocka_unit_test(test_settings_check),
		cmocka_unit_test(test_settings_sealed),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
