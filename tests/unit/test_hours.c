/* Unit tests of business hours (src/hours): the one syntax and check that the calling
 * rules' work_time and the IVR's businessHours node share — day names, ranges and ISO
 * numbers on one numbering (bit 0 = Monday), times with 24:00 only at an end, real dates,
 * and the check in a zone (holidays by local date, windows by local time, DST). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "tz/tz.h"
#include "hours/hours.h"

/* A Unix instant from a wall-clock time at a fixed UTC offset (hours). */
static int64_t at(int y, int mo, int d, int h, int mi, int s, int off_h)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi, .tm_sec = s};

	return (int64_t)timegm(&tm) - off_h * 3600;
}

static void test_days(void **state)
{
	uint8_t b = 0;

	(void)state;
	assert_int_equal(hours_days_parse("Mon", &b), 0);
	assert_int_equal(b, 0x01);
	b = 0;
	assert_int_equal(hours_days_parse("sun", &b), 0);
	assert_int_equal(b, 0x40);
	b = 0;
	assert_int_equal(hours_days_parse("Mon-Fri", &b), 0);
	assert_int_equal(b, 0x1f);
	b = 0;
	assert_int_equal(hours_days_parse("sat-MON", &b), 0);
	assert_int_equal(b, 0x61);
	b = 0;
	/* ISO numbers name the same days as the names: 1 Monday, 7 Sunday. */
	assert_int_equal(hours_day_iso(1, &b), 0);
	assert_int_equal(hours_day_iso(7, &b), 0);
	assert_int_equal(b, 0x41);
	assert_int_equal(hours_day_iso(0, &b), EINVAL);
	assert_int_equal(hours_day_iso(8, &b), EINVAL);
	assert_int_equal(hours_days_parse("Funday", &b), EINVAL);
	assert_int_equal(hours_days_parse("Mon-", &b), EINVAL);
	assert_int_equal(hours_days_parse("", &b), EINVAL);
	assert_string_equal(hours_day_name(0), "Mon");
	assert_string_equal(hours_day_name(6), "Sun");
}

static void test_times_and_dates(void **state)
{
	uint32_t s;
	int64_t d;

	(void)state;
	assert_int_equal(hours_time_parse("09:30", false, &s), 0);
	assert_int_equal(s, 9 * 3600 + 30 * 60);
	assert_int_equal(hours_time_parse("23:59:59", false, &s), 0);
	assert_int_equal(s, 86399);
	assert_int_equal(hours_time_parse("24:00", true, &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(hours_time_parse("24:00", false, &s), EINVAL);
	assert_int_equal(hours_time_parse("24:01", true, &s), EINVAL);
	assert_int_equal(hours_time_parse("9:00", false, &s), EINVAL);
	assert_int_equal(hours_time_parse("09:60", false, &s), EINVAL);
	assert_int_equal(hours_time_parse("9h", false, &s), EINVAL);
	assert_int_equal(hours_date_parse("1970-01-02", &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(hours_date_parse("2024-02-29", &d), 0);
	assert_int_equal(hours_date_parse("2025-02-29", &d), EINVAL);
	assert_int_equal(hours_date_parse("2025-02-30", &d), EINVAL);
	assert_int_equal(hours_date_parse("1969-12-31", &d), EINVAL);
	assert_int_equal(hours_date_parse("2025-1-01", &d), EINVAL);
}

static void test_at(void **state)
{
	struct tz *sh = NULL, *ny = NULL;
	struct hours_window w[2] = {{0x1f, 9 * 3600, 18 * 3600}, {0x20, 10 * 3600, 86400}};
	int64_t hol[2];
	struct tm tm;

	(void)state;
	assert_int_equal(tz_load(&sh, "Asia/Shanghai"), 0);
	assert_int_equal(tz_load(&ny, "America/New_York"), 0);
	assert_int_equal(hours_date_parse("2026-03-03", &hol[1]), 0);
	assert_int_equal(hours_date_parse("2026-01-01", &hol[0]), 0);
	hours_dates_sort(hol, 2);
	assert_true(hol[0] < hol[1]);

	/* 2026-03-02 is a Monday. */
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 2, 9, 0, 0, 8), &tm), HOURS_OPEN);
	assert_int_equal(tm.tm_wday, 1);
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 2, 8, 59, 59, 8), NULL),
			 HOURS_CLOSED);
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 2, 18, 0, 0, 8), NULL),
			 HOURS_CLOSED);
	/* Tuesday 3 March is a holiday all its local day, in Shanghai time. */
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 3, 0, 0, 0, 8), NULL),
			 HOURS_HOLIDAY);
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 3, 23, 59, 59, 8), NULL),
			 HOURS_HOLIDAY);
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 4, 12, 0, 0, 8), NULL),
			 HOURS_OPEN);
	/* Saturday (bit 5) until 24:00; Sunday never. */
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 7, 23, 59, 59, 8), NULL),
			 HOURS_OPEN);
	assert_int_equal(hours_at(sh, w, 2, hol, 2, at(2026, 3, 8, 12, 0, 0, 8), NULL),
			 HOURS_CLOSED);
	/* New York after the DST change of 8 March 2026 (UTC-4): 09:00 local opens. */
	assert_int_equal(hours_at(ny, w, 2, NULL, 0, at(2026, 3, 9, 9, 0, 0, -4), NULL),
			 HOURS_OPEN);
	assert_int_equal(hours_at(ny, w, 2, NULL, 0, at(2026, 3, 9, 8, 59, 0, -4), NULL),
			 HOURS_CLOSED);
	assert_int_equal(hours_at(NULL, w, 2, NULL, 0, 0, NULL), HOURS_NO_TIME);
	mem_deref(sh);
	mem_deref(ny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_times_and_dates),
		cmocka_unit_test(test_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
