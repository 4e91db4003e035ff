/* Unit tests of the number-prefix → zone table (src/zonemap) and of its [tasks]
 * zone_prefix lines: the longest prefix wins, both prefix forms, and every bad line
 * refused with its line and what is wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api.h"
#include "conf/conf.h"
#include "tz/tz.h"
#include "zonemap/zonemap.h"

static void test_parse(void **state)
{
	char prefix[ZONEMAP_PREFIX_MAX], zone[ZONEMAP_ZONE_MAX], why[200];

	(void)state;
	assert_int_equal(zonemap_line_parse("+81 Asia/Tokyo", prefix, zone, why, sizeof(why)), 0);
	assert_string_equal(prefix, "0081");
	assert_string_equal(zone, "Asia/Tokyo");
	assert_int_equal(zonemap_line_parse("  001212\tAmerica/New_York ", prefix, zone, why,
					    sizeof(why)), 0);
	assert_string_equal(prefix, "001212");
	assert_int_equal(zonemap_line_parse("+81 Asia/Nowhere", prefix, zone, why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "zone 'Asia/Nowhere'"));
	assert_int_equal(zonemap_line_parse("81 Asia/Tokyo", prefix, zone, why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "prefix '81'"));
	assert_int_equal(zonemap_line_parse("+8a1 Asia/Tokyo", prefix, zone, why, sizeof(why)),
			 EINVAL);
	assert_int_equal(zonemap_line_parse("+ Asia/Tokyo", prefix, zone, why, sizeof(why)),
			 EINVAL);
	assert_int_equal(zonemap_line_parse("+1234567890123456 UTC", prefix, zone, why,
					    sizeof(why)), EINVAL);
	assert_int_equal(zonemap_line_parse("+81", prefix, zone, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "PREFIX ZONE"));
	assert_int_equal(zonemap_line_parse("+81 Asia/Tokyo extra", prefix, zone, why,
					    sizeof(why)), EINVAL);
	assert_int_equal(zonemap_line_parse("+81 ../etc/passwd", prefix, zone, why, sizeof(why)),
			 EINVAL);
}

static void test_longest_prefix(void **state)
{
	struct zonemap *z = NULL;

	(void)state;
	assert_null(zonemap_lookup(NULL, "0081312345678"));
	assert_int_equal(zonemap_alloc(&z), 0);
	assert_int_equal(zonemap_add(z, "001", "America/Chicago"), 0);
	assert_int_equal(zonemap_add(z, "001212", "America/New_York"), 0);
	assert_int_equal(zonemap_add(z, "0081", "Asia/Tokyo"), 0);
	assert_int_equal(zonemap_add(z, "00121", "America/Denver"), 0);
	assert_int_equal(zonemap_add(z, "0081", "Asia/Seoul"), EEXIST);
	assert_int_equal(zonemap_add(z, "0082", "Asia/Nowhere"), ENOENT);
	assert_int_equal(zonemap_count(z), 4);
	assert_string_equal(tz_name(zonemap_lookup(z, "0012125550100")), "America/New_York");
	assert_string_equal(tz_name(zonemap_lookup(z, "0012135550100")), "America/Denver");
	assert_string_equal(tz_name(zonemap_lookup(z, "0013125550100")), "America/Chicago");
	assert_string_equal(tz_name(zonemap_lookup(z, "0081312345678")), "Asia/Tokyo");
	assert_null(zonemap_lookup(z, "00861012345678"));
	assert_null(zonemap_lookup(z, "00"));
	mem_deref(z);
}

/* api_conf is large (the zone lines): not on the stack. */
static struct api_conf ac;

static void expect_conf(const char *text, unsigned line, const char *msg)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};

	assert_int_equal(conf_parse(&cf, text, strlen(text), &err), 0);
	assert_int_equal(api_conf_read(cf, &ac, &err), line ? EINVAL : 0);
	if (line) {
		assert_int_equal(err.line, line);
		assert_non_null(strstr(err.msg, msg));
	}
	mem_deref(cf);
}

static void test_conf_lines(void **state)
{
	(void)state;
	expect_conf("[tasks]\nzone_prefix = +81 Asia/Tokyo\nzone_prefix = 001212 "
		    "America/New_York\n", 0, NULL);
	assert_int_equal(ac.task_zones_n, 2);
	assert_string_equal(ac.task_zones[0].prefix, "0081");
	assert_string_equal(ac.task_zones[1].zone, "America/New_York");
	expect_conf("[tasks]\nzone_prefix = +81 Asia/Tokyo\nzone_prefix = +82 Mars/Olympus\n",
		    3, "zone 'Mars/Olympus'");
	expect_conf("[tasks]\ntick_ms = 500\n\nzone_prefix = 81 Asia/Tokyo\n", 4, "prefix '81'");
	expect_conf("[tasks]\nzone_prefix = +81 Asia/Tokyo\nzone_prefix = 0081 UTC\n", 3,
		    "given twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_longest_prefix),
		cmocka_unit_test(test_conf_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
