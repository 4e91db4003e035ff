/* Unit tests of the config syntax and its typed getters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"

static struct conf *parse_ok(const char *text)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};

	assert_int_equal(conf_parse(&cf, text, strlen(text), &err), 0);
	return cf;
}

static void parse_fails(const char *text, unsigned line, const char *needle)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};

	assert_int_equal(conf_parse(&cf, text, strlen(text), &err), EINVAL);
	assert_null(cf);
	assert_int_equal(err.line, line);
	assert_non_null(strstr(err.msg, needle));
}

static void test_syntax_errors(void **state)
{
	(void)state;
	parse_fails("listen = 1\n", 1, "outside any section");
	parse_fails("[api]\nlisten 1\n", 2, "key = value");
	parse_fails("[api\n", 1, "section header");
	parse_fails("[api] x\n", 1, "section header");
	parse_fails("[a b c]\n", 1, "bad section header");
	parse_fails("[api]\n[api]\n", 2, "given twice");
	parse_fails("[api]\nbad key = 1\n", 2, "bad key");
}

static void test_getters(void **state)
{
	struct conf *cf = parse_ok("# comment\n[api]\nlisten = 127.0.0.1:8080\n"
				   "threads = 4\nstrict = yes\n\n[trunk one]\nhost = x\n"
				   "[trunk two]\nhost = y\n");
	const struct conf_section *api = conf_section_first(cf, "api"), *t;
	struct conf_err err = {0};
	char host[64];
	uint16_t port;
	uint64_t n;
	bool b;
	const char *s;

	(void)state;
	assert_non_null(api);
	assert_int_equal(conf_addr(api, "listen", "0.0.0.0:1", host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(conf_uint(api, "threads", 1, 1, 64, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(conf_uint(api, "absent", 7, 1, 64, &n, &err), 0);
	assert_int_equal(n, 7);
	assert_int_equal(conf_bool(api, "strict", false, &b, &err), 0);
	assert_true(b);

	assert_int_equal(conf_uint(api, "threads", 1, 5, 64, &n, &err), EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "between 5 and 64"));

	t = conf_section_first(cf, "trunk");
	assert_string_equal(conf_section_name(t), "one");
	assert_int_equal(conf_str(t, "host", NULL, &s, &err), 0);
	assert_string_equal(s, "x");
	t = conf_section_next(t);
	assert_string_equal(conf_section_name(t), "two");
	assert_int_equal(conf_str(t, "host", NULL, &s, &err), 0);
	assert_null(conf_section_next(t));

	assert_int_equal(conf_unused(cf, &err), 0);
	mem_deref(cf);
}

static void test_unused_and_bad_values(void **state)
{
	struct conf *cf = parse_ok("[api]\nlisten = nowhere\nlisen = 1\n[ghost]\n");
	const struct conf_section *api = conf_section_first(cf, "api");
	struct conf_err err = {0};
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(conf_addr(api, "listen", "", host, sizeof(host), &port, &err), EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(conf_unused(cf, &err), EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "unknown key 'lisen'"));
	mem_deref(cf);

	cf = parse_ok("[api]\nx = 1\nx = 2\n");
	api = conf_section_first(cf, "api");
	{
		const char *s;

		assert_int_equal(conf_str(api, "x", NULL, &s, &err), EINVAL);
		assert_int_equal(err.line, 3);
	}
	mem_deref(cf);

	cf = parse_ok("[api]\n[ghost]\n");
	(void)conf_section_first(cf, "api");
	assert_int_equal(conf_unused(cf, &err), EINVAL);
	assert_non_null(strstr(err.msg, "unknown section [ghost]"));
	mem_deref(cf);
}

/* --check-config reports every error: a reader that failed at its first bad key leaves
 * its other keys and sections of its types read; real unknown keys elsewhere are all
 * named, in file order. */
struct seen_errs {
	unsigned lines[8], n;
};

static void err_collect(const struct conf_err *err, void *arg)
{
	struct seen_errs *e = arg;

	if (e->n < 8)
		e->lines[e->n++] = err->line;
}

static void test_every_error(void **state)
{
	struct conf *cf = parse_ok("[trunk a]\nport = 0\nhost = x\n[trunk b]\nhost = y\n"
				   "[api]\nlisten = 127.0.0.1:1\nbogus = 1\nother = 2\n"
				   "[ghost]\n");
	const struct conf_section *t, *api;
	struct conf_err err = {0};
	struct seen_errs e = {{0}, 0};
	uint64_t port;
	char host[64];
	uint16_t p16;

	(void)state;
	conf_reader_begin(cf);
	t = conf_section_first(cf, "trunk");
	assert_int_equal(conf_uint(t, "port", 5060, 1, 65535, &port, &err), EINVAL);
	conf_reader_failed(cf);     /* [trunk a] host and [trunk b] were never read */
	conf_reader_begin(cf);
	api = conf_section_first(cf, "api");
	assert_int_equal(conf_addr(api, "listen", "", host, sizeof(host), &p16, &err), 0);
	assert_int_equal(conf_unused_each(cf, err_collect, &e), 3);
	assert_int_equal(e.lines[0], 8);  /* bogus */
	assert_int_equal(e.lines[1], 9);  /* other */
	assert_int_equal(e.lines[2], 10); /* [ghost] */
	mem_deref(cf);
}

/* `key = ""` is an empty value, not two quote characters (issue #12: `push_url = ""`). */
static void test_empty_value(void **state)
{
	struct conf *cf = parse_ok("[demo]\na = \"\"\nb =\nc = \"x\"\nd = \"\"\"\n");
	const struct conf_section *sec = conf_section_first(cf, "demo");
	struct conf_err err = {0};
	const char *s = NULL;

	(void)state;
	assert_int_equal(conf_str(sec, "a", "def", &s, &err), 0);
	assert_string_equal(s, "");
	assert_int_equal(conf_str(sec, "b", "def", &s, &err), 0);
	assert_string_equal(s, "");
	assert_int_equal(conf_str(sec, "c", "def", &s, &err), 0);
	assert_string_equal(s, "\"x\"");
	assert_int_equal(conf_str(sec, "d", "def", &s, &err), 0);
	assert_string_equal(s, "\"\"\"");
	mem_deref(cf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_unused_and_bad_values),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_every_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
