/* Unit tests of the destination allow-list and tenant caps (src/policy/dest.c): the
 * default blocks (international, premium per country), allow entries as numbers, prefixes
 * and "*", the switches, the JSON round trip and parse errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
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
	assert_int_equal(check(r, "+8616012345678"), EACCES);  /* premium (160) */
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

static bool premium(const char *number)
{
	struct policy_number_kind k;

	if (policy_number_kind(number, NULL, &k))
		fail_msg("%s: no kind", number);
	return k.premium;
}

/* One source of truth for "premium": policy_number_kind (libphonenumber's types where it
 * knows the country, China's own rules where it does not). */
static void test_premium_countries(void **state)
{
	(void)state;
	assert_true(premium("00861601234567"));   /* CN 160, 168: TCCC rules */
	assert_true(premium("00861681234567"));
	assert_true(premium("0019005550123"));    /* US 1-900 */
	assert_true(premium("0018765550100"));    /* Jamaica (NANP, billed abroad) */
	assert_true(premium("0012423571234"));    /* the Bahamas */
	assert_true(premium("00449098790000"));   /* UK 09 */
	assert_true(premium("00448712345678"));   /* UK 0871 */
	assert_true(premium("00447012345678"));   /* UK 070 personal numbers */
	assert_true(premium("00499001234567"));   /* DE 0900 */
	assert_true(premium("0039899123456"));    /* IT 899 */
	assert_true(premium("0033891234567"));    /* FR 089 */
	assert_false(premium("008613800138000"));
	assert_false(premium("00864001234567"));  /* CN 400 shared cost: callable */
	assert_false(premium("0012125550100"));
	assert_false(premium("0017875550100"));   /* Puerto Rico: domestic */
	assert_false(premium("0018005550199"));   /* US toll free */
	assert_false(premium("00442079460000"));
	assert_false(premium("0049301234567"));
	assert_false(premium("00390612345678"));
}

/* The premium block as each country's instance meets it: its own premium numbers are
 * domestic, and still refused unless "premium" is on. */
static void test_premium_domestic(void **state)
{
	static const struct { const char *cc, *premium, *ordinary; } c[] = {
		{"86", "16812345678", "13800138000"},
		{"1", "9005550123", "2125550100"},
		{"44", "09098790000", "02079460000"},
		{"49", "09001234567", "0301234567"},
		{"39", "899123456", "0612345678"},
	};
	char json[128], why[192];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct policy_rules *r;

		snprintf(json, sizeof(json), "{\"default_cc\": \"%s\"}", c[i].cc);
		r = rules(json);
		why[0] = '\0';
		assert_int_equal(policy_dest_check(r, c[i].premium, why, sizeof(why)), EACCES);
		if (!strstr(why, "premium-rate"))
			fail_msg("%s in %s: %s", c[i].premium, c[i].cc, why);
		assert_int_equal(check(r, c[i].ordinary), 0);
		mem_deref(r);
		snprintf(json, sizeof(json), "{\"default_cc\": \"%s\", \"destinations\": "
			 "{\"premium\": true}}", c[i].cc);
		r = rules(json);
		assert_int_equal(check(r, c[i].premium), 0);
		mem_deref(r);
	}
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
		cmocka_unit_test(test_premium_countries),
		cmocka_unit_test(test_premium_domestic),
		cmocka_unit_test(test_caps_and_round_trip),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
