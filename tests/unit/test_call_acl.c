/* Unit tests of inbound source lists (src/call/acl.c): networks parsed and matched, IPv4
 * and IPv6, mapped addresses, bad items refused with their name, and the trunk keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"
#include "call/call.h"

static bool in(const char *net, const char *addr)
{
	struct call_cidr c;
	uint8_t a[16];

	assert_int_equal(call_cidr_parse(net, &c), 0);
	if (inet_pton(AF_INET, addr, a) == 1)
		return call_cidr_match(&c, a, 4);
	assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
	return call_cidr_match(&c, a, 16);
}

static void test_cidr_v4(void **state)
{
	(void)state;
	assert_true(in("10.0.0.0/8", "10.255.1.2"));
	assert_false(in("10.0.0.0/8", "11.0.0.1"));
	assert_true(in("192.0.2.7", "192.0.2.7"));
	assert_false(in("192.0.2.7", "192.0.2.8"));
	assert_true(in("192.0.2.0/25", "192.0.2.127"));
	assert_false(in("192.0.2.0/25", "192.0.2.128"));
	assert_true(in("0.0.0.0/0", "203.0.113.9"));
	assert_true(in("172.16.0.0/12", "172.31.255.255"));
	assert_false(in("172.16.0.0/12", "172.32.0.0"));
	/* an IPv4-mapped IPv6 source is its IPv4 address */
	assert_true(in("192.0.2.0/24", "::ffff:192.0.2.1"));
	assert_false(in("192.0.2.0/24", "::ffff:198.51.100.1"));
	/* a family never matches the other */
	assert_false(in("0.0.0.0/0", "2001:db8::1"));
}

static void test_cidr_v6(void **state)
{
	(void)state;
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(in("::1", "::1"));
	assert_false(in("::1", "::2"));
	assert_false(in("::/0", "192.0.2.1"));
	assert_true(in("::/0", "fe80::1"));
}

static void test_cidr_bad(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/-1", "10.0.0.0/8x",
		"host.example", "2001:db8::/129", "2001:db8::1/32", "300.1.1.1", "10.0.0.0/+8",
	};
	struct call_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(call_cidr_parse(bad[i], &c), EINVAL);
}

static void test_acl_list(void **state)
{
	struct call_acl acl;
	char why[160] = "";

	(void)state;
	assert_int_equal(call_acl_parse("10.0.0.0/8, 2001:db8::/32 192.0.2.1", &acl, why,
					sizeof(why)), 0);
	assert_int_equal(acl.n, 3);
	assert_true(acl.set);
	assert_int_equal(call_acl_parse("none", &acl, why, sizeof(why)), 0);
	assert_int_equal(acl.n, 0);
	assert_true(acl.set);
	assert_int_equal(call_acl_parse("10.0.0.0/8, 10.0.0.1/8", &acl, why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "'10.0.0.1/8'"));
	assert_int_equal(call_acl_parse(" , ", &acl, why, sizeof(why)), EINVAL);
}

static int read_conf(const char *text, struct call_conf *cc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	rc = rc ? rc : call_conf_read(cf, cc, err);
	rc = rc ? rc : conf_unused(cf, err);
	mem_deref(cf);
	return rc;
}

static void test_conf_keys(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[trunk a]\nhost = 192.0.2.1\nroute = *\n", &cc, &err), 0);
	assert_false(cc.trunks[0].inbound_from.set);   /* the host's addresses, at start */
	assert_true(cc.inbound_from.set);
	assert_int_equal(cc.inbound_from.n, 0);
	assert_string_equal(cc.auth_realm, "cccd");

	assert_int_equal(read_conf("[sip]\ninbound_from = 127.0.0.1\nauth_realm = pbx\n"
				   "[trunk a]\nhost = 192.0.2.1\nroute = *\n"
				   "inbound_from = 198.51.100.0/24, 2001:db8::/32\n"
				   "inbound_username = carrier\ninbound_password = s3cret\n",
				   &cc, &err), 0);
	assert_int_equal(cc.inbound_from.n, 1);
	assert_string_equal(cc.auth_realm, "pbx");
	assert_int_equal(cc.trunks[0].inbound_from.n, 2);
	assert_string_equal(cc.trunks[0].inbound_username, "carrier");

	assert_int_equal(read_conf("[trunk a]\nhost = 192.0.2.1\nroute = *\n"
				   "inbound_from = 192.0.2.0/33\n", &cc, &err), EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "inbound_from"));
	assert_int_equal(read_conf("[trunk a]\nhost = 192.0.2.1\nroute = *\n"
				   "inbound_username = carrier\n", &cc, &err), EINVAL);
	assert_non_null(strstr(err.msg, "inbound_password"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_v4),
		cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_acl_list),
		cmocka_unit_test(test_conf_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
