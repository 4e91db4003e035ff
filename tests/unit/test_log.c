/* Unit tests of the log levels: names parse case-insensitively, unknown ones are refused,
 * and log_enabled answers what log_msg would write (the SIP trace is only installed when
 * debug lines are written, so its formatting costs nothing otherwise). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <cmocka.h>
#include "base/base.h"

static void test_level_names(void **state)
{
	enum log_level l = LOG_ERROR;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("WARN", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("verbose", &l), EINVAL);
	assert_int_equal(l, LOG_WARN);
}

static void test_enabled_follows_the_level(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	assert_false(log_enabled(LOG_DEBUG));
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_WARN));
	assert_true(log_enabled(LOG_ERROR));
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_enabled_follows_the_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
