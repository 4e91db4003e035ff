/* Unit tests of the toll-fraud refusal counters (src/base/refusal.c): one counter per
 * reason, counted from several threads at once without loss, and a name per reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include "base/base.h"

enum { THREADS = 4, PER_THREAD = 5000 };

static void *count_channels(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		refusal_note(REFUSAL_CHANNELS, "test refusal %d", i);
	return NULL;
}

static void test_counts(void **state)
{
	pthread_t t[THREADS];
	uint64_t dest = refusal_total(REFUSAL_DESTINATION);
	uint64_t chan = refusal_total(REFUSAL_CHANNELS);

	(void)state;
	log_set_level(LOG_ERROR); /* the warnings themselves are not under test */
	refusal_note(REFUSAL_DESTINATION, "one");
	assert_int_equal(refusal_total(REFUSAL_DESTINATION), dest + 1);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count_channels, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(refusal_total(REFUSAL_CHANNELS), chan + THREADS * PER_THREAD);
	assert_int_equal(refusal_total(REFUSAL_DESTINATION), dest + 1);
	assert_int_equal(refusal_total(REFUSAL_N), 0);
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < REFUSAL_N; i++) {
		assert_string_not_equal(refusal_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(refusal_name(i), refusal_name(j));
	}
	assert_string_equal(refusal_name(REFUSAL_INBOUND_SOURCE), "inbound_source");
	assert_string_equal(refusal_name(REFUSAL_N), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
