/* Unit tests of [cluster]: the node id and the lease. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "cluster/cluster.h"
#include "conf/conf.h"

static int read_text(const char *text, struct cluster_conf *cc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc;

	assert_int_equal(conf_parse(&cf, text, strlen(text), err), 0);
	rc = cluster_conf_read(cf, cc, err);
	mem_deref(cf);
	return rc;
}

static void test_defaults(void **state)
{
	struct cluster_conf cc;
	struct conf_err err = {0};
	char host[256] = "";

	(void)state;
	assert_int_equal(read_text("", &cc, &err), 0);
	assert_int_equal(cc.lease_ms, 5000);
	assert_int_equal(cluster_node_id_check(cc.node_id), 0);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_int_equal(strncmp(host, cc.node_id, strlen(cc.node_id)), 0);
}

static void test_values(void **state)
{
	struct cluster_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_text("[cluster]\nnode_id = node-2.a_b\nlease_ms = 3000\n", &cc, &err), 0);
	assert_string_equal(cc.node_id, "node-2.a_b");
	assert_int_equal(cc.lease_ms, 3000);
}

static void test_bad_values(void **state)
{
	struct cluster_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_text("[cluster]\nnode_id = a/b\n", &cc, &err), EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "node_id"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(read_text("[cluster]\nnode_id = "
				   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
				   &cc, &err), EINVAL);
	memset(&err, 0, sizeof(err));
	assert_int_equal(read_text("[cluster]\nlease_ms = 10\n", &cc, &err), EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(cluster_node_id_check(""), EINVAL);
	assert_int_equal(cluster_node_id_check("node 1"), EINVAL);
	assert_int_equal(cluster_node_id_check("n1"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
