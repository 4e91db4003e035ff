/* Unit tests of the callout checks with an injected clock: work-time borders, zones,
 * weekdays, holidays, the callee caps and their windows, blacklists, blind areas,
 * caller choice, AI licences, and the order in which refusals win. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "policy/policy.h"

/* The shipped tables, relative to the repository root (where the tests run). */
#define BLIND_AREAS "data/blind-areas"

/* Writes text to a file called exactly `name` in a fresh temporary folder. */
static void write_temp(char *path, size_t pathsz, const char *name, const char *text)
{
	char dir[] = "/tmp/cccd-test-policy-XXXXXX";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, pathsz, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_temp(const char *path)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	unlink(path);
	rmdir(dir);
}

static struct policy_rules *rules(const char *json)
{
	struct policy_rules *r = NULL;
	char why[256] = "";
	int err = policy_rules_parse(&r, json, strlen(json), why, sizeof(why));

	if (err)
		print_error("%s\n", why);
	assert_int_equal(err, 0);
	return r;
}

/* A Unix instant from a wall-clock time at a fixed UTC offset (hours). */
static int64_t at(int y, int mo, int d, int h, int mi, int s, int utc_off_h)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi, .tm_sec = s};

	return (int64_t)timegm(&tm) - utc_off_h * 3600;
}

/* Beijing time (UTC+8, no DST since 1991). */
static int64_t bj(int y, int mo, int d, int h, int mi, int s)
{
	return at(y, mo, d, h, mi, s, 8);
}

static enum policy_result work(const struct policy_rules *r, enum policy_class cls,
			       int64_t now)
{
	struct policy_verdict v;
	enum policy_result res = policy_check_work_time(r, cls, now, &v);

	assert_int_equal(v.result, res);
	return res;
}

static void test_work_time_borders(void **state)
{
	struct policy_rules *r = rules("{}");
	struct policy_verdict v;

	(void)state;
	/* 2026-03-02 is a Monday. */
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 7, 59, 59)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 8, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 20, 59, 59)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 21, 0, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 0, 0, 0)), POLICY_NOT_WORK_TIME);
	/* Every day by default, weekends included. */
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 7, 12, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 8, 12, 0, 0)), POLICY_OK);
	/* Own numbers: off by default. */
	assert_int_equal(work(r, POLICY_OWN, bj(2026, 3, 2, 3, 0, 0)), POLICY_OK);

	assert_int_equal(policy_check_work_time(r, POLICY_PLATFORM, bj(2026, 3, 2, 21, 0, 0), &v),
			 POLICY_NOT_WORK_TIME);
	assert_string_equal(v.msg, "Mon 2026-03-02 21:00:00 (Asia/Shanghai) is outside "
			    "work_time.windows");
	mem_deref(r);

	/* Disabled: any hour. */
	r = rules("{\"work_time\": {\"enabled\": false}}");
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 3, 0, 0)), POLICY_OK);
	mem_deref(r);

	/* A window to the end of the day, and one from midnight (two halves of a night). */
	r = rules("{\"work_time\": {\"windows\": [{\"start\": \"22:00\", \"end\": \"24:00\"},"
		  " {\"start\": \"00:00\", \"end\": \"02:00\"}]}}");
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 21, 59, 59)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 22, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 23, 59, 59)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 3, 0, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 3, 1, 59, 59)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 3, 2, 0, 0)), POLICY_NOT_WORK_TIME);
	mem_deref(r);
}

static void test_work_time_zones(void **state)
{
	struct policy_rules *sh = rules("{}");
	struct policy_rules *ldn = rules("{\"work_time\": {\"zone\": \"Europe/London\"}}");
	struct policy_rules *ny = rules("{\"work_time\": {\"zone\": \"America/New_York\"}}");
	struct policy_rules *kol = rules("{\"work_time\": {\"zone\": \"Asia/Kolkata\"}}");
	int64_t t;

	(void)state;
	/* One instant: 09:00 in Beijing is 01:00 in London (winter) and 20:00 the day
	 * before in New York. */
	t = bj(2026, 1, 15, 9, 0, 0);
	assert_int_equal(work(sh, POLICY_PLATFORM, t), POLICY_OK);
	assert_int_equal(work(ldn, POLICY_PLATFORM, t), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(ny, POLICY_PLATFORM, t), POLICY_OK);
	/* London in summer (BST, UTC+1): 08:00 local is 07:00 UTC. */
	assert_int_equal(work(ldn, POLICY_PLATFORM, at(2026, 7, 1, 6, 59, 59, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(ldn, POLICY_PLATFORM, at(2026, 7, 1, 7, 0, 0, 0)), POLICY_OK);
	/* ... and in winter (GMT) 08:00 local is 08:00 UTC. */
	assert_int_equal(work(ldn, POLICY_PLATFORM, at(2026, 1, 5, 7, 59, 59, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(ldn, POLICY_PLATFORM, at(2026, 1, 5, 8, 0, 0, 0)), POLICY_OK);
	/* Kolkata, UTC+5:30: 21:00 local is 15:30 UTC. */
	assert_int_equal(work(kol, POLICY_PLATFORM, at(2026, 1, 5, 15, 29, 59, 0)), POLICY_OK);
	assert_int_equal(work(kol, POLICY_PLATFORM, at(2026, 1, 5, 15, 30, 0, 0)), POLICY_NOT_WORK_TIME);
	mem_deref(sh);
	mem_deref(ldn);
	mem_deref(ny);
	mem_deref(kol);
}

static void test_work_time_days_and_holidays(void **state)
{
	struct policy_rules *r;
	struct policy_verdict v;

	(void)state;
	r = rules("{\"work_time\": {\"windows\": ["
		  "{\"days\": [\"Mon-Fri\"], \"start\": \"09:00\", \"end\": \"18:00\"},"
		  "{\"days\": [\"Sat\"], \"start\": \"10:00\", \"end\": \"12:00\"}],"
		  " \"holidays\": [\"2026-10-01\", \"2026-10-02\"]}}");
	/* 2026-03-02 Mon ... 2026-03-08 Sun. */
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 2, 12, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 6, 17, 59, 59)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 6, 18, 0, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 7, 9, 30, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 7, 10, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 8, 12, 0, 0)), POLICY_NOT_WORK_TIME);
	/* Holidays are local dates: 2026-10-01 is a Thursday. */
	assert_int_equal(policy_check_work_time(r, POLICY_PLATFORM, bj(2026, 10, 1, 12, 0, 0), &v),
			 POLICY_NOT_WORK_TIME);
	assert_non_null(strstr(v.msg, "Thu 2026-10-01 12:00:00 (Asia/Shanghai) is a holiday"));
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 10, 2, 12, 0, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 10, 5, 12, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 9, 30, 12, 0, 0)), POLICY_OK);
	mem_deref(r);
	/* The flows' ISO day numbers mean the same days here (src/hours): 6 is Saturday. */
	r = rules("{\"work_time\": {\"windows\": ["
		  "{\"days\": [6], \"start\": \"10:00\", \"end\": \"12:00\"}]}}");
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 7, 10, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 8, 10, 0, 0)), POLICY_NOT_WORK_TIME);
	mem_deref(r);

	/* A wrapping range, and a holiday starting at local (not UTC) midnight. */
	r = rules("{\"work_time\": {\"windows\": [{\"days\": [\"Sat-Mon\"], \"start\": \"00:00\","
		  " \"end\": \"24:00\"}], \"holidays\": [\"2026-03-09\"]}}");
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 7, 0, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 8, 23, 59, 59)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 9, 0, 0, 0)), POLICY_NOT_WORK_TIME);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 16, 0, 0, 0)), POLICY_OK);
	assert_int_equal(work(r, POLICY_PLATFORM, bj(2026, 3, 10, 12, 0, 0)), POLICY_NOT_WORK_TIME);
	mem_deref(r);
}

/* What the store would count: calls whose start is >= since. */
static uint32_t count_since(const int64_t *calls, size_t n, int64_t since)
{
	uint32_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += calls[i] >= since;
	return k;
}

static struct policy_static static_ok(void)
{
	struct policy_static st;

	memset(&st, 0, sizeof(st));
	return st;
}

static enum policy_result decide(const struct policy_rules *r, const struct policy_static *st,
				 uint32_t interval, uint32_t daily,
				 const struct policy_caller *callers, size_t n, size_t *chosen,
				 struct policy_verdict *v)
{
	struct policy_counts c = {.callee_interval = interval, .callee_daily = daily,
				  .callers = callers, .n_callers = n};
	enum policy_result res = policy_check_counters(r, st, &c, chosen, v);

	assert_int_equal(v->result, res);
	return res;
}

static void test_callee_caps(void **state)
{
	struct policy_rules *r = rules("{}");
	struct policy_static st = static_ok();
	struct policy_caller one = {POLICY_PLATFORM, 0, 0};
	struct policy_verdict v;
	size_t chosen = 99;

	(void)state;
	/* 3 per 300 s: the 3rd call passes (2 counted), the 4th is refused (3 counted). */
	assert_int_equal(decide(r, &st, 2, 2, &one, 1, &chosen, &v), POLICY_OK);
	assert_int_equal(chosen, 0);
	assert_int_equal(decide(r, &st, 3, 3, &one, 1, &chosen, &v), POLICY_CALLEE_INTERVAL);
	assert_string_equal(v.msg, "callee called 3 times in the last 300 s, limit 3");
	/* 5 per 24 h. */
	assert_int_equal(decide(r, &st, 0, 4, &one, 1, &chosen, &v), POLICY_OK);
	assert_int_equal(decide(r, &st, 0, 5, &one, 1, &chosen, &v), POLICY_CALLEE_DAILY);
	assert_string_equal(v.msg, "callee called 5 times in the last 24 h, limit 5");
	/* Both over: the interval check comes first. */
	assert_int_equal(decide(r, &st, 3, 5, &one, 1, &chosen, &v), POLICY_CALLEE_INTERVAL);
	/* With no caller at all, the callee caps still come before NoCallOutNumber. */
	assert_int_equal(decide(r, &st, 0, 5, NULL, 0, &chosen, &v), POLICY_CALLEE_DAILY);
	assert_int_equal(decide(r, &st, 0, 0, NULL, 0, &chosen, &v), POLICY_NO_CALLER);
	/* Own numbers have no callee caps by default. */
	one.cls = POLICY_OWN;
	assert_int_equal(decide(r, &st, 100, 100, &one, 1, &chosen, &v), POLICY_OK);
	mem_deref(r);

	r = rules("{\"callee_daily\": {\"max\": 2, \"mode\": \"calendar\"}}");
	one.cls = POLICY_PLATFORM;
	assert_int_equal(decide(r, &st, 0, 2, &one, 1, &chosen, &v), POLICY_CALLEE_DAILY);
	assert_string_equal(v.msg, "callee called 2 times today (Asia/Shanghai), limit 2");
	mem_deref(r);

	/* 0 = no limit. */
	r = rules("{\"callee_interval\": {\"max\": 0}, \"callee_daily\": {\"max\": 0}}");
	assert_int_equal(decide(r, &st, 1000, 1000, &one, 1, &chosen, &v), POLICY_OK);
	mem_deref(r);
}

static void test_windows_slide(void **state)
{
	struct policy_rules *r = rules("{}");
	struct policy_windows w;
	const int64_t t = bj(2026, 3, 2, 10, 0, 0);
	const int64_t calls[] = {t, t + 10, t + 20};

	(void)state;
	/* Rolling interval (300 s): a call drops out exactly 300 s after it started. */
	assert_int_equal(policy_windows(r, t + 299, &w), 0);
	assert_int_equal(count_since(calls, 3, w.callee_interval_since), 3);
	assert_int_equal(policy_windows(r, t + 300, &w), 0);
	assert_int_equal(count_since(calls, 3, w.callee_interval_since), 2);
	assert_int_equal(policy_windows(r, t + 320, &w), 0);
	assert_int_equal(count_since(calls, 3, w.callee_interval_since), 0);
	/* Rolling 24 h. */
	assert_int_equal(policy_windows(r, t + 86399, &w), 0);
	assert_int_equal(count_since(calls, 3, w.callee_daily_since), 3);
	assert_int_equal(policy_windows(r, t + 86400, &w), 0);
	assert_int_equal(count_since(calls, 3, w.callee_daily_since), 2);
	/* Caller frequency off: counts nothing. */
	assert_int_equal(count_since(calls, 3, w.caller_since), 0);
	mem_deref(r);

	r = rules("{\"caller_freq\": {\"max\": 2, \"window_s\": 60}}");
	assert_int_equal(policy_windows(r, t + 59, &w), 0);
	assert_int_equal(count_since(calls, 3, w.caller_since), 3);
	assert_int_equal(policy_windows(r, t + 60, &w), 0);
	assert_int_equal(count_since(calls, 3, w.caller_since), 2);
	mem_deref(r);
}

static void test_calendar_day(void **state)
{
	struct policy_rules *r = rules("{\"callee_daily\": {\"mode\": \"calendar\"}}");
	struct policy_rules *ny = rules("{\"callee_daily\": {\"mode\": \"calendar\"},"
					" \"work_time\": {\"zone\": \"America/New_York\"}}");
	struct policy_windows w;
	const int64_t calls[] = {bj(2026, 3, 2, 9, 0, 0), bj(2026, 3, 2, 23, 59, 59)};

	(void)state;
	assert_int_equal(policy_windows(r, bj(2026, 3, 2, 23, 59, 59), &w), 0);
	assert_int_equal(w.callee_daily_since, bj(2026, 3, 2, 0, 0, 0));
	assert_int_equal(count_since(calls, 2, w.callee_daily_since), 2);
	/* Local midnight resets the count. */
	assert_int_equal(policy_windows(r, bj(2026, 3, 3, 0, 0, 0), &w), 0);
	assert_int_equal(w.callee_daily_since, bj(2026, 3, 3, 0, 0, 0));
	assert_int_equal(count_since(calls, 2, w.callee_daily_since), 0);
	/* In New York on the day DST starts (2026-03-08), the day began at 00:00 EST. */
	assert_int_equal(policy_windows(ny, at(2026, 3, 8, 12, 0, 0, -4), &w), 0);
	assert_int_equal(w.callee_daily_since, at(2026, 3, 8, 0, 0, 0, -5));
	mem_deref(r);
	mem_deref(ny);
}

static struct policy_data *data_with(const char *extra_file_text, const char *name)
{
	struct policy_data *d = NULL;
	char why[256] = "", path[128];
	int err;

	assert_int_equal(policy_data_alloc(&d), 0);
	err = policy_data_load_locations(d, BLIND_AREAS, why, sizeof(why));
	if (err)
		print_error("%s\n", why);
	assert_int_equal(err, 0);
	if (extra_file_text) {
		write_temp(path, sizeof(path), name, extra_file_text);
		err = policy_data_load_locations(d, path, why, sizeof(why));
		remove_temp(path);
		if (err)
			print_error("%s\n", why);
		assert_int_equal(err, 0);
	}
	return d;
}

static enum policy_result blind(const struct policy_rules *r, const struct policy_data *d,
				const char *callee)
{
	struct policy_verdict v;
	enum policy_result res = policy_check_blind_area(r, d, POLICY_PLATFORM, callee, &v);

	assert_int_equal(v.result, res);
	return res;
}

static void expect_region(const struct policy_data *d, const char *number, int err,
			  const char *want)
{
	char region[16];

	assert_int_equal(policy_data_region(d, number, region, sizeof(region)), err);
	if (!err)
		assert_string_equal(region, want);
}

static void test_blind_areas(void **state)
{
	struct policy_rules *r = rules("{}");
	struct policy_rules *deny = rules("{\"blind_area\": {\"unknown_location\": \"deny\"}}");
	struct policy_rules *uk = rules("{\"blind_area\": {\"regions\": [\"CC-44\"]}}");
	struct policy_data *d = data_with("# operator H-code segments\n"
					  "+861389910 CN-XJ\n"
					  "00861380013 CN-BJ   # Beijing\n"
					  "00861390891\tCN-XZ\n", "mobile.txt");
	struct policy_verdict v;

	(void)state;
	/* Shipped fixed-line tables. */
	expect_region(d, "00869911234567", 0, "CN-XJ");
	expect_region(d, "00869011234567", 0, "CN-XJ");
	expect_region(d, "00868911234567", 0, "CN-XZ");
	expect_region(d, "00868971234567", 0, "CN-XZ");
	expect_region(d, "00861088886666", 0, "");
	expect_region(d, "00869041234567", 0, "");     /* 904: not a Xinjiang code */
	expect_region(d, "00864001234567", 0, "");     /* 400 never has an area */
	/* Operator mobile table: longest prefix; uncovered mobiles are unknown. */
	expect_region(d, "008613899101234", 0, "CN-XJ");
	expect_region(d, "008613800138000", 0, "CN-BJ");
	expect_region(d, "008613908911234", 0, "CN-XZ");
	expect_region(d, "008613700000000", ENOENT, "");
	expect_region(d, "00442079460958", 0, "CC-44");
	expect_region(NULL, "00869911234567", 0, "");  /* no tables */
	expect_region(NULL, "008613700000000", ENOENT, "");
	expect_region(d, "13800138000", EINVAL, "");

	assert_int_equal(policy_check_blind_area(r, d, POLICY_PLATFORM, "00869911234567", &v),
			 POLICY_BLIND_AREA);
	assert_string_equal(v.msg, "callee 00869911234567 is in blind area CN-XJ");
	assert_int_equal(blind(r, d, "00868911234567"), POLICY_BLIND_AREA);
	assert_int_equal(blind(r, d, "008613899101234"), POLICY_BLIND_AREA);
	assert_int_equal(blind(r, d, "008613908911234"), POLICY_BLIND_AREA);
	assert_int_equal(blind(r, d, "00861088886666"), POLICY_OK);
	assert_int_equal(blind(r, d, "008613800138000"), POLICY_OK);
	assert_int_equal(blind(r, d, "00442079460958"), POLICY_OK);
	/* Unknown location: allowed by default, refused with deny. */
	assert_int_equal(blind(r, d, "008613700000000"), POLICY_OK);
	assert_int_equal(blind(deny, d, "008613700000000"), POLICY_BLIND_AREA);
	assert_int_equal(blind(deny, d, "008613800138000"), POLICY_OK);
	assert_int_equal(blind(deny, d, "00864001234567"), POLICY_OK);
	assert_int_equal(blind(deny, d, "00861088886666"), POLICY_OK);
	/* Other countries as regions. */
	assert_int_equal(blind(uk, d, "00442079460958"), POLICY_BLIND_AREA);
	assert_int_equal(blind(uk, d, "00869911234567"), POLICY_OK);
	/* Own numbers: off by default. */
	assert_int_equal(policy_check_blind_area(r, d, POLICY_OWN, "00869911234567", &v), POLICY_OK);
	/* Not normalised: refused, never dialled. */
	assert_int_equal(blind(r, d, "13800138000"), POLICY_BLIND_AREA);
	mem_deref(r);
	mem_deref(deny);
	mem_deref(uk);
	mem_deref(d);
}

static void load_fails(const char *name, const char *text, const char *needle)
{
	struct policy_data *d = NULL;
	char why[256] = "", path[128];

	write_temp(path, sizeof(path), name, text);
	assert_int_equal(policy_data_alloc(&d), 0);
	assert_int_equal(policy_data_load_locations(d, path, why, sizeof(why)), EINVAL);
	remove_temp(path);
	if (!strstr(why, needle))
		print_error("got '%s', want '%s'\n", why, needle);
	assert_non_null(strstr(why, needle));
	mem_deref(d);
}

static void test_location_file_errors(void **state)
{
	struct policy_data *d = NULL;
	char why[256];

	(void)state;
	load_fails("x.txt", "0086991\n", "x.txt:1: no region");
	load_fails("CN-XJ.txt", "0086991\n991\n", "CN-XJ.txt:2: '991': prefixes are international");
	load_fails("CN-XJ.txt", "0086991 xj\n", ":1: 'xj' is not a region code");
	load_fails("CN-XJ.txt", "0086991 CN-XJ extra\n", ":1: expected 'prefix [region]'");
	load_fails("CN-XJ.txt", "\n# c\n0086991*\n", ":3: bad prefix: no '*'");
	load_fails("CN-XJ.txt", "008699a\n", ":1: bad prefix");
	load_fails("CN-XJ.txt", "+9991\n", ":1: bad prefix");
	load_fails("m.txt", "0086991 CN-XJ\n+86991 CN-XZ\n", "prefix 0086991 is both");
	assert_int_equal(policy_data_alloc(&d), 0);
	assert_int_equal(policy_data_load_locations(d, "/nonexistent/x", why, sizeof(why)),
			 ENOENT);
	assert_non_null(strstr(why, "/nonexistent/x"));
	/* The same entry twice is harmless. */
	assert_int_equal(policy_data_load_locations(d, BLIND_AREAS, why, sizeof(why)), 0);
	assert_int_equal(policy_data_load_locations(d, BLIND_AREAS, why, sizeof(why)), 0);
	mem_deref(d);
}

static enum policy_result black(const struct policy_rules *r, const struct policy_data *d,
				enum policy_class cls, const char *callee, char *msg)
{
	struct policy_verdict v;
	enum policy_result res = policy_check_blacklist(r, d, cls, callee, &v);

	if (msg)
		strcpy(msg, v.msg);
	return res;
}

static void test_blacklist(void **state)
{
	struct policy_rules *r = rules("{\"blacklist\": {\"entries\": [\"138 0013 8000\","
				       " \"+86 170*\", \"0991*\", \"+44 20*\"]}}");
	struct policy_rules *off = rules("{\"blacklist\": {\"enabled\": false, \"entries\":"
					 " [\"13800138000\"]}, \"own\": {\"blacklist\":"
					 " {\"enabled\": true}}}");
	struct policy_data *d = NULL;
	char msg[192], why[256], path[128];

	(void)state;
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "008613800138000", msg),
			 POLICY_CALLEE_BLACKLISTED);
	assert_string_equal(msg, "callee 008613800138000 is on the instance blacklist "
			    "(entry 008613800138000)");
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "008617012345678", msg),
			 POLICY_CALLEE_BLACKLISTED);
	assert_string_equal(msg, "callee 008617012345678 is on the instance blacklist "
			    "(entry 0086170*)");
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "00869911234567", NULL),
			 POLICY_CALLEE_BLACKLISTED);
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "00442079460958", NULL),
			 POLICY_CALLEE_BLACKLISTED);
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "008613800138001", NULL), POLICY_OK);
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "008617112345678", NULL), POLICY_OK);
	assert_int_equal(black(r, NULL, POLICY_PLATFORM, "00441612345678", NULL), POLICY_OK);
	/* The blacklist applies to own numbers too by default. */
	assert_int_equal(black(r, NULL, POLICY_OWN, "008613800138000", NULL),
			 POLICY_CALLEE_BLACKLISTED);
	/* Per-class switches. */
	assert_int_equal(black(off, NULL, POLICY_PLATFORM, "008613800138000", NULL), POLICY_OK);
	assert_int_equal(black(off, NULL, POLICY_OWN, "008613800138000", NULL),
			 POLICY_CALLEE_BLACKLISTED);

	/* The global list. */
	write_temp(path, sizeof(path), "global.txt", "# operator-wide risk list\n"
		   "+86 139 0013 9000\n\n0086 150*  # a whole segment\n");
	assert_int_equal(policy_data_alloc(&d), 0);
	assert_int_equal(policy_data_load_blacklist(d, path, why, sizeof(why)), 0);
	remove_temp(path);
	assert_int_equal(black(r, d, POLICY_PLATFORM, "008613900139000", msg),
			 POLICY_CALLEE_BLACKLISTED);
	assert_string_equal(msg, "callee 008613900139000 is on the global blacklist "
			    "(entry 008613900139000)");
	assert_int_equal(black(r, d, POLICY_PLATFORM, "008615012345678", NULL),
			 POLICY_CALLEE_BLACKLISTED);
	assert_int_equal(black(r, d, POLICY_PLATFORM, "008615112345678", NULL), POLICY_OK);
	mem_deref(d);

	write_temp(path, sizeof(path), "bad.txt", "13800138000\n10086\n");
	assert_int_equal(policy_data_alloc(&d), 0);
	assert_int_equal(policy_data_load_blacklist(d, path, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "bad.txt:2: '10086' is not a number cccd can call"));
	remove_temp(path);
	mem_deref(d);
	mem_deref(r);
	mem_deref(off);
}

static void test_caller_choice(void **state)
{
	struct policy_rules *r = rules("{\"caller_freq\": {\"max\": 2, \"window_s\": 60}}");
	struct policy_static st = static_ok();
	struct policy_caller c[3] = {
		{POLICY_PLATFORM, 1, 0},  /* busy: concurrency 1 */
		{POLICY_PLATFORM, 0, 2},  /* over frequency: 2 per 60 s */
		{POLICY_PLATFORM, 0, 1},
	};
	struct policy_verdict v;
	size_t chosen = 99;

	(void)state;
	assert_int_equal(decide(r, &st, 0, 0, c, 3, &chosen, &v), POLICY_OK);
	assert_int_equal(chosen, 2);
	/* The first usable one in order wins. */
	c[0].live = 0;
	assert_int_equal(decide(r, &st, 0, 0, c, 3, &chosen, &v), POLICY_OK);
	assert_int_equal(chosen, 0);
	/* All at their limits. */
	c[0].live = 1;
	c[2].live = 5;
	assert_int_equal(decide(r, &st, 0, 0, c, 3, &chosen, &v), POLICY_CALLER_OVER_FREQUENCY);
	assert_string_equal(v.msg, "all 3 caller candidates are at their limits (caller "
			    "candidate 1 has 1 live calls, limit 1)");
	assert_int_equal(decide(r, &st, 0, 0, &c[1], 1, &chosen, &v), POLICY_CALLER_OVER_FREQUENCY);
	assert_string_equal(v.msg, "caller candidate 1 placed 2 calls in the last 60 s, limit 2");
	/* No candidate. */
	assert_int_equal(decide(r, &st, 0, 0, NULL, 0, &chosen, &v), POLICY_NO_CALLER);
	/* Own numbers: unlimited concurrency by default. */
	c[0].cls = POLICY_OWN;
	assert_int_equal(decide(r, &st, 0, 0, c, 3, &chosen, &v), POLICY_OK);
	assert_int_equal(chosen, 0);
	mem_deref(r);

	r = rules("{\"caller_concurrency\": 0}");
	c[0] = (struct policy_caller){POLICY_PLATFORM, 1000, 1000};
	assert_int_equal(decide(r, &st, 0, 0, c, 1, &chosen, &v), POLICY_OK);
	mem_deref(r);
}

static void test_static_and_order(void **state)
{
	struct policy_rules *r = rules("{\"blacklist\": {\"entries\": [\"0991*\"]}}");
	struct policy_data *d = data_with(NULL, NULL);
	struct policy_static st;
	struct policy_caller plat = {POLICY_PLATFORM, 0, 0}, own = {POLICY_OWN, 0, 0};
	struct policy_caller both[2] = {{POLICY_PLATFORM, 0, 0}, {POLICY_OWN, 0, 0}};
	const int64_t night = bj(2026, 3, 2, 3, 0, 0), day = bj(2026, 3, 2, 10, 0, 0);
	struct policy_verdict v;
	size_t chosen = 99;

	(void)state;
	/* Blacklisted, in a blind area and at night: the blacklist answers. */
	assert_int_equal(policy_check_static(r, d, "00869911234567", night, &st),
			 POLICY_CALLEE_BLACKLISTED);
	/* Blind area and night: the blind area answers for platform numbers; own numbers
	 * skip both, so some class passes and the counters decide. */
	assert_int_equal(policy_check_static(r, d, "00869021234567", night, &st), POLICY_OK);
	assert_int_equal(st.cls[POLICY_PLATFORM].result, POLICY_BLIND_AREA);
	assert_int_equal(st.cls[POLICY_OWN].result, POLICY_OK);
	assert_int_equal(decide(r, &st, 0, 0, &plat, 1, &chosen, &v), POLICY_BLIND_AREA);
	assert_int_equal(decide(r, &st, 0, 0, &own, 1, &chosen, &v), POLICY_OK);
	assert_int_equal(decide(r, &st, 0, 0, both, 2, &chosen, &v), POLICY_OK);
	assert_int_equal(chosen, 1);
	/* No candidate: the platform verdict comes before NoCallOutNumber. */
	assert_int_equal(decide(r, &st, 0, 0, NULL, 0, &chosen, &v), POLICY_BLIND_AREA);
	/* Night only. */
	assert_int_equal(policy_check_static(r, d, "008613800138000", night, &st), POLICY_OK);
	assert_int_equal(st.cls[POLICY_PLATFORM].result, POLICY_NOT_WORK_TIME);
	assert_int_equal(decide(r, &st, 0, 0, &plat, 1, &chosen, &v), POLICY_NOT_WORK_TIME);
	assert_string_equal(v.msg, "Mon 2026-03-02 03:00:00 (Asia/Shanghai) is outside "
			    "work_time.windows");
	/* Mixed refusals: the one furthest down the pipeline answers (the platform number
	 * is closed, the own number is busy -> CallerOverFrequency). */
	both[1].live = 1;
	{
		struct policy_rules *r2 = rules("{\"own\": {\"caller_concurrency\": 1}}");

		assert_int_equal(policy_check_static(r2, d, "008613800138000", night, &st),
				 POLICY_OK);
		assert_int_equal(decide(r2, &st, 0, 0, both, 2, &chosen, &v),
				 POLICY_CALLER_OVER_FREQUENCY);
		mem_deref(r2);
	}
	/* In the day everything passes; the pre-check with zero counts equals the answer
	 * for every count-free refusal. */
	assert_int_equal(policy_check_static(r, d, "008613800138000", day, &st), POLICY_OK);
	assert_int_equal(decide(r, &st, 0, 0, &plat, 1, &chosen, &v), POLICY_OK);
	assert_int_equal(decide(r, &st, 3, 0, &plat, 1, &chosen, &v), POLICY_CALLEE_INTERVAL);
	mem_deref(r);
	mem_deref(d);
}

static void test_ai_and_licence(void **state)
{
	struct policy_rules *r = rules("{}");
	struct policy_static st = static_ok();
	struct policy_caller one = {POLICY_PLATFORM, 0, 0};
	struct policy_counts c = {.callers = &one, .n_callers = 1, .ai_needed = true};
	struct policy_verdict v;
	size_t chosen;

	(void)state;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v), POLICY_AI_NO_PACKAGE);
	c.ai_licences = 2;
	c.ai_in_use = 1;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v), POLICY_OK);
	c.ai_in_use = 2;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v), POLICY_AI_OVER_FREQUENCY);
	assert_string_equal(v.msg, "all 2 AI channels are in use");
	/* Licences lowered at run time below the sessions already live. */
	c.ai_in_use = 5;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v), POLICY_AI_OVER_FREQUENCY);
	/* Taking licences away entirely is "no package", even with AI sessions live. */
	c.ai_licences = 0;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v), POLICY_AI_NO_PACKAGE);
	assert_string_equal(v.msg, "the IVR uses AI and the instance has no AI licence");
	c.ai_licences = 2;
	c.ai_in_use = 2;
	/* A callee cap refuses first: AI is the last step. */
	{
		struct policy_rules *capped =
			rules("{\"callee_interval\": {\"max\": 1, \"window_s\": 60}}");
		struct policy_counts cc = c;

		cc.callee_interval = 1;
		assert_int_equal(policy_check_counters(capped, &st, &cc, &chosen, &v),
				 POLICY_CALLEE_INTERVAL);
		mem_deref(capped);
	}
	/* Caller choice comes before AI. */
	one.live = 1;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v),
			 POLICY_CALLER_OVER_FREQUENCY);
	/* An IVR without AI needs no licence. */
	one.live = 0;
	c.ai_needed = false;
	c.ai_licences = 0;
	assert_int_equal(policy_check_counters(r, &st, &c, &chosen, &v), POLICY_OK);
	mem_deref(r);

	assert_int_equal(policy_check_licence(false, 0, 1000, &v), POLICY_PERMISSION_DENIED);
	assert_int_equal(policy_check_licence(true, 0, 1000, &v), POLICY_OK);
	assert_int_equal(policy_check_licence(true, 1001, 1000, &v), POLICY_OK);
	assert_int_equal(policy_check_licence(true, 1000, 1000, &v), POLICY_PACKAGE_EXPIRED);
	assert_int_equal(policy_check_licence(true, 1000, 1000, NULL), POLICY_PACKAGE_EXPIRED);
}

static void test_codes(void **state)
{
	(void)state;
	assert_string_equal(policy_result_code(POLICY_OK), "");
	assert_string_equal(policy_result_code(POLICY_CALLEE_BLACKLISTED),
			    "FailedOperation.CalleeIsBlackUser");
	assert_string_equal(policy_result_code(POLICY_BLIND_AREA),
			    "FailedOperation.CalloutRuleBlindArea");
	assert_string_equal(policy_result_code(POLICY_NOT_WORK_TIME),
			    "FailedOperation.CalloutRuleNotWorkTime");
	assert_string_equal(policy_result_code(POLICY_CALLEE_INTERVAL),
			    "FailedOperation.CalloutRuleMaxCallCountCalleeIntervalTime");
	assert_string_equal(policy_result_code(POLICY_CALLEE_DAILY),
			    "FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID");
	assert_string_equal(policy_result_code(POLICY_NO_CALLER), "FailedOperation.NoCallOutNumber");
	assert_string_equal(policy_result_code(POLICY_CALLER_OVER_FREQUENCY),
			    "FailedOperation.CallerOverFrequency");
	assert_string_equal(policy_result_code(POLICY_AI_NO_PACKAGE),
			    "FailedOperation.AIConcurrentNoPackage");
	assert_string_equal(policy_result_code(POLICY_AI_OVER_FREQUENCY),
			    "FailedOperation.AIConcurrentOverFrequency");
	assert_string_equal(policy_result_code(POLICY_PERMISSION_DENIED),
			    "FailedOperation.PermissionDenied");
	assert_string_equal(policy_result_code(POLICY_PACKAGE_EXPIRED),
			    "LimitExceeded.BasePackageExpired");
	assert_int_equal(policy_result_end_status(POLICY_CALLEE_BLACKLISTED), 108);
	assert_int_equal(policy_result_end_status(POLICY_CALLEE_INTERVAL), 109);
	assert_int_equal(policy_result_end_status(POLICY_CALLEE_DAILY), 109);
	assert_int_equal(policy_result_end_status(POLICY_CALLER_OVER_FREQUENCY), 109);
	assert_int_equal(policy_result_end_status(POLICY_BLIND_AREA), 110);
	assert_int_equal(policy_result_end_status(POLICY_NOT_WORK_TIME), 111);
	assert_int_equal(policy_result_end_status(POLICY_NO_CALLER), 0);
}

static void test_demo_rules(void **state)
{
	struct policy_rules *r;
	struct policy_static st;
	struct policy_caller one = {POLICY_PLATFORM, 50, 50};
	struct policy_verdict v;
	size_t chosen;

	(void)state;
	assert_int_equal(policy_rules_demo(&r), 0);
	assert_int_equal(policy_check_static(r, NULL, "008613800138000", bj(2026, 3, 2, 3, 0, 0),
					     &st), POLICY_OK);
	assert_int_equal(decide(r, &st, 100, 100, &one, 1, &chosen, &v), POLICY_OK);
	mem_deref(r);
}

/* The counts the limits read: platform defaults cap the callee and a caller's calls in
 * progress; a limit set only for own numbers still needs its count; all off needs none. */
static void test_windows_used(void **state)
{
	struct policy_rules *r = rules("{}");
	struct policy_windows w;

	(void)state;
	assert_int_equal(policy_windows(r, bj(2026, 3, 2, 10, 0, 0), &w), 0);
	assert_true(w.callee_interval_used && w.callee_daily_used && w.caller_live_used);
	assert_false(w.caller_recent_used);
	mem_deref(r);

	assert_int_equal(policy_rules_demo(&r), 0);
	assert_int_equal(policy_windows(r, bj(2026, 3, 2, 10, 0, 0), &w), 0);
	assert_false(w.callee_interval_used || w.callee_daily_used || w.caller_live_used ||
		     w.caller_recent_used);
	mem_deref(r);

	r = rules("{\"callee_interval\": {\"max\": 0}, \"callee_daily\": {\"max\": 0},"
		  " \"caller_concurrency\": 0,"
		  " \"caller_freq\": {\"window_s\": 60},"
		  " \"own\": {\"caller_freq\": {\"max\": 4}}}");
	assert_int_equal(policy_windows(r, bj(2026, 3, 2, 10, 0, 0), &w), 0);
	assert_false(w.callee_interval_used || w.callee_daily_used || w.caller_live_used);
	assert_true(w.caller_recent_used);
	mem_deref(r);
}

/* The operator's caps ([policy] tenant_channels_max, tenant_minutes_daily_max) bound the
 * tenant's: a tenant cap lowers them, never raises them, and the verdict names which cap
 * refused. */
static void test_operator_caps(void **state)
{
	struct policy_data *d = NULL;
	struct policy_rules *r;
	struct policy_verdict v;
	struct policy_windows w;

	(void)state;
	assert_int_equal(policy_data_alloc(&d), 0);
	policy_data_caps(d, 10, 60);

	/* No tenant caps: the operator's hold, and must be counted. */
	r = rules("{}");
	assert_int_equal(policy_windows(r, bj(2026, 3, 2, 10, 0, 0), &w), 0);
	assert_false(w.caps_channels_used || w.caps_minutes_used);
	policy_rules_operator_caps(r, d);
	assert_int_equal(policy_windows(r, bj(2026, 3, 2, 10, 0, 0), &w), 0);
	assert_true(w.caps_channels_used && w.caps_minutes_used);
	assert_int_equal(policy_check_caps(r, 9, 0, &v), POLICY_OK);
	assert_int_equal(policy_check_caps(r, 10, 0, &v), POLICY_TENANT_CHANNELS);
	assert_non_null(strstr(v.msg, "operator's cap ([policy] tenant_channels_max) is 10"));
	assert_int_equal(policy_check_caps(r, 0, 3600, &v), POLICY_TENANT_MINUTES);
	assert_non_null(strstr(v.msg, "operator's cap ([policy] tenant_minutes_daily_max) is 60"));
	mem_deref(r);

	/* A tenant cap above the operator's does not raise it. */
	r = rules("{\"tenant_caps\": {\"channels\": 50, \"minutes_daily\": 6000}}");
	policy_rules_operator_caps(r, d);
	assert_int_equal(policy_check_caps(r, 10, 0, &v), POLICY_TENANT_CHANNELS);
	assert_non_null(strstr(v.msg, "operator's cap"));
	assert_int_equal(policy_check_caps(r, 0, 3600, &v), POLICY_TENANT_MINUTES);
	assert_non_null(strstr(v.msg, "operator's cap"));
	mem_deref(r);

	/* A lower tenant cap lowers it, and is named as the tenant's. */
	r = rules("{\"tenant_caps\": {\"channels\": 3, \"minutes_daily\": 5}}");
	policy_rules_operator_caps(r, d);
	assert_int_equal(policy_check_caps(r, 3, 0, &v), POLICY_TENANT_CHANNELS);
	assert_non_null(strstr(v.msg, "its cap (tenant_caps.channels) is 3"));
	assert_int_equal(policy_check_caps(r, 0, 300, &v), POLICY_TENANT_MINUTES);
	assert_non_null(strstr(v.msg, "its cap (tenant_caps.minutes_daily) is 5"));
	{
		char *text = NULL;

		/* the tenant's JSON stays its own */
		assert_int_equal(policy_rules_json(r, &text), 0);
		assert_non_null(strstr(text, "\"tenant_caps\":{\"channels\":3,\"minutes_daily\":5}"));
		mem_deref(text);
	}
	mem_deref(r);

	/* Without operator caps (d NULL or 0) the tenant's alone, as before. */
	r = rules("{\"tenant_caps\": {\"channels\": 50}}");
	policy_rules_operator_caps(r, NULL);
	assert_int_equal(policy_check_caps(r, 49, 1000000, &v), POLICY_OK);
	assert_int_equal(policy_check_caps(r, 50, 0, &v), POLICY_TENANT_CHANNELS);
	mem_deref(r);
	mem_deref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operator_caps),
		cmocka_unit_test(test_windows_used),
		cmocka_unit_test(test_work_time_borders),
		cmocka_unit_test(test_work_time_zones),
		cmocka_unit_test(test_work_time_days_and_holidays),
		cmocka_unit_test(test_callee_caps),
		cmocka_unit_test(test_windows_slide),
		cmocka_unit_test(test_calendar_day),
		cmocka_unit_test(test_blind_areas),
		cmocka_unit_test(test_location_file_errors),
		cmocka_unit_test(test_blacklist),
		cmocka_unit_test(test_caller_choice),
		cmocka_unit_test(test_static_and_order),
		cmocka_unit_test(test_ai_and_licence),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_demo_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
