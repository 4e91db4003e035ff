/* Unit tests of the auto-callout scheduler's arithmetic (src/api/task_pace.c,
 * task_window.c): the token bucket that paces new calls — more than one claim's 64 per
 * tick, a late tick's time earned, unused credit kept, bursts bounded, the rate held
 * over a minute of uneven ticks — and the windows read in a zone, with the next opening
 * across midnight and a DST change. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "tz/tz.h"

static void test_bucket_rates_above_a_claim(void **state)
{
	struct api_pace_bucket b = {0};

	(void)state;
	/* 200/s at the default tick: a tick's budget is 200, not the 64 of one claim. */
	assert_int_equal(api_pace_earn(&b, 200, 1000, 5000), 200);
	api_pace_spend(&b, 200);
	assert_int_equal(api_pace_earn(&b, 500, 1000, 6000), 500);
	api_pace_spend(&b, 500);
	assert_int_equal(api_pace_earn(&b, 500, 1000, 6000), 0);
}

static void test_bucket_late_tick_and_carry(void **state)
{
	struct api_pace_bucket b = {0};

	(void)state;
	assert_int_equal(api_pace_earn(&b, 50, 1000, 1000), 50);
	api_pace_spend(&b, 50);
	/* A tick 300 ms late earns those 300 ms (the old code's credit stopped at 1 s). */
	assert_int_equal(api_pace_earn(&b, 50, 1000, 2300), 65);
	/* What a tick did not place stays. */
	api_pace_spend(&b, 15);
	assert_int_equal(api_pace_earn(&b, 50, 1000, 3300), 100);
	api_pace_spend(&b, 100);
	/* An idle hour: at most two ticks' worth (1 s at least) in one burst. */
	assert_int_equal(api_pace_earn(&b, 50, 1000, 3600 * 1000), 100);
	api_pace_spend(&b, 100);
	assert_int_equal(api_pace_earn(&b, 50, 200, 7200 * 1000), 50);
}

static void test_bucket_fractions(void **state)
{
	struct api_pace_bucket b = {0};
	unsigned total = 0;

	(void)state;
	/* 10/s at 50 ms ticks: half a call per tick, none lost. */
	for (uint64_t t = 50; t <= 1000; t += 50) {
		unsigned n = api_pace_earn(&b, 10, 50, t);

		api_pace_spend(&b, n);
		total += n;
	}
	assert_int_equal(total, 10);
}

static void test_bucket_holds_a_minute_of_uneven_ticks(void **state)
{
	struct api_pace_bucket b = {0};
	uint64_t t = 0, total = 0;

	(void)state;
	srand(7);
	/* Ticks of 1.0-1.5 s for a minute, everything placed: the rate is the configured
	 * one within one call. */
	while (t < 60000) {
		unsigned n;

		t += 1000 + (uint64_t)(rand() % 500);
		n = api_pace_earn(&b, 200, 1000, t);
		api_pace_spend(&b, n);
		total += n;
	}
	assert_true(total + 1 >= 200 * (t / 1000.0) - 200 && total <= 200 * (t / 1000.0) + 1);
}

static void test_share(void **state)
{
	(void)state;
	assert_int_equal(api_pace_share(200, 3), 67);
	assert_int_equal(api_pace_share(133, 2), 67);
	assert_int_equal(api_pace_share(66, 1), 66);
	assert_int_equal(api_pace_share(0, 4), 0);
	assert_int_equal(api_pace_share(5, 0), 5);
}

static void test_windows(void **state)
{
	struct tz *tokyo = NULL, *ny = NULL;
	int64_t next;

	(void)state;
	assert_int_equal(tz_load(&tokyo, "Asia/Tokyo"), 0);
	assert_int_equal(tz_load(&ny, "America/New_York"), 0);
	/* 09:00-12:00: 2026-12-07 00:00 UTC is 09:00 in Tokyo. */
	assert_true(api_window_open("32400-43200", tokyo, 1796601600));
	assert_false(api_window_open("32400-43200", NULL, 1796601600));
	assert_true(api_window_open("", NULL, 1796601600));
	assert_int_equal(api_window_next("32400-43200", tokyo, 1796601600, &next), 0);
	assert_int_equal(next, 1796601600);
	/* 03:00 UTC is noon in Tokyo: closed until 09:00 there the next day. */
	assert_false(api_window_open("32400-43200", tokyo, 1796612400));
	assert_int_equal(api_window_next("32400-43200", tokyo, 1796612400, &next), 0);
	assert_int_equal(next, 1796688000);
	/* UTC, 08:00: the 09:00 window of the same day, the earliest of two. */
	assert_int_equal(api_window_next("50400-54000,32400-36000", NULL, 1796630400, &next), 0);
	assert_int_equal(next, 1796634000);
	/* Over midnight, 22:00-02:00: 01:00 is open, 03:00 waits for 22:00. */
	assert_true(api_window_open("79200-7200", NULL, 1796601600 + 3600));
	assert_int_equal(api_window_next("79200-7200", NULL, 1796612400, &next), 0);
	assert_int_equal(next, 1796601600 + 22 * 3600);
	/* New York, 09:00-10:00, asked at noon EST the day before clocks go forward
	 * (2026-03-08): 09:00 EDT is 13:00 UTC, not 14:00. */
	assert_int_equal(api_window_next("32400-36000", ny, 1772902800, &next), 0);
	assert_int_equal(next, 1772974800);
	assert_true(api_window_open("32400-36000", ny, next));
	assert_int_equal(api_window_next("", NULL, 0, &next), EINVAL);
	mem_deref(tokyo);
	mem_deref(ny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_rates_above_a_claim),
		cmocka_unit_test(test_bucket_late_tick_and_carry),
		cmocka_unit_test(test_bucket_fractions),
		cmocka_unit_test(test_bucket_holds_a_minute_of_uneven_ticks),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
