/* Unit tests of the rule set's JSON form: defaults, demo, round trips, and parse errors
 * that name the field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <re_types.h>
#include <re_mem.h>
#include "policy/policy.h"

static struct policy_rules *parse_ok(const char *json)
{
	struct policy_rules *r = NULL;
	char why[256] = "";
	int err = policy_rules_parse(&r, json, strlen(json), why, sizeof(why));

	if (err)
		print_error("%s\n", why);
	assert_int_equal(err, 0);
	assert_non_null(r);
	return r;
}

static void parse_fails(const char *json, const char *want)
{
	struct policy_rules *r = NULL;
	char why[256] = "";

	assert_int_equal(policy_rules_parse(&r, json, strlen(json), why, sizeof(why)), EINVAL);
	assert_null(r);
	if (strncmp(why, want, strlen(want)) != 0)
		print_error("got  '%s'\nwant '%s...'\n", why, want);
	assert_int_equal(strncmp(why, want, strlen(want)), 0);
}

/* The rules' JSON text as a jansson value. */
static json_t *rules_value(const struct policy_rules *r)
{
	char *text = NULL;
	json_t *v;

	assert_int_equal(policy_rules_json(r, &text), 0);
	v = json_loads(text, 0, NULL);
	assert_non_null(v);
	mem_deref(text);
	return v;
}

static json_t *at(json_t *v, const char *path)
{
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	assert_non_null(v);
	return v;
}

static void test_defaults(void **state)
{
	struct policy_rules *r;
	json_t *v;

	(void)state;
	assert_int_equal(policy_rules_default(&r), 0);
	assert_string_equal(policy_rules_default_cc(r), "86");
	v = rules_value(r);
	assert_true(json_is_true(at(v, "work_time.enabled")));
	assert_string_equal(json_string_value(at(v, "work_time.zone")), "Asia/Shanghai");
	assert_int_equal(json_array_size(at(v, "work_time.windows")), 1);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(at(v, "work_time.windows"), 0), "start")), "08:00:00");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(at(v, "work_time.windows"), 0), "end")), "21:00:00");
	assert_int_equal(json_array_size(json_object_get(
		json_array_get(at(v, "work_time.windows"), 0), "days")), 7);
	assert_int_equal(json_array_size(at(v, "work_time.holidays")), 0);
	assert_true(json_is_true(at(v, "blind_area.enabled")));
	assert_string_equal(json_string_value(json_array_get(at(v, "blind_area.regions"), 0)),
			    "CN-XJ");
	assert_string_equal(json_string_value(json_array_get(at(v, "blind_area.regions"), 1)),
			    "CN-XZ");
	assert_string_equal(json_string_value(at(v, "blind_area.unknown_location")), "allow");
	assert_int_equal(json_integer_value(at(v, "callee_interval.max")), 3);
	assert_int_equal(json_integer_value(at(v, "callee_interval.window_s")), 300);
	assert_int_equal(json_integer_value(at(v, "callee_daily.max")), 5);
	assert_string_equal(json_string_value(at(v, "callee_daily.mode")), "rolling24h");
	assert_int_equal(json_integer_value(at(v, "caller_freq.max")), 0);
	assert_int_equal(json_integer_value(at(v, "caller_concurrency")), 1);
	assert_true(json_is_true(at(v, "blacklist.enabled")));
	/* Own numbers: everything but the blacklist off. */
	assert_true(json_is_false(at(v, "own.work_time.enabled")));
	assert_true(json_is_false(at(v, "own.blind_area.enabled")));
	assert_int_equal(json_integer_value(at(v, "own.callee_interval.max")), 0);
	assert_int_equal(json_integer_value(at(v, "own.callee_daily.max")), 0);
	assert_int_equal(json_integer_value(at(v, "own.caller_concurrency")), 0);
	assert_true(json_is_true(at(v, "own.blacklist.enabled")));
	json_decref(v);
	mem_deref(r);
}

static void test_demo(void **state)
{
	struct policy_rules *r;
	json_t *v;

	(void)state;
	assert_int_equal(policy_rules_demo(&r), 0);
	v = rules_value(r);
	assert_true(json_is_false(at(v, "work_time.enabled")));
	assert_int_equal(json_integer_value(at(v, "callee_interval.max")), 0);
	assert_int_equal(json_integer_value(at(v, "callee_daily.max")), 0);
	assert_int_equal(json_integer_value(at(v, "caller_concurrency")), 0);
	assert_int_equal(json_integer_value(at(v, "own.caller_concurrency")), 0);
	assert_true(json_is_true(at(v, "blacklist.enabled")));
	json_decref(v);
	mem_deref(r);
}

/* parse(json(r)) gives the same rules: the text out is a fixed point. */
static void round_trip(const char *json)
{
	struct policy_rules *r = parse_ok(json), *r2;
	char *a = NULL, *b = NULL;

	assert_int_equal(policy_rules_json(r, &a), 0);
	r2 = parse_ok(a);
	assert_int_equal(policy_rules_json(r2, &b), 0);
	assert_string_equal(a, b);
	mem_deref(a);
	mem_deref(b);
	mem_deref(r);
	mem_deref(r2);
}

static void test_custom_and_round_trip(void **state)
{
	static const char custom[] =
		"{\"default_cc\": \"86\","
		" \"work_time\": {\"enabled\": true, \"zone\": \"Europe/London\","
		"   \"windows\": [{\"days\": [\"Mon-Fri\"], \"start\": \"09:00\", \"end\": \"12:30\"},"
		"                 {\"days\": [\"sat\", \"Sun\"], \"start\": \"10:00:30\", \"end\": \"24:00\"},"
		"                 {\"days\": [\"Sat-Mon\"], \"start\": \"00:00\", \"end\": \"01:00\"}],"
		"   \"holidays\": [\"2026-12-25\", \"2026-01-01\", \"2028-02-29\"]},"
		" \"blind_area\": {\"enabled\": false, \"regions\": [\"CN-XJ\", \"CC-44\", \"CN-XJ\"],"
		"   \"unknown_location\": \"deny\"},"
		" \"callee_interval\": {\"max\": 2, \"window_s\": 60},"
		" \"callee_daily\": {\"max\": 10, \"mode\": \"calendar\"},"
		" \"caller_freq\": {\"max\": 30, \"window_s\": 3600},"
		" \"caller_concurrency\": 4,"
		" \"blacklist\": {\"enabled\": true, \"entries\": [\"13800138000\", \"+86 170*\","
		"   \"0991*\", \"+44 20 7946 0958\", \"008613800138000\"]},"
		" \"own\": {\"work_time\": {\"enabled\": true}, \"caller_concurrency\": 2,"
		"   \"callee_daily\": {\"max\": 3}, \"blacklist\": {\"enabled\": false}}}";
	struct policy_rules *r;
	json_t *v, *w;

	(void)state;
	r = parse_ok(custom);
	v = rules_value(r);
	assert_string_equal(json_string_value(at(v, "work_time.zone")), "Europe/London");
	w = at(v, "work_time.windows");
	assert_int_equal(json_array_size(w), 3);
	assert_int_equal(json_array_size(json_object_get(json_array_get(w, 0), "days")), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "end")),
			    "12:30:00");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 1), "start")),
			    "10:00:30");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 1), "end")),
			    "24:00:00");
	assert_int_equal(json_array_size(json_object_get(json_array_get(w, 2), "days")), 3);
	/* Holidays sorted. */
	assert_string_equal(json_string_value(json_array_get(at(v, "work_time.holidays"), 0)),
			    "2026-01-01");
	assert_string_equal(json_string_value(json_array_get(at(v, "work_time.holidays"), 2)),
			    "2028-02-29");
	/* Duplicate region dropped. */
	assert_int_equal(json_array_size(at(v, "blind_area.regions")), 2);
	assert_string_equal(json_string_value(at(v, "blind_area.unknown_location")), "deny");
	assert_string_equal(json_string_value(at(v, "callee_daily.mode")), "calendar");
	/* Entries normalised, duplicates merged: exact numbers first, then prefixes. */
	w = at(v, "blacklist.entries");
	assert_int_equal(json_array_size(w), 4);
	assert_string_equal(json_string_value(json_array_get(w, 0)), "00442079460958");
	assert_string_equal(json_string_value(json_array_get(w, 1)), "008613800138000");
	assert_string_equal(json_string_value(json_array_get(w, 2)), "0086170*");
	assert_string_equal(json_string_value(json_array_get(w, 3)), "0086991*");
	assert_true(json_is_true(at(v, "own.work_time.enabled")));
	assert_int_equal(json_integer_value(at(v, "own.caller_concurrency")), 2);
	assert_int_equal(json_integer_value(at(v, "own.callee_daily.max")), 3);
	assert_true(json_is_false(at(v, "own.blacklist.enabled")));
	json_decref(v);
	mem_deref(r);

	round_trip(custom);
	round_trip("{}");
	round_trip("{\"blind_area\": {\"regions\": []}, \"default_cc\": \"44\","
		   " \"blacklist\": {\"entries\": [\"020 7946 0958\", \"0161*\"]}}");
}

static void test_parse_errors(void **state)
{
	(void)state;
	/* The brief's example, exactly. */
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"08:00\", \"end\": \"12:00\"},"
		    " {\"start\": \"25:00\", \"end\": \"26:00\"}]}}",
		    "work_time.windows[1].start: '25:00' is not HH:MM[:SS]");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"8:00\", \"end\": \"12:00\"}]}}",
		    "work_time.windows[0].start: '8:00' is not HH:MM[:SS]");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"24:00\", \"end\": \"24:00\"}]}}",
		    "work_time.windows[0].start: '24:00' is not HH:MM[:SS]");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"08:00\", \"end\": \"24:01\"}]}}",
		    "work_time.windows[0].end: '24:01' is not HH:MM[:SS]");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"08:60\", \"end\": \"09:00\"}]}}",
		    "work_time.windows[0].start: '08:60' is not HH:MM[:SS]");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": 8, \"end\": \"09:00\"}]}}",
		    "work_time.windows[0].start: must be a string HH:MM[:SS]");
	parse_fails("{\"work_time\": {\"windows\": [{\"end\": \"09:00\"}]}}",
		    "work_time.windows[0].start: missing");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"21:00\", \"end\": \"08:00\"}]}}",
		    "work_time.windows[0]: start 21:00:00 is not before end 08:00:00 (a window "
		    "may not cross midnight: write two)");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"08:00\", \"end\": \"08:00\"}]}}",
		    "work_time.windows[0]: start 08:00:00 is not before end 08:00:00");
	parse_fails("{\"work_time\": {\"windows\": [{\"days\": [\"Mon\", \"Funday\"],"
		    " \"start\": \"08:00\", \"end\": \"09:00\"}]}}",
		    "work_time.windows[0].days[1]: must be a day Mon..Sun");
	parse_fails("{\"work_time\": {\"windows\": [{\"days\": [1, 8],"
		    " \"start\": \"08:00\", \"end\": \"09:00\"}]}}",
		    "work_time.windows[0].days[1]: must be a day Mon..Sun");
	parse_fails("{\"work_time\": {\"windows\": [{\"days\": [\"Mon-Xyz\"],"
		    " \"start\": \"08:00\", \"end\": \"09:00\"}]}}",
		    "work_time.windows[0].days[0]: must be a day");
	parse_fails("{\"work_time\": {\"windows\": [{\"days\": [], \"start\": \"08:00\","
		    " \"end\": \"09:00\"}]}}", "work_time.windows[0].days: empty");
	parse_fails("{\"work_time\": {\"windows\": [{\"start\": \"08:00\", \"end\": \"09:00\","
		    " \"note\": 1}]}}", "work_time.windows[0].note: unknown setting");
	parse_fails("{\"work_time\": {\"windows\": []}}", "work_time.windows: empty");
	parse_fails("{\"work_time\": {\"windows\": {}}}", "work_time.windows: must be an array");
	parse_fails("{\"work_time\": {\"windows\": [3]}}", "work_time.windows[0]: must be an object");
	parse_fails("{\"work_time\": {\"zone\": \"Mars/Olympus\"}}",
		    "work_time.zone: 'Mars/Olympus' is not a known time zone");
	parse_fails("{\"work_time\": {\"zone\": \"../../etc/passwd\"}}",
		    "work_time.zone: '../../etc/passwd' is not a known time zone");
	parse_fails("{\"work_time\": {\"zone\": 8}}", "work_time.zone: must be an IANA time zone");
	parse_fails("{\"work_time\": {\"enabled\": \"yes\"}}",
		    "work_time.enabled: must be true or false");
	parse_fails("{\"work_time\": {\"holidays\": [\"2026-10-01\", \"2026-02-30\"]}}",
		    "work_time.holidays[1]: '2026-02-30' is not a date YYYY-MM-DD");
	parse_fails("{\"work_time\": {\"holidays\": [\"2027-02-29\"]}}",
		    "work_time.holidays[0]: '2027-02-29' is not a date");
	parse_fails("{\"work_time\": {\"holidays\": [\"1/10/2026\"]}}",
		    "work_time.holidays[0]: '1/10/2026' is not a date");
	parse_fails("{\"work_time\": {\"holidays\": [20261001]}}",
		    "work_time.holidays[0]: must be a date string");
	parse_fails("{\"work_time\": {\"foo\": 1}}", "work_time.foo: unknown setting");
	parse_fails("{\"work_time\": []}", "work_time: must be an object");
	parse_fails("{\"worktime\": {}}", "worktime: unknown setting");
	parse_fails("{\"blind_area\": {\"regions\": [\"XJ\"]}}",
		    "blind_area.regions[0]: must be a region code like \"CN-XJ\"");
	parse_fails("{\"blind_area\": {\"unknown_location\": \"maybe\"}}",
		    "blind_area.unknown_location: must be \"allow\" or \"deny\"");
	parse_fails("{\"callee_interval\": {\"max\": -1}}",
		    "callee_interval.max: must be an integer from 0 to 1000000");
	parse_fails("{\"callee_interval\": {\"max\": \"3\"}}",
		    "callee_interval.max: must be an integer from 0 to 1000000");
	parse_fails("{\"callee_interval\": {\"max\": 3.5}}", "callee_interval.max: must be an integer");
	parse_fails("{\"callee_interval\": {\"window_s\": 99999999}}",
		    "callee_interval.window_s: must be an integer from 0 to 2678400");
	parse_fails("{\"callee_interval\": {\"window_s\": 0}}",
		    "callee_interval.window_s: must be above 0 when a max is set");
	parse_fails("{\"caller_freq\": {\"max\": 3}}",
		    "caller_freq.window_s: must be above 0 when a max is set");
	parse_fails("{\"own\": {\"caller_freq\": {\"max\": 3}}}",
		    "caller_freq.window_s: must be above 0 when a max is set");
	parse_fails("{\"callee_daily\": {\"mode\": \"weekly\"}}",
		    "callee_daily.mode: must be \"rolling24h\" or \"calendar\"");
	parse_fails("{\"callee_daily\": {\"window_s\": 10}}", "callee_daily.window_s: unknown setting");
	parse_fails("{\"caller_concurrency\": true}",
		    "caller_concurrency: must be an integer from 0 to 1000000");
	parse_fails("{\"blacklist\": {\"entries\": [\"13800138000\", \"10086\"]}}",
		    "blacklist.entries[1]: '10086' is not a number cccd can call");
	parse_fails("{\"blacklist\": {\"entries\": [\"+999*\"]}}",
		    "blacklist.entries[0]: '+999*' has no known country code");
	parse_fails("{\"blacklist\": {\"entries\": [\"5*\"]}}",
		    "blacklist.entries[0]: '5*': a prefix starts with");
	parse_fails("{\"blacklist\": {\"entries\": [\"008600*\"]}}",
		    "blacklist.entries[0]: '008600*': no Chinese number starts with 0");
	parse_fails("{\"blacklist\": {\"entries\": [\"+86 00*\"]}}",
		    "blacklist.entries[0]: '+86 00*': no Chinese number starts with 0");
	parse_fails("{\"blacklist\": {\"entries\": [7]}}",
		    "blacklist.entries[0]: must be a number or a prefix");
	parse_fails("{\"default_cc\": \"999\"}", "default_cc: must be a country calling code");
	parse_fails("{\"default_cc\": 86}", "default_cc: must be a country calling code");
	/* The own class overrides switches and limits only. */
	parse_fails("{\"own\": {\"work_time\": {\"zone\": \"UTC\"}}}",
		    "own.work_time.zone: cannot be set per number class");
	parse_fails("{\"own\": {\"callee_interval\": {\"window_s\": 5}}}",
		    "own.callee_interval.window_s: cannot be set per number class");
	parse_fails("{\"own\": {\"blacklist\": {\"entries\": []}}}",
		    "own.blacklist.entries: cannot be set per number class");
	parse_fails("{\"own\": {\"default_cc\": \"1\"}}",
		    "own.default_cc: cannot be set per number class");
	parse_fails("{\"own\": {\"own\": {}}}", "own.own: cannot be set per number class");
	parse_fails("{\"own\": {\"caller_concurrency\": -2}}",
		    "own.caller_concurrency: must be an integer");
	/* Not a rule set at all. */
	parse_fails("", "not JSON");
	parse_fails("{\"a\": ", "not JSON");
	parse_fails("[]", "the rule set must be a JSON object");
	parse_fails("{\"caller_concurrency\": 1, \"caller_concurrency\": 2}", "not JSON");
}

/* The cache gives one parse per instance and text: the same text is the same rule set, a
 * changed text (from any node) is parsed anew, and the operator's caps are applied. */
static void test_cache(void **state)
{
	struct policy_cache *c = NULL;
	struct policy_data *d = NULL;
	const struct policy_rules *a, *b, *x, *other;
	struct policy_windows w;
	char why[128];
	json_t *v;

	(void)state;
	assert_int_equal(policy_data_alloc(&d), 0);
	policy_data_caps(d, 10, 0);
	assert_int_equal(policy_cache_alloc(&c, d), 0);
	assert_int_equal(policy_cache_rules(c, 1400000001, "{\"default_cc\": \"44\"}", &a, why,
					    sizeof(why)), 0);
	assert_int_equal(policy_cache_rules(c, 1400000001, "{\"default_cc\": \"44\"}", &b, why,
					    sizeof(why)), 0);
	assert_ptr_equal(a, b);
	assert_string_equal(policy_rules_default_cc(a), "44");
	assert_int_equal(policy_windows(a, 1700000000, &w), 0);
	assert_true(w.caps_channels_used); /* the operator's cap, none of the tenant's */
	policy_cache_release(c, b);

	/* The text changed: a new parse; the old set stays valid while held. */
	assert_int_equal(policy_cache_rules(c, 1400000001, "{\"default_cc\": \"1\"}", &b, why,
					    sizeof(why)), 0);
	assert_ptr_not_equal(a, b);
	assert_string_equal(policy_rules_default_cc(b), "1");
	assert_string_equal(policy_rules_default_cc(a), "44");
	policy_cache_release(c, a);
	policy_cache_release(c, b);

	/* "" is the defaults; another instance has its own entry. */
	assert_int_equal(policy_cache_rules(c, 1400000002, "", &other, why, sizeof(why)), 0);
	v = rules_value(other);
	assert_int_equal(json_integer_value(at(v, "callee_interval.max")), 3);
	json_decref(v);
	assert_int_equal(policy_cache_rules(c, 1400000001, "{\"default_cc\": \"1\"}", &b, why,
					    sizeof(why)), 0);
	assert_string_equal(policy_rules_default_cc(b), "1");
	policy_cache_release(c, b);
	policy_cache_release(c, other);

	/* A text that does not parse is refused with the parser's reason, and not cached. */
	assert_int_equal(policy_cache_rules(c, 1400000001, "{\"default_cc\": 5}", &x, why,
					    sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "default_cc"));
	assert_int_equal(policy_cache_rules(c, 0, "", &x, why, sizeof(why)), EINVAL);
	mem_deref(c);
	mem_deref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_custom_and_round_trip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
