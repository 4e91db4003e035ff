/* Unit tests of phone number normalisation (callout-rules.md §3.2): every example of the
 * spec, the CN rules, other countries by their plans (NANP, Italy, the UK, Germany,
 * India, Brazil), the rejections with their reasons, and the kinds of numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>
#include "policy/policy.h"
#include "policy/policy_int.h"

static void ok_cc(const char *in, const char *cc, const char *want)
{
	char out[33], why[160] = "";
	int err = policy_number_normalise(in, cc, out, why, sizeof(why));

	if (err)
		print_error("'%s': %s\n", in, why);
	assert_int_equal(err, 0);
	assert_string_equal(out, want);
}

static void ok(const char *in, const char *want)
{
	ok_cc(in, NULL, want);
}

static void bad_cc(const char *in, const char *cc, const char *needle)
{
	char out[33], why[160] = "";

	assert_int_equal(policy_number_normalise(in, cc, out, why, sizeof(why)), EINVAL);
	if (!strstr(why, needle))
		print_error("'%s': got '%s', want '%s'\n", in, why, needle);
	assert_non_null(strstr(why, needle));
}

static void bad(const char *in, const char *needle)
{
	bad_cc(in, "86", needle);
}

static void test_spec_examples(void **state)
{
	(void)state;
	/* The form TCCC uses, and its '+' spelling. */
	ok("008613012345678", "008613012345678");
	ok("+8613012345678", "008613012345678");
	/* 0086 followed by the trunk 0 (Tencent's own examples do this). */
	ok("0086010 8888 6666", "00861088886666");
	ok("00860108888 6666", "00861088886666");
	/* National forms. */
	ok("010 8888 6666", "00861088886666");
	ok("013800138000", "008613800138000");
	ok("8613800138000", "008613800138000");
	ok("13800138000", "008613800138000");
	/* Separators and spaces around. */
	ok("  +86 138-0013-8000 ", "008613800138000");
	ok("(010) 8888.6666", "00861088886666");
	ok("\t13800138000\t", "008613800138000");
	/* Fixed lines: 2-digit area codes (10, 2x) with 7-8 digit subscribers, 3-digit
	 * area codes with 7-8. */
	ok("021 1234 5678", "00862112345678");
	ok("021 123 4567", "0086211234567");
	ok("0991 123 4567", "00869911234567");
	ok("0891 1234 5678", "008689112345678");
	/* 400/800 numbers in the international form. */
	ok("+86 400 123 4567", "00864001234567");
	ok("0086 800 123 4567", "00868001234567");
	/* Every mobile range 13-19. */
	ok("19912345678", "008619912345678");
	ok("17012345678", "008617012345678");
}

/* Every example of docs/callout-rules.md §3 and docs/api-compatibility.md, as written. */
static void test_doc_examples(void **state)
{
	(void)state;
	ok("+8613012345678", "008613012345678");
	ok("0086010 8888 6666", "00861088886666");
	ok("013800138000", "008613800138000");
	ok("8613800138000", "008613800138000");
	ok("12345678901", "008612345678901");
	ok("0400 123 4567", "00864001234567");
	ok("+44 20 7946 0958", "00442079460958");
	ok("13800138000", "008613800138000");
	ok("010 8888 6666", "00861088886666");
	ok("\t+86 138 0013 8000 ", "008613800138000");
	bad("10086", "not a number cccd can call");
	bad("95588", "not a number cccd can call");
	bad("4001234567", "not a number cccd can call");
	bad("1234567890", "not a number cccd can call");
	bad("+999 1234567", "no known country code");
	bad("abc", "character other than digits");
	bad("138 0013 8000 ext 1", "character other than digits");
	bad("008613800138000;x", "character other than digits");
	bad("13800138000*", "character other than digits");
	{
		char out[33], why[160];

		/* 20 digits at most, a '+' counted as the "00" it becomes; 3 at least. */
		assert_int_equal(policy_number_syntax("+123456789012345678", out, why,
						      sizeof(why)), 0);
		assert_string_equal(out, "00123456789012345678");
		assert_int_equal(policy_number_syntax("+1234567890123456789", out, why,
						      sizeof(why)), EINVAL);
		assert_int_equal(policy_number_syntax("00123", out, why, sizeof(why)), 0);
		assert_int_equal(policy_number_syntax("0012", out, why, sizeof(why)), EINVAL);
		assert_int_equal(policy_number_syntax("112", out, why, sizeof(why)), 0);
	}
}

static void test_other_countries(void **state)
{
	(void)state;
	ok("+44 20 7946 0958", "00442079460958");
	ok("001 212 555 0100", "0012125550100");
	ok("+852 2123 4567", "0085221234567");
	ok("+7 495 123 4567", "0074951234567");
	/* An instance in another country: national numbers lose one trunk 0. */
	ok_cc("020 7946 0958", "44", "00442079460958");
	ok_cc("2079460958", "44", "00442079460958");
	ok_cc("+86 138 0013 8000", "44", "008613800138000");
	ok_cc("13800138000", "", "008613800138000");  /* "" = the default, 86 */
}

static void test_rejections(void **state)
{
	char out[33];

	(void)state;
	bad("", "no digits");
	bad("  - ", "no digits");
	bad("abc", "character other than digits");
	bad("138 0013 8000x", "character other than digits");
	bad("++8613800138000", "character other than digits");
	bad("86+13800138000", "character other than digits");
	bad("+0086138001380000", "no country code starts with 0");
	bad("1380013800012345678901", "too many digits");
	bad("1234567890123456789012345678901234567890123456789012345678901234567",
	    "longer than 64");
	/* Short codes and service numbers in national form (cccd choice). */
	bad("10086", "not a number cccd can call");
	bad("95588", "not a number cccd can call");
	bad("4001234567", "not a number cccd can call");
	bad("112", "not a number cccd can call");
	/* Not a valid Chinese NSN. */
	/* Tencent's documented example numbers (12x) are taken as mobiles. */
	ok("12345678901", "008612345678901");
	ok("008612300000000", "008612300000000");
	bad("1234567890", "not a number cccd can call");
	bad("+861234567890", "not a Chinese mobile");
	bad("+86123456789012", "not a Chinese mobile");
	bad("+86 138 0013 800", "not a Chinese mobile");
	bad("010 123 456", "has 9 or 10 digits");
	bad("0991 123 456", "has 10 or 11 digits");
	bad("0991 1234 56789", "has 10 or 11 digits");
	bad("0086", "no number after the country code");
	bad("0086 0", "not a valid Chinese number");
	/* International. */
	bad("+999 1234567", "no known country code");
	bad("00", "no known country code");
	bad("+44 123", "4 to 15 digits");
	bad("+44 1234 5678 9012 34", "4 to 15 digits");
	/* The instance's country must be real. */
	bad_cc("13800138000", "999", "not a country code");
	bad_cc("13800138000", "8a", "not a country code");
	bad_cc("12", "44", "4 to 15 digits");
	assert_int_equal(policy_number_normalise(NULL, NULL, out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_normalise("13800138000", NULL, out, NULL, 0), 0);
}

/* Instances outside China: national numbers by their country's plan (libphonenumber). */
static void test_nanp(void **state)
{
	(void)state;
	ok_cc("212 555 0100", "1", "0012125550100");
	ok_cc("1 212 555 0100", "1", "0012125550100");    /* trunk 1 dropped */
	ok_cc("(416) 555-0100", "1", "0014165550100");    /* Canada shares +1 */
	ok_cc("1-800-555-0199", "1", "0018005550199");
	ok_cc("011 44 20 7946 0958", "1", "00442079460958");  /* NANP's own international prefix */
	ok_cc("011 86 138 0013 8000", "1", "008613800138000");
	ok_cc("+86 138 0013 8000", "1", "008613800138000");
	bad_cc("911", "1", "4 to 15 digits");
	bad_cc("555 0100", "1", "local number");
	bad_cc("123 456 7890", "1", "numbering plan");
	bad_cc("13800138000", "1", "numbering plan");
}

static void test_italy(void **state)
{
	(void)state;
	/* The leading 0 of Italian fixed lines is part of the number, at home and abroad. */
	ok_cc("06 1234 5678", "39", "00390612345678");
	ok_cc("+39 06 1234 5678", "39", "00390612345678");
	ok_cc("+39 06 1234 5678", "86", "00390612345678");
	ok_cc("0039 02 1234 5678", "44", "00390212345678");
	ok_cc("347 123 4567", "39", "00393471234567");
	bad_cc("06 12", "39", "4 to 15 digits");
	bad_cc("123 4567", "39", "numbering plan");
}

static void test_uk_germany_india_brazil(void **state)
{
	(void)state;
	ok_cc("020 7946 0958", "44", "00442079460958");
	ok_cc("0800 123 4567", "44", "00448001234567");
	ok_cc("+44 (0)20 7946 0958", "44", "00442079460958");
	bad_cc("07700 900123", "44", "numbering plan");   /* Ofcom's drama range */
	ok_cc("030 123456", "49", "004930123456");
	ok_cc("0151 1234 5678", "49", "004915112345678");
	ok_cc("+49 30 123456", "1", "004930123456");
	/* Germany's plan allows longer numbers than E.164 (found by fuzz_number). */
	bad_cc("4 20 7946 046 0958", "49", "4 to 15 digits");
	ok_cc("098765 43210", "91", "00919876543210");
	ok_cc("98765 43210", "91", "00919876543210");
	ok_cc("(11) 91234-5678", "55", "005511912345678");
	ok_cc("0 15 11 91234 5678", "55", "005511912345678");  /* carrier code 15 */
	ok_cc("+55 11 91234 5678", "86", "005511912345678");
	/* International numbers are checked against their own plan too. */
	bad_cc("+49 30", "86", "4 to 15 digits");
	bad_cc("+1 123 456 7890", "86", "numbering plan");
	bad_cc("+39 123 4567", "86", "numbering plan");
	/* A non-geographic code as the instance's country, and one that is unassigned. */
	ok_cc("1234 5678", "800", "0080012345678");
	bad_cc("212 555 0100", "379", "not a country code");
}

static void kind_is(const char *number, const char *cc, enum numbering_type type, bool intl)
{
	struct policy_number_kind k;

	assert_int_equal(policy_number_kind(number, cc, &k), 0);
	if (k.type != type)
		print_error("%s: %s, want %s\n", number, numbering_type_name(k.type),
			    numbering_type_name(type));
	assert_int_equal(k.type, type);
	assert_int_equal(k.international, intl);
}

static void test_kinds(void **state)
{
	struct policy_number_kind k;

	(void)state;
	kind_is("008613800138000", NULL, NUMBERING_MOBILE, false);
	kind_is("008612300000000", "86", NUMBERING_MOBILE, false);
	kind_is("00861088886666", "86", NUMBERING_FIXED, false);
	kind_is("00864001234567", "86", NUMBERING_SHARED_COST, false);
	kind_is("00868001234567", "86", NUMBERING_TOLL_FREE, false);
	kind_is("00861088886666", "1", NUMBERING_FIXED, true);
	kind_is("0012125550100", "1", NUMBERING_FIXED_OR_MOBILE, false);
	kind_is("0019005551234", "1", NUMBERING_PREMIUM, false);
	kind_is("0018005550199", "1", NUMBERING_TOLL_FREE, false);
	kind_is("00448712345678", "44", NUMBERING_PREMIUM, false);
	kind_is("00499001234567", "44", NUMBERING_PREMIUM, true);
	kind_is("0039899123456", "39", NUMBERING_PREMIUM, false);
	kind_is("00390612345678", "39", NUMBERING_FIXED, false);
	kind_is("00393471234567", "39", NUMBERING_MOBILE, false);
	kind_is("004915112345678", "49", NUMBERING_MOBILE, false);
	kind_is("004930123456", "39", NUMBERING_FIXED, true);
	kind_is("0013", "1", NUMBERING_UNKNOWN, false);
	assert_int_equal(policy_number_kind("13800138000", "86", &k), EINVAL);
	assert_int_equal(policy_number_kind("00", "86", &k), EINVAL);
	assert_int_equal(policy_number_kind("00999123", "86", &k), EINVAL);
	assert_int_equal(policy_number_kind(NULL, "86", &k), EINVAL);
}

static void prefix_is(const char *in, const char *cc, const char *want)
{
	char out[33], why[160] = "";
	int err = policy_prefix_normalise(in, cc, out, why, sizeof(why));

	if (err)
		print_error("'%s': %s\n", in, why);
	assert_int_equal(err, 0);
	assert_string_equal(out, want);
}

/* Blacklist prefixes lose their country's trunk prefix, whatever it is. */
static void test_prefixes(void **state)
{
	char out[33], why[160] = "";

	(void)state;
	prefix_is("0991*", "86", "0086991");
	prefix_is("170*", "86", "0086170");
	prefix_is("+86 0991*", "44", "0086991");
	prefix_is("020*", "44", "004420");
	prefix_is("1900*", "1", "001900");
	prefix_is("06*", "39", "003906");
	prefix_is("0151*", "49", "0049151");
	assert_int_equal(policy_prefix_normalise("900*", "1", out, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "trunk prefix '1'"));
	assert_int_equal(policy_prefix_normalise("20*", "44", out, why, sizeof(why)), EINVAL);
}

/* API threads normalise at once: libphonenumber's first use and its regular-expression
 * cache are shared between them (run under the tsan variant too). */
static void *normalise_many(void *arg)
{
	static const char *const in[][3] = {
		{"06 1234 5678", "39", "00390612345678"},
		{"1 212 555 0100", "1", "0012125550100"},
		{"020 7946 0958", "44", "00442079460958"},
		{"13800138000", "86", "008613800138000"},
		{"0151 1234 5678", "49", "004915112345678"},
	};
	size_t bad = 0;

	for (size_t i = 0; i < 200; i++) {
		const char *const *c = in[(i + (size_t)(uintptr_t)arg) % 5];
		char out[33];

		if (policy_number_normalise(c[0], c[1], out, NULL, 0) || strcmp(out, c[2]))
			bad++;
	}
	return (void *)(uintptr_t)bad;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	void *bad;

	(void)state;
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, normalise_many, (void *)i), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_other_countries),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_nanp),
		cmocka_unit_test(test_italy),
		cmocka_unit_test(test_uk_germany_india_brazil),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
