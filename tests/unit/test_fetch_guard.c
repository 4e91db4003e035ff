/* Unit tests of the fetch guard: every class of address, IPv4 and IPv6, with the IPv6
 * forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) classed by it, and
 * what each allow setting lets through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>
#include "fetch/fetch.h"

static enum fetch_addr_class class_of(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	}
	else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
	return fetch_addr_class((struct sockaddr *)&ss);
}

static bool allowed(const char *text, unsigned allow)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	memset(&in6, 0, sizeof(in6));
	memset(&in, 0, sizeof(in));
	if (strchr(text, ':')) {
		in6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6.sin6_addr), 1);
		return fetch_addr_allowed((struct sockaddr *)&in6, allow);
	}
	in.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &in.sin_addr), 1);
	return fetch_addr_allowed((struct sockaddr *)&in, allow);
}

static void test_v4_classes(void **state)
{
	static const struct {
		const char *addr;
		enum fetch_addr_class c;
	} cases[] = {
		{"8.8.8.8", FETCH_ADDR_PUBLIC}, {"203.0.113.7", FETCH_ADDR_PUBLIC},
		{"172.32.0.1", FETCH_ADDR_PUBLIC}, {"100.128.0.1", FETCH_ADDR_PUBLIC},
		{"11.0.0.1", FETCH_ADDR_PUBLIC}, {"223.255.255.255", FETCH_ADDR_PUBLIC},
		{"127.0.0.1", FETCH_ADDR_LOOPBACK}, {"127.255.255.254", FETCH_ADDR_LOOPBACK},
		{"10.0.0.1", FETCH_ADDR_PRIVATE}, {"172.16.0.1", FETCH_ADDR_PRIVATE},
		{"172.31.255.255", FETCH_ADDR_PRIVATE}, {"192.168.1.1", FETCH_ADDR_PRIVATE},
		{"100.64.0.1", FETCH_ADDR_PRIVATE}, {"100.127.255.255", FETCH_ADDR_PRIVATE},
		{"169.254.169.254", FETCH_ADDR_LINK_LOCAL}, {"224.0.0.1", FETCH_ADDR_MULTICAST},
		{"239.255.255.250", FETCH_ADDR_MULTICAST}, {"0.0.0.0", FETCH_ADDR_UNSPECIFIED},
		{"0.1.2.3", FETCH_ADDR_UNSPECIFIED}, {"240.0.0.1", FETCH_ADDR_RESERVED},
		{"255.255.255.255", FETCH_ADDR_RESERVED},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (class_of(cases[i].addr) != cases[i].c)
			fail_msg("%s: class %d, expected %d", cases[i].addr,
				 class_of(cases[i].addr), cases[i].c);
	}
}

static void test_v6_classes(void **state)
{
	static const struct {
		const char *addr;
		enum fetch_addr_class c;
	} cases[] = {
		{"2001:db8::1", FETCH_ADDR_PUBLIC}, {"2a00:1450::1", FETCH_ADDR_PUBLIC},
		{"::1", FETCH_ADDR_LOOPBACK}, {"::", FETCH_ADDR_UNSPECIFIED},
		{"fe80::1", FETCH_ADDR_LINK_LOCAL}, {"febf::1", FETCH_ADDR_LINK_LOCAL},
		{"fc00::1", FETCH_ADDR_PRIVATE}, {"fd12:3456::1", FETCH_ADDR_PRIVATE},
		{"fec0::1", FETCH_ADDR_PRIVATE}, {"ff02::1", FETCH_ADDR_MULTICAST},
		/* IPv4 inside IPv6 is classed by the IPv4 address. */
		{"::ffff:127.0.0.1", FETCH_ADDR_LOOPBACK}, {"::ffff:10.1.2.3", FETCH_ADDR_PRIVATE},
		{"::ffff:169.254.169.254", FETCH_ADDR_LINK_LOCAL},
		{"::ffff:8.8.8.8", FETCH_ADDR_PUBLIC}, {"::ffff:0.0.0.0", FETCH_ADDR_UNSPECIFIED},
		{"::127.0.0.1", FETCH_ADDR_LOOPBACK}, {"64:ff9b::192.168.0.1", FETCH_ADDR_PRIVATE},
		{"64:ff9b::8.8.8.8", FETCH_ADDR_PUBLIC}, {"2002:7f00:1::1", FETCH_ADDR_LOOPBACK},
		{"2002:a9fe:a9fe::1", FETCH_ADDR_LINK_LOCAL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (class_of(cases[i].addr) != cases[i].c)
			fail_msg("%s: class %d, expected %d", cases[i].addr,
				 class_of(cases[i].addr), cases[i].c);
	}
}

static void test_other_family_is_reserved(void **state)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};

	(void)state;
	assert_int_equal(fetch_addr_class((struct sockaddr *)&un), FETCH_ADDR_RESERVED);
	assert_int_equal(fetch_addr_class(NULL), FETCH_ADDR_RESERVED);
	assert_false(fetch_addr_allowed((struct sockaddr *)&un, ~0u));
}

static void test_allow_settings(void **state)
{
	(void)state;
	/* By default only public addresses. */
	assert_true(allowed("8.8.8.8", 0));
	assert_true(allowed("2001:db8::1", 0));
	assert_false(allowed("127.0.0.1", 0));
	assert_false(allowed("::1", 0));
	assert_false(allowed("::ffff:127.0.0.1", 0));
	assert_false(allowed("10.0.0.1", 0));
	assert_false(allowed("169.254.169.254", 0));
	/* Loopback allowed: loopback only. */
	assert_true(allowed("127.0.0.1", FETCH_ALLOW_LOOPBACK));
	assert_true(allowed("::1", FETCH_ALLOW_LOOPBACK));
	assert_true(allowed("::ffff:127.0.0.1", FETCH_ALLOW_LOOPBACK));
	assert_false(allowed("192.168.0.1", FETCH_ALLOW_LOOPBACK));
	/* Private allowed: private and link-local, not loopback. */
	assert_true(allowed("192.168.0.1", FETCH_ALLOW_PRIVATE));
	assert_true(allowed("fd00::1", FETCH_ALLOW_PRIVATE));
	assert_true(allowed("fe80::1", FETCH_ALLOW_PRIVATE));
	assert_false(allowed("127.0.0.1", FETCH_ALLOW_PRIVATE));
	/* Never: multicast, unspecified, reserved — whatever the setting. */
	assert_false(allowed("224.0.0.1", ~0u));
	assert_false(allowed("ff02::1", ~0u));
	assert_false(allowed("0.0.0.0", ~0u));
	assert_false(allowed("::", ~0u));
	assert_false(allowed("255.255.255.255", ~0u));
}

static void test_non_http_urls_are_refused(void **state)
{
	struct fetch_limits lim = {.max_bytes = 1024, .timeout_ms = 1000, .max_redirects = 1,
				   .allow = ~0u};
	uint8_t *body = NULL;
	size_t len = 0;
	char why[128];

	(void)state;
	assert_int_equal(fetch_get("file:///etc/passwd", &lim, &body, &len, NULL, why,
				   sizeof(why)), EPROTONOSUPPORT);
	assert_int_equal(fetch_get("gopher://127.0.0.1/", &lim, &body, &len, NULL, why,
				   sizeof(why)), EPROTONOSUPPORT);
	assert_null(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_classes),
		cmocka_unit_test(test_v6_classes),
		cmocka_unit_test(test_other_family_is_reserved),
		cmocka_unit_test(test_allow_settings),
		cmocka_unit_test(test_non_http_urls_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
