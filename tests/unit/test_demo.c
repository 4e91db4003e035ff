/* Unit tests of the [demo] section: no push when push_url is empty (issue #12). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"
#include "demo/demo.h"

static int demo_read(const char *text, struct demo_conf *dc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc;

	assert_int_equal(conf_parse(&cf, text, strlen(text), err), 0);
	rc = demo_conf_read(cf, dc, err);
	mem_deref(cf);
	return rc;
}

/* `push_url = ""` stopped cccd at start ("push URL is not a valid URL"): the quotes were
 * taken for the URL. Written either way, an empty value means no push. */
static void test_push_url_empty(void **state)
{
	struct conf_err err = {0};
	struct demo_conf dc;

	(void)state;
	assert_int_equal(demo_read("[demo]\npush_url = \"\"\n", &dc, &err), 0);
	assert_string_equal(dc.push_url, "");
	assert_int_equal(demo_read("[demo]\npush_url =\n", &dc, &err), 0);
	assert_string_equal(dc.push_url, "");
	assert_int_equal(demo_read("[demo]\n", &dc, &err), 0);
	assert_string_equal(dc.push_url, "http://127.0.0.1:9090/push");
}

/* A bad URL is refused when the file is read, naming its line. */
static void test_push_url_bad(void **state)
{
	struct conf_err err = {0};
	struct demo_conf dc;

	(void)state;
	assert_int_equal(demo_read("[demo]\nprovision = yes\npush_url = ftp://x/y\n", &dc, &err),
			 EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "push_url"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_url_empty),
		cmocka_unit_test(test_push_url_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
