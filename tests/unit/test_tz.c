/* Unit tests of the TZif reader: known instants, glibc's localtime_r as the reference
 * (run with TZ set in a child process), POSIX footer rules, and malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "tz/tz.h"

static struct tz *load(const char *name)
{
	struct tz *tz = NULL;

	assert_int_equal(tz_load(&tz, name), 0);
	assert_non_null(tz);
	assert_string_equal(tz_name(tz), name);
	return tz;
}

static void expect_local(const struct tz *tz, int64_t t, int year, int mon, int mday,
			 int hour, int min, int sec, long gmtoff, int isdst, const char *abbr)
{
	struct tm tm;

	assert_int_equal(tz_local(tz, t, &tm), 0);
	assert_int_equal(tm.tm_year + 1900, year);
	assert_int_equal(tm.tm_mon + 1, mon);
	assert_int_equal(tm.tm_mday, mday);
	assert_int_equal(tm.tm_hour, hour);
	assert_int_equal(tm.tm_min, min);
	assert_int_equal(tm.tm_sec, sec);
	assert_int_equal(tm.tm_gmtoff, gmtoff);
	assert_int_equal(tm.tm_isdst, isdst);
	assert_string_equal(tm.tm_zone, abbr);
}

static void test_known_instants(void **state)
{
	struct tz *tz;
	struct tm tm;

	(void)state;

	/* Europe/London: BST from 2024-03-31 01:00 UTC to 2024-10-27 01:00 UTC. */
	tz = load("Europe/London");
	expect_local(tz, 1711846799, 2024, 3, 31, 0, 59, 59, 0, 0, "GMT");
	expect_local(tz, 1711846800, 2024, 3, 31, 2, 0, 0, 3600, 1, "BST");
	expect_local(tz, 1729990799, 2024, 10, 27, 1, 59, 59, 3600, 1, "BST");
	expect_local(tz, 1729990800, 2024, 10, 27, 1, 0, 0, 0, 0, "GMT");
	/* 2100-07-01 12:00 UTC: far past the last transition, from the footer rule. */
	expect_local(tz, 4118126400, 2100, 7, 1, 13, 0, 0, 3600, 1, "BST");
	mem_deref(tz);

	/* America/New_York: EDT from 2024-03-10 07:00 UTC to 2024-11-03 06:00 UTC. */
	tz = load("America/New_York");
	expect_local(tz, 1710053999, 2024, 3, 10, 1, 59, 59, -18000, 0, "EST");
	expect_local(tz, 1710054000, 2024, 3, 10, 3, 0, 0, -14400, 1, "EDT");
	expect_local(tz, 1730613599, 2024, 11, 3, 1, 59, 59, -14400, 1, "EDT");
	expect_local(tz, 1730613600, 2024, 11, 3, 1, 0, 0, -18000, 0, "EST");
	mem_deref(tz);

	/* No DST, whole and half-hour offsets. 1700000000 = 2023-11-14 22:13:20 UTC, Tue. */
	tz = load("Asia/Shanghai");
	expect_local(tz, 1700000000, 2023, 11, 15, 6, 13, 20, 28800, 0, "CST");
	assert_int_equal(tz_local(tz, 1700000000, &tm), 0);
	assert_int_equal(tm.tm_wday, 3);
	assert_int_equal(tm.tm_yday, 318);
	mem_deref(tz);
	tz = load("Asia/Kolkata");
	expect_local(tz, 1700000000, 2023, 11, 15, 3, 43, 20, 19800, 0, "IST");
	mem_deref(tz);
	tz = load("UTC");
	expect_local(tz, 0, 1970, 1, 1, 0, 0, 0, 0, 0, "UTC");
	expect_local(tz, -1, 1969, 12, 31, 23, 59, 59, 0, 0, "UTC");
	assert_int_equal(tz_local(tz, 951782400, &tm), 0);  /* 2000-02-29 */
	assert_int_equal(tm.tm_mon, 1);
	assert_int_equal(tm.tm_mday, 29);
	assert_int_equal(tm.tm_yday, 59);
	assert_int_equal(tz_local(tz, (int64_t)1 << 56, &tm), EOVERFLOW);
	assert_int_equal(tz_local(tz, -((int64_t)1 << 56), &tm), EOVERFLOW);
	mem_deref(tz);
}

/* glibc's view of the instants, computed in a child process so that setting TZ does not
 * touch this process. One record per instant. */
struct ref_tm {
	int ok;
	struct tm tm;
	char zone[16];
};

static void glibc_local(const char *tzenv, const int64_t *ts, size_t n, struct ref_tm *out)
{
	int pfd[2];
	pid_t pid;
	size_t i, need = n * sizeof(*out), got = 0;
	int status;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		setenv("TZ", tzenv, 1);
		tzset();
		for (i = 0; i < n; i++) {
			struct ref_tm r;
			time_t t = (time_t)ts[i];

			memset(&r, 0, sizeof(r));
			r.ok = localtime_r(&t, &r.tm) != NULL;
			if (r.ok && r.tm.tm_zone)
				snprintf(r.zone, sizeof(r.zone), "%s", r.tm.tm_zone);
			r.tm.tm_zone = NULL;
			if (write(pfd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
				_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	while (got < need) {
		ssize_t k = read(pfd[0], (char *)out + got, need - got);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(got, need);
}

/* Instants from `from` to 2250: an irregular stride (so every hour and weekday is hit)
 * plus the seconds either side of each local-offset change the stride reveals. */
enum { SWEEP_MAX = 40000 };
static const int64_t SWEEP_1850 = -3786825600LL, SWEEP_1971 = 31536000;

static size_t sweep(const struct tz *tz, int64_t from, int64_t *ts)
{
	const int64_t to = 8835984000LL, step = 7 * 86400 + 3 * 3600 + 17 * 60 + 13;
	size_t n = 0;
	int64_t t;
	long prev_off = 0;
	bool first = true;

	for (t = from; t < to && n + 4 < SWEEP_MAX; t += step) {
		struct tm tm;

		assert_int_equal(tz_local(tz, t, &tm), 0);
		if (!first && tm.tm_gmtoff != prev_off) {
			/* Bisect the change, then test both sides of it. */
			int64_t lo = t - step, hi = t;

			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;

				assert_int_equal(tz_local(tz, mid, &tm), 0);
				if (tm.tm_gmtoff == prev_off)
					lo = mid;
				else
					hi = mid;
			}
			ts[n++] = lo;
			ts[n++] = hi;
			assert_int_equal(tz_local(tz, t, &tm), 0);
		}
		first = false;
		prev_off = tm.tm_gmtoff;
		ts[n++] = t;
	}
	return n;
}

static void compare_with_glibc(const struct tz *tz, const char *tzenv, int64_t from)
{
	int64_t *ts = calloc(SWEEP_MAX, sizeof(*ts));
	struct ref_tm *ref = calloc(SWEEP_MAX, sizeof(*ref));
	size_t n, i;

	assert_non_null(ts);
	assert_non_null(ref);
	n = sweep(tz, from, ts);
	assert_true(n > 1000);
	glibc_local(tzenv, ts, n, ref);
	for (i = 0; i < n; i++) {
		struct tm tm;

		assert_int_equal(tz_local(tz, ts[i], &tm), 0);
		assert_true(ref[i].ok);
		if (tm.tm_gmtoff != ref[i].tm.tm_gmtoff || tm.tm_hour != ref[i].tm.tm_hour ||
		    tm.tm_min != ref[i].tm.tm_min || tm.tm_sec != ref[i].tm.tm_sec ||
		    tm.tm_mday != ref[i].tm.tm_mday || tm.tm_mon != ref[i].tm.tm_mon ||
		    tm.tm_year != ref[i].tm.tm_year || tm.tm_wday != ref[i].tm.tm_wday ||
		    tm.tm_yday != ref[i].tm.tm_yday || tm.tm_isdst != ref[i].tm.tm_isdst ||
		    strcmp(tm.tm_zone, ref[i].zone) != 0) {
			print_error("%s at %lld: ours %04d-%02d-%02d %02d:%02d:%02d %+ld dst=%d %s, "
				    "glibc %04d-%02d-%02d %02d:%02d:%02d %+ld dst=%d %s\n",
				    tzenv, (long long)ts[i], tm.tm_year + 1900, tm.tm_mon + 1,
				    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_gmtoff,
				    tm.tm_isdst, tm.tm_zone, ref[i].tm.tm_year + 1900,
				    ref[i].tm.tm_mon + 1, ref[i].tm.tm_mday, ref[i].tm.tm_hour,
				    ref[i].tm.tm_min, ref[i].tm.tm_sec, ref[i].tm.tm_gmtoff,
				    ref[i].tm.tm_isdst, ref[i].zone);
			fail();
		}
	}
	free(ts);
	free(ref);
}

static void test_against_glibc(void **state)
{
	static const char *const zones[] = {
		"Europe/London", "America/New_York", "Asia/Shanghai", "Asia/Kolkata", "UTC",
		"Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "Europe/Dublin",
		"America/St_Johns", "America/Sao_Paulo", "Asia/Tehran", "Africa/Casablanca",
		"America/Santiago", "Pacific/Apia", "Asia/Kathmandu", "Europe/Moscow",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		char env[128];
		struct tz *tz = load(zones[i]);

		snprintf(env, sizeof(env), ":%s/%s", TZ_DIR, zones[i]);
		compare_with_glibc(tz, env, SWEEP_1850);
		mem_deref(tz);
	}
}

/* ---- in-memory TZif images ------------------------------------------------------- */

struct img {
	uint8_t b[4096];
	size_t len;
};

static void put32(struct img *m, uint32_t v)
{
	m->b[m->len++] = (uint8_t)(v >> 24);
	m->b[m->len++] = (uint8_t)(v >> 16);
	m->b[m->len++] = (uint8_t)(v >> 8);
	m->b[m->len++] = (uint8_t)v;
}

static void put64(struct img *m, int64_t v)
{
	put32(m, (uint32_t)((uint64_t)v >> 32));
	put32(m, (uint32_t)v);
}

static void header(struct img *m, char version, uint32_t leapcnt, uint32_t timecnt,
		   uint32_t typecnt, uint32_t charcnt)
{
	memcpy(m->b + m->len, "TZif", 4);
	m->len += 4;
	m->b[m->len++] = (uint8_t)version;
	memset(m->b + m->len, 0, 15);
	m->len += 15;
	put32(m, 0);
	put32(m, 0);
	put32(m, leapcnt);
	put32(m, timecnt);
	put32(m, typecnt);
	put32(m, charcnt);
}

/* A v2 image: an empty v1 block (one type), then `n` transitions alternating between
 * type 0 (utoff0, "AAA") and type 1 (utoff1, "BBB", dst), and the footer. */
static void build(struct img *m, const int64_t *trans, size_t n, int32_t utoff0,
		  int32_t utoff1, const char *footer)
{
	size_t i;

	m->len = 0;
	header(m, '2', 0, 0, 1, 1);
	put32(m, 0);
	m->b[m->len++] = 0;
	m->b[m->len++] = 0;
	m->b[m->len++] = 0;

	header(m, '2', 0, (uint32_t)n, 2, 8);
	for (i = 0; i < n; i++)
		put64(m, trans[i]);
	for (i = 0; i < n; i++)
		m->b[m->len++] = (uint8_t)(i % 2 ? 0 : 1);
	put32(m, (uint32_t)utoff0);
	m->b[m->len++] = 0;
	m->b[m->len++] = 0;
	put32(m, (uint32_t)utoff1);
	m->b[m->len++] = 1;
	m->b[m->len++] = 4;
	memcpy(m->b + m->len, "AAA\0BBB\0", 8);
	m->len += 8;
	m->b[m->len++] = '\n';
	memcpy(m->b + m->len, footer, strlen(footer));
	m->len += strlen(footer);
	m->b[m->len++] = '\n';
}

static struct tz *parse_ok(const struct img *m)
{
	struct tz *tz = NULL;

	assert_int_equal(tz_parse(&tz, "test", m->b, m->len), 0);
	return tz;
}

static void test_transitions_and_footer(void **state)
{
	const int64_t trans[] = {1000000, 2000000};
	struct img m;
	struct tz *tz;

	(void)state;
	build(&m, trans, 2, 3600, 7200, "CCC-3");
	tz = parse_ok(&m);
	expect_local(tz, 999999, 1970, 1, 12, 14, 46, 39, 3600, 0, "AAA");  /* type 0 before */
	expect_local(tz, 1000000, 1970, 1, 12, 15, 46, 40, 7200, 1, "BBB");
	expect_local(tz, 1999999, 1970, 1, 24, 5, 33, 19, 7200, 1, "BBB");
	expect_local(tz, 2000000, 1970, 1, 24, 6, 33, 20, 10800, 0, "CCC"); /* footer */
	mem_deref(tz);

	/* Empty footer: the last transition's type holds for ever. */
	build(&m, trans, 2, 3600, 7200, "");
	tz = parse_ok(&m);
	expect_local(tz, 4000000000LL, 2096, 10, 2, 8, 6, 40, 3600, 0, "AAA");
	mem_deref(tz);
}

/* Footer-only zones checked against glibc's own parsing of the same TZ string. Only from
 * 1971: glibc evaluates a TZ rule for earlier years as if it were 1970 (a footer only
 * ever applies after a zone's last transition, long after 1970). */
static void test_posix_rules(void **state)
{
	static const char *const rules[] = {
		"EST5EDT,M3.2.0,M11.1.0",
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",         /* southern hemisphere */
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", /* Lord Howe: half-hour DST */
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",     /* negative times (America/Nuuk) */
		"IST-2IDT,M3.4.4/26,M10.5.0",           /* hours past 24 (Asia/Jerusalem) */
		"XXX3YYY,J60/1:30,300/4:15:30",         /* Julian and zero-based days */
		"<+0545>-5:45",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct img m;
		struct tz *tz;

		build(&m, NULL, 0, 0, 0, rules[i]);
		tz = parse_ok(&m);
		compare_with_glibc(tz, rules[i], SWEEP_1971);
		mem_deref(tz);
	}
}

/* DST all year, RFC 8536's example. Not compared with glibc, which picks the rule's year
 * by UTC date and so leaves DST for the hours before the UTC new year. */
static void test_rules_without_reference(void **state)
{
	struct img m;
	struct tz *tz;

	(void)state;
	build(&m, NULL, 0, 0, 0, "EST5EDT,0/0,J365/25");
	tz = parse_ok(&m);
	expect_local(tz, 1719835200, 2024, 7, 1, 8, 0, 0, -14400, 1, "EDT");
	expect_local(tz, 1735689600, 2024, 12, 31, 20, 0, 0, -14400, 1, "EDT");
	expect_local(tz, 1735707600, 2025, 1, 1, 1, 0, 0, -14400, 1, "EDT");
	expect_local(tz, 1704085200, 2024, 1, 1, 1, 0, 0, -14400, 1, "EDT");
	mem_deref(tz);

	/* A DST name without dates means the US rules (glibc would take them from the
	 * "posixrules" file instead, so it is no reference here). */
	build(&m, NULL, 0, 0, 0, "ESX5EDX");
	tz = parse_ok(&m);
	expect_local(tz, 1710053999, 2024, 3, 10, 1, 59, 59, -18000, 0, "ESX");
	expect_local(tz, 1710054000, 2024, 3, 10, 3, 0, 0, -14400, 1, "EDX");
	expect_local(tz, 1730613599, 2024, 11, 3, 1, 59, 59, -14400, 1, "EDX");
	expect_local(tz, 1730613600, 2024, 11, 3, 1, 0, 0, -18000, 0, "ESX");
	mem_deref(tz);
}

static void test_bad_images(void **state)
{
	static const char *const bad_footers[] = {
		"E5", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
		"EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J365", "EST5EDT,366,J365", "EST25",
		"EST5EDT,M3.2.0/168,M11.1.0", "<AB>5", "<ABC5", "EST5:60", "EST5EDT,M3.2.0,M11.1.0x",
		"EST5EDT;M3.2.0,M11.1.0", "ABCDEFGHIJKLMNOPQ5",
	};
	const int64_t trans[] = {1000, 2000};
	const int64_t unsorted[] = {2000, 1000};
	struct img m, good;
	struct tz *tz = NULL;
	size_t i;

	(void)state;
	assert_int_equal(tz_parse(&tz, "x", NULL, 0), EINVAL);
	assert_int_equal(tz_parse(&tz, "x", (const uint8_t *)"TZif", 4), EINVAL);

	for (i = 0; i < sizeof(bad_footers) / sizeof(bad_footers[0]); i++) {
		build(&m, NULL, 0, 0, 0, bad_footers[i]);
		assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);
	}

	build(&m, unsorted, 2, 0, 3600, "");
	assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);

	build(&good, trans, 2, 0, 3600, "UTC0");
	/* Every truncation is refused. */
	for (i = 0; i < good.len; i++)
		assert_int_equal(tz_parse(&tz, "x", good.b, i), EINVAL);
	/* Trailing bytes after the footer. */
	m = good;
	m.b[m.len++] = 'x';
	assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);
	/* Unknown version, bad magic. */
	m = good;
	m.b[4] = '1';
	assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);
	m = good;
	m.b[0] = 'X';
	assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);
	/* Transition type index out of range: the first index byte of the v2 block. */
	m = good;
	m.b[51 + 44 + 16] = 2;
	assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);
	/* Leap-second records in the v2 header. */
	m = good;
	m.b[51 + 28 + 3] = 1;
	assert_int_equal(tz_parse(&tz, "x", m.b, m.len), EINVAL);
	/* The good image itself parses. */
	tz = parse_ok(&good);
	mem_deref(tz);
}

static void test_load_errors(void **state)
{
	struct tz *tz = NULL;

	(void)state;
	assert_int_equal(tz_load(&tz, "Nowhere/City"), ENOENT);
	assert_int_equal(tz_load(&tz, "Asia"), ENOENT);
	assert_int_equal(tz_load(&tz, "UTC/x"), ENOENT);
	assert_int_equal(tz_load(&tz, ""), EINVAL);
	assert_int_equal(tz_load(&tz, "/etc/passwd"), EINVAL);
	assert_int_equal(tz_load(&tz, "../../../etc/passwd"), EINVAL);
	assert_int_equal(tz_load(&tz, "Asia/../UTC"), EINVAL);
	assert_int_equal(tz_load(&tz, "Asia//Shanghai"), EINVAL);
	assert_int_equal(tz_load(&tz, "Asia/Shanghai/"), EINVAL);
	assert_int_equal(tz_load(&tz, "Asia/Shang hai"), EINVAL);
	assert_int_equal(tz_load(&tz, ".hidden"), EINVAL);
	assert_int_equal(tz_load(&tz, "zone.tab"), EINVAL);  /* exists, not TZif */
	assert_int_equal(tz_load(&tz, NULL), EINVAL);
	assert_int_equal(tz_load(&tz, "right/UTC"), EINVAL);  /* leap seconds */
	assert_null(tz);
}

static void expect_day_start(const struct tz *tz, int64_t t, int64_t want)
{
	int64_t got = 0;

	assert_int_equal(tz_day_start(tz, t, &got), 0);
	assert_int_equal(got, want);
}

static void test_day_start(void **state)
{
	struct tz *tz;
	int64_t got;
	int64_t t;

	(void)state;
	/* Shanghai: midnight 2023-11-15 local = 2023-11-14 16:00 UTC. */
	tz = load("Asia/Shanghai");
	expect_day_start(tz, 1700000000, 1699977600);
	expect_day_start(tz, 1699977600, 1699977600);
	expect_day_start(tz, 1699977599, 1699977600 - 86400);
	mem_deref(tz);

	/* London on the day BST starts (2024-03-31): midnight was still GMT. */
	tz = load("Europe/London");
	expect_day_start(tz, 1711846800 + 3600, 1711843200);
	/* The day BST ends (2024-10-27): midnight was BST, 2024-10-26 23:00 UTC. */
	expect_day_start(tz, 1729990800 + 7200, 1729983600);
	mem_deref(tz);

	/* America/Havana starts DST at 00:00 (no midnight on 2024-03-10): the day starts at
	 * 01:00 CDT = 05:00 UTC. */
	tz = load("America/Havana");
	expect_day_start(tz, 1710054000 + 3 * 3600, 1710046800);
	mem_deref(tz);

	/* Every day start over several years in New York is a local midnight (or the end of
	 * a gap) and the instant before is on the previous local date. */
	tz = load("America/New_York");
	for (t = 1577836800; t < 1577836800 + 4 * 366 * 86400LL; t += 86400 / 3 + 7) {
		struct tm a, b;

		assert_int_equal(tz_day_start(tz, t, &got), 0);
		assert_true(got <= t);
		assert_int_equal(tz_local(tz, got, &a), 0);
		assert_int_equal(tz_local(tz, got - 1, &b), 0);
		assert_int_equal(a.tm_hour * 3600 + a.tm_min * 60 + a.tm_sec, 0);
		assert_true(b.tm_yday != a.tm_yday);
		assert_int_equal(tz_local(tz, t, &b), 0);
		assert_int_equal(b.tm_yday, a.tm_yday);
	}
	assert_int_equal(tz_day_start(tz, (int64_t)1 << 56, &got), EOVERFLOW);
	mem_deref(tz);
}

/* Several threads convert with one shared zone object while another zone is in use:
 * no global state, so every answer equals the single-threaded one. */
struct worker {
	const struct tz *tz;
	int64_t base;
	long sum;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < 20000; i++) {
		struct tm tm;

		if (tz_local(w->tz, w->base + (int64_t)i * 3593, &tm) != 0)
			return NULL;
		w->sum += tm.tm_hour + tm.tm_gmtoff;
	}
	return NULL;
}

static void test_threads_share_a_zone(void **state)
{
	struct tz *a = load("Europe/London"), *b = load("Asia/Kolkata");
	struct worker w[4], solo;
	pthread_t th[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){.tz = i % 2 ? b : a, .base = 1700000000};
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		solo = (struct worker){.tz = i % 2 ? b : a, .base = 1700000000};
		worker_run(&solo);
		assert_int_equal(w[i].sum, solo.sum);
		assert_int_equal(w[i + 2].sum, solo.sum);
	}
	mem_deref(a);
	mem_deref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_instants),
		cmocka_unit_test(test_against_glibc),
		cmocka_unit_test(test_transitions_and_footer),
		cmocka_unit_test(test_posix_rules),
		cmocka_unit_test(test_rules_without_reference),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_day_start),
		cmocka_unit_test(test_threads_share_a_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
