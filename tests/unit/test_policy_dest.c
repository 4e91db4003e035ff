/* Unit tests of the destination allow-list and tenant caps (src/policy/dest.c): the
 * default blocks (international, premium per country), allow entries as numbers, prefixes
 * and "*", the switches, the JSON round trip and parse errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "policy/policy.h"

static struct policy_rules *rules(const char *json)
{
	struct policy_rules *r = NULL;
	char why[256] = "";

	if (policy_rules_parse_dest(&r, json, strlen(json), why, sizeof(why)))
		fail_msg("rules do not parse: %s", why);
	return r;
}

static int check(const struct policy_rules *r, const char *number)
{
	char why[192] = "";

	return policy_dest_check(r, number, why, sizeof(why));
}

static void test_defaults_china(void **state)
{
	struct policy_rules *r = rules("{}");

	(void)state;
	assert_int_equal(check(r, "13800138000"), 0);          /* national mobile */
	assert_int_equal(check(r, "+8675512345678"), 0);
	assert_int_equal(check(r, "008613800138000"), 0);
	assert_int_equal(check(r, "+442079460000"), EACCES);   /* international */
	assert_int_equal(check(r, "0012125550100"), EACCES);
	assert_int_equal(check(r, "+8616812345678"), EACCES);  /* premium (168) */
	assert_true(policy_dest_premium("00861601234567"));  /* premium (160) */
	assert_int_equal(check(r, "12ab"), EINVAL);
	mem_deref(r);
}

static void test_defaults_nanp(void **state)
{
	struct policy_rules *r = rules("{\"default_cc\": \"1\"}");
	char why[192] = "";

	(void)state;
	assert_int_equal(check(r, "+12125550100"), 0);
	assert_int_equal(check(r, "+17875550100"), 0);          /* Puerto Rico: domestic */
	assert_int_equal(check(r, "+19005550100"), EACCES);     /* 900 premium */
	assert_int_equal(check(r, "+18765550100"), EACCES);     /* Jamaica: billed abroad */
	assert_int_equal(check(r, "+8613800138000"), EACCES);   /* international */
	assert_int_equal(policy_dest_check(r, "+19005550123", why, sizeof(why)), EACCES);
	assert_non_null(strstr(why, "premium-rate"));
	/* a number outside the country's numbering plan (976 is no assigned area code) is
	 * refused too, as no number at all */
	assert_int_equal(check(r, "+19765550100"), EINVAL);
	assert_int_equal(policy_dest_check(r, "+442079460000", why, sizeof(why)), EACCES);
	assert_non_null(strstr(why, "international"));
	mem_deref(r);
}

static void test_allow_list(void **state)
{
	struct policy_rules *r = rules(
		"{\"destinations\": {\"allow\": [\"+44207*\", \"+8616812345678\", "
		"\"0012125550100\"]}}");

	(void)state;
	assert_int_equal(check(r, "+442079460000"), 0);         /* the prefix */
	assert_int_equal(check(r, "+442089460000"), EACCES);    /* beside it */
	assert_int_equal(check(r, "+8616812345678"), 0);        /* one premium number */
	assert_int_equal(check(r, "+8616812345679"), EACCES);
	assert_int_equal(check(r, "+12125550100"), 0);
	assert_int_equal(check(r, "+12125550101"), EACCES);
	/* extensions and short codes: only by name */
	assert_int_equal(check(r, "7001"), EACCES);
	mem_deref(r);
	r = rules("{\"destinations\": {\"allow\": [\"7001\", \"+44*\"]}}");
	assert_int_equal(check(r, "7001"), 0);
	assert_int_equal(check(r, "7002"), EACCES);
	assert_int_equal(check(r, "12590"), EACCES);
	assert_int_equal(check(r, "70a1"), EINVAL);
	mem_deref(r);

	r = rules("{\"destinations\": {\"allow\": [\"*\"]}}");
	assert_int_equal(check(r, "7001"), 0);
	assert_int_equal(check(r, "+19005550100"), 0);
	mem_deref(r);

	r = rules("{\"destinations\": {\"international\": true}}");
	assert_int_equal(check(r, "+12125550100"), 0);
	assert_int_equal(check(r, "+19005550100"), EACCES);     /* premium still blocked */
	assert_int_equal(check(r, "+499001234567"), EACCES);     /* German 0900: premium */
	mem_deref(r);

	r = rules("{\"destinations\": {\"premium\": true}}");
	assert_int_equal(check(r, "+8616812345678"), 0);
	assert_int_equal(check(r, "+12125550100"), EACCES);
	mem_deref(r);
}

static void test_premium_table(void **state)
{
	(void)state;
	assert_true(policy_dest_premium("00449012345678"));
	assert_true(policy_dest_premium("00448712345678"));
	assert_true(policy_dest_premium("0049900123456"));
	assert_false(policy_dest_premium("00442079460000"));
	assert_false(policy_dest_premium("008613800138000"));
	assert_false(policy_dest_premium("0049301234567"));
}

static void test_caps_and_round_trip(void **state)
{
	static const char json[] =
		"{\"destinations\": {\"allow\": [\"+44*\", \"7001\", \"*\"], \"premium\": true},"
		" \"tenant_caps\": {\"channels\": 5, \"minutes_daily\": 600}}";
	struct policy_rules *r = NULL, *r2 = NULL;
	char *text = NULL, why[256];

	(void)state;
	assert_int_equal(policy_rules_parse(&r, json, strlen(json), why, sizeof(why)), 0);
	assert_int_equal(policy_caps_channels(r), 5);
	assert_int_equal(policy_caps_minutes_daily(r), 600);
	assert_int_equal(policy_rules_json(r, &text), 0);
	assert_non_null(strstr(text, "\"destinations\":{\"allow\":[\"0044*\",\"7001\",\"*\"],"
			       "\"international\":false,\"premium\":true}"));
	assert_non_null(strstr(text, "\"tenant_caps\":{\"channels\":5,\"minutes_daily\":600}"));
	assert_int_equal(policy_rules_parse(&r2, text, strlen(text), why, sizeof(why)), 0);
	assert_int_equal(policy_caps_channels(r2), 5);
	mem_deref(text);
	mem_deref(r);
	mem_deref(r2);
}

static void test_errors(void **state)
{
	static const struct { const char *json, *why; } bad[] = {
		{"{\"destinations\": {\"allow\": [\"+44x*\"]}}", "destinations.allow[0]"},
		{"{\"destinations\": {\"allow\": [5]}}", "destinations.allow[0]"},
		{"{\"destinations\": {\"block\": []}}", "destinations.block: unknown setting"},
		{"{\"destinations\": {\"premium\": 1}}", "destinations.premium: must be true"},
		{"{\"tenant_caps\": {\"channels\": -1}}", "tenant_caps.channels: must be an"},
		{"{\"own\": {\"tenant_caps\": {}}}", "own.tenant_caps"},
	};
	struct policy_rules *r = NULL;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(policy_rules_parse_dest(&r, bad[i].json, strlen(bad[i].json),
							 why, sizeof(why)), EINVAL);
		if (!strstr(why, bad[i].why))
			fail_msg("%s: '%s' lacks '%s'", bad[i].json, why, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_china),
		cmocka_unit_test(test_defaults_nanp),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_premium_table),
		cmocka_unit_test(test_caps_and_round_trip),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
