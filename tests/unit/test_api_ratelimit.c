/* Unit tests of the sliding-window rate limiter and the v1 replay cache (injected clocks). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"

#define S 1000000ULL /* one second in µs */

static void test_window(void **state)
{
	struct api_ratelimit *rl = NULL;
	const uint64_t t0 = 1000 * S;
	unsigned ok = 0;

	(void)state;
	assert_int_equal(api_ratelimit_alloc(&rl), 0);
	/* 20 accepted in one second, the 21st and later refused. */
	for (unsigned i = 0; i < 30; i++)
		ok += api_ratelimit_take(rl, 1, "CreateIVRSession", 20, t0 + i * 10000);
	assert_int_equal(ok, 20);
	/* Other actions and other accounts have their own windows. */
	assert_true(api_ratelimit_take(rl, 1, "DescribeTelSession", 20, t0 + 300000));
	assert_true(api_ratelimit_take(rl, 2, "CreateIVRSession", 20, t0 + 300000));
	/* Sliding: 1 s after the first accepted request (t0) exactly one slot frees... */
	assert_false(api_ratelimit_take(rl, 1, "CreateIVRSession", 20, t0 + S - 1));
	assert_true(api_ratelimit_take(rl, 1, "CreateIVRSession", 20, t0 + S));
	assert_false(api_ratelimit_take(rl, 1, "CreateIVRSession", 20, t0 + S + 1));
	/* ...and another 10 ms later (the second request was at t0 + 10 ms). */
	assert_true(api_ratelimit_take(rl, 1, "CreateIVRSession", 20, t0 + S + 10000));
	/* No burst of 2x at a second boundary: 20 at t0+1.5s would exceed the window. */
	ok = 0;
	for (unsigned i = 0; i < 20; i++)
		ok += api_ratelimit_take(rl, 1, "CreateIVRSession", 20, t0 + S + 500000);
	assert_int_equal(ok, 18); /* the entries of t0+20..190 ms have left: 18 slots */
	mem_deref(rl);
}

static void test_limits(void **state)
{
	struct api_ratelimit *rl = NULL;
	const uint64_t t0 = 5 * S;

	(void)state;
	assert_int_equal(api_ratelimit_alloc(&rl), 0);
	/* 0 is no limit. */
	for (unsigned i = 0; i < 1000; i++)
		assert_true(api_ratelimit_take(rl, 1, "A", 0, t0));
	/* A limit of 1 (UploadIvrAudio). */
	assert_true(api_ratelimit_take(rl, 1, "U", 1, t0));
	assert_false(api_ratelimit_take(rl, 1, "U", 1, t0 + S / 2));
	assert_true(api_ratelimit_take(rl, 1, "U", 1, t0 + S));
	/* Times slightly out of order (threads) never wrap around. */
	assert_false(api_ratelimit_take(rl, 1, "U", 1, t0 + S - 5));
	mem_deref(rl);
}

static void test_sweep(void **state)
{
	struct api_ratelimit *rl = NULL;
	char name[16];

	(void)state;
	assert_int_equal(api_ratelimit_alloc(&rl), 0);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "A%u", i);
		assert_true(api_ratelimit_take(rl, i, name, 20, 10 * S));
	}
	assert_int_equal(api_ratelimit_keys(rl), 100);
	/* Idle keys are forgotten once the sweep runs (every 5 s). */
	assert_true(api_ratelimit_take(rl, 7, "B", 20, 16 * S));
	assert_int_equal(api_ratelimit_keys(rl), 1);
	mem_deref(rl);
}

static void test_replay(void **state)
{
	struct api_replay *rp = NULL;
	const int64_t now = 1764000000;

	(void)state;
	assert_int_equal(api_replay_alloc(&rp, 1000), 0);
	assert_int_equal(api_replay_check(rp, "AKID1", now, "42", "sigA", now), 0);
	assert_int_equal(api_replay_check(rp, "AKID1", now, "42", "sigA", now + 100), EALREADY);
	/* Same nonce and second but another request (signature): not a replay. */
	assert_int_equal(api_replay_check(rp, "AKID1", now, "42", "sigB", now), 0);
	assert_int_equal(api_replay_check(rp, "AKID2", now, "42", "sigA", now), 0);
	assert_int_equal(api_replay_check(rp, "AKID1", now + 1, "42", "sigA", now), 0);
	assert_int_equal(api_replay_check(rp, "AKID1", now, "43", "sigA", now), 0);
	/* Remembered until the timestamp leaves the window... */
	assert_int_equal(api_replay_check(rp, "AKID1", now, "42", "sigA", now + 300), EALREADY);
	/* ...after which the request is refused as expired anyway; a new second reusing the
	 * slot forgets the old one. */
	assert_int_equal(api_replay_check(rp, "AKID1", now + 1024, "42", "sigA", now + 1024), 0);
	assert_int_equal(api_replay_check(rp, "AKID1", now, "42", "sigA", now + 600), 0);
	mem_deref(rp);

	/* Bounded memory: the cap refuses rather than forgets. */
	assert_int_equal(api_replay_alloc(&rp, 100), 0);
	for (unsigned i = 0; i < 100; i++) {
		char nonce[16];

		snprintf(nonce, sizeof(nonce), "%u", i);
		assert_int_equal(api_replay_check(rp, "AKID1", now, nonce, "s", now), 0);
	}
	assert_int_equal(api_replay_check(rp, "AKID1", now, "x", "s", now), ENOSPC);
	assert_int_equal(api_replay_check(rp, "AKID1", now, "5", "s", now), EALREADY);
	mem_deref(rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
