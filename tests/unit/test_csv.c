/* Unit tests of the CSV reader (RFC 4180): quoting, line breaks, blank lines, and every
 * refusal with the line it names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "csv/csv.h"

static struct csv *ok(const char *text, size_t rows, size_t cols)
{
	struct csv *c = NULL;
	char why[128];

	assert_int_equal(csv_parse(&c, text, strlen(text), why, sizeof(why)), 0);
	assert_non_null(c);
	assert_int_equal(c->rows, rows);
	assert_int_equal(c->cols, cols);
	return c;
}

static void refused(const char *text, const char *why_expected)
{
	struct csv *c = NULL;
	char why[128];

	assert_int_equal(csv_parse(&c, text, strlen(text), why, sizeof(why)), EINVAL);
	assert_null(c);
	assert_non_null(strstr(why, why_expected));
}

static void test_plain(void **state)
{
	struct csv *c = ok("Callee,UUI,name\n008613800000001,u1,Ann\n13800000002,,Bob\n",
			   3, 3);

	(void)state;
	assert_string_equal(csv_cell(c, 0, 0), "Callee");
	assert_string_equal(csv_cell(c, 1, 2), "Ann");
	assert_string_equal(csv_cell(c, 2, 1), "");
	assert_int_equal(c->line[2], 3);
	mem_deref(c);
}

static void test_quoting(void **state)
{
	struct csv *c = ok("Callee,note\r\n\"1\",\"a, b\"\r\n2,\"say \"\"hi\"\"\"\r\n"
			   "3,\"two\nlines\"\n4,\"\"\n", 5, 2);

	(void)state;
	assert_string_equal(csv_cell(c, 1, 1), "a, b");
	assert_string_equal(csv_cell(c, 2, 1), "say \"hi\"");
	assert_string_equal(csv_cell(c, 3, 1), "two\nlines");
	assert_string_equal(csv_cell(c, 4, 0), "4");
	assert_string_equal(csv_cell(c, 4, 1), "");
	/* The record after a field spanning two lines begins on line 6. */
	assert_int_equal(c->line[4], 6);
	mem_deref(c);
}

static void test_edges(void **state)
{
	struct csv *c;

	(void)state;
	/* No final line break, a BOM, blank lines skipped, an empty last field. */
	c = ok("\xEF\xBB\xBF" "Callee,x\n\n1,\n\r\n2,y", 3, 2);
	assert_string_equal(csv_cell(c, 0, 0), "Callee");
	assert_string_equal(csv_cell(c, 1, 1), "");
	assert_string_equal(csv_cell(c, 2, 1), "y");
	assert_int_equal(c->line[1], 3);
	assert_int_equal(c->line[2], 5);
	mem_deref(c);
	c = ok("Callee", 1, 1);
	mem_deref(c);
}

static void test_refusals(void **state)
{
	struct csv *c = NULL;
	char why[128];

	(void)state;
	refused("", "line 1: no header row");
	refused("\n\r\n", "no header row");
	refused("Callee,a\n1,2\n3\n", "line 3: 1 fields where the header has 2");
	refused("Callee,a\n1,2,3\n", "line 2: 3 fields where the header has 2");
	refused("Callee,a\n1,ab\"c\"\n", "line 2: a quote inside an unquoted field");
	refused("Callee,a\n1,\"ab\"c\n", "line 2: 'c' after a closing quote");
	refused("Callee,a\n1,2\n3,\"open\nstill\n", "line 3: a quote that is never closed");
	refused("Callee,a\n\"x\ny\",1,2\n", "line 2: 3 fields");
	assert_int_equal(csv_parse(&c, "a\0b", 3, why, sizeof(why)), EINVAL);
	assert_string_equal(why, "line 1: a NUL byte");
	assert_int_equal(csv_parse(NULL, "a", 1, why, sizeof(why)), EINVAL);
}

/* A large table keeps every cell (the arrays grow past their first sizes). */
static void test_many(void **state)
{
	char text[64 * 1024], *p = text;
	struct csv *c;

	(void)state;
	p += sprintf(p, "Callee,v\n");
	for (int i = 0; i < 3000; i++)
		p += sprintf(p, "%d,\"v%d\"\n", i, i);
	c = ok(text, 3001, 2);
	assert_string_equal(csv_cell(c, 3000, 0), "2999");
	assert_string_equal(csv_cell(c, 3000, 1), "v2999");
	assert_int_equal(c->line[3000], 3001);
	mem_deref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
