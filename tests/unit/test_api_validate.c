/* Unit tests of parameter validation: every rule of CreateIVRSession and
 * DescribeTelSession with its code and message, coercions, and number normalisation. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "api/api_int.h"
#include "policy/policy.h"

static const struct api_field *create_fields(void)
{
	return api_action_create_ivr_session.fields;
}

static json_t *valid_ok(const struct api_field *fields, const char *json)
{
	json_t *in = json_loads(json, 0, NULL), *out = NULL;
	struct api_error e = {0};

	assert_non_null(in);
	if (api_validate(fields, in, &out, &e))
		fail_msg("%s: %s %s", json, api_code_name(e.code), e.msg);
	json_decref(in);
	return out;
}

static void valid_fails(const struct api_field *fields, const char *json, enum api_code code,
			const char *msg)
{
	json_t *in = json_loads(json, JSON_ALLOW_NUL, NULL), *out = NULL;
	struct api_error e = {0};

	assert_non_null(in);
	if (api_validate(fields, in, &out, &e) != code || e.code != code)
		fail_msg("%s: got %s (%s), want %s", json, api_code_name(e.code), e.msg,
			 api_code_name(code));
	assert_null(out);
	if (!strstr(e.msg, msg))
		fail_msg("%s: '%s' not in '%s'", json, msg, e.msg);
	json_decref(in);
}

#define BASE "\"SdkAppId\":1400000000,\"IVRId\":4600,\"Callee\":\"008613012345678\""

static void test_missing(void **state)
{
	(void)state;
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1}", API_MISSING_PARAMETER,
		    "The request is missing a required parameter `Callee`.");
	valid_fails(create_fields(), "{\"Callee\":\"123\",\"IVRId\":1}", API_MISSING_PARAMETER,
		    "`SdkAppId`");
	valid_fails(create_fields(), "{\"Callee\":\"123\",\"SdkAppId\":1}", API_MISSING_PARAMETER,
		    "`IVRId`");
	/* null is absent (the SDKs drop nulls). */
	valid_fails(create_fields(), "{\"Callee\":null,\"SdkAppId\":1,\"IVRId\":1}",
		    API_MISSING_PARAMETER, "`Callee`");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"a\"}]}",
		    API_MISSING_PARAMETER, "`Variables.0.Value`");
	valid_fails(api_action_describe_tel_session.fields, "{\"SdkAppId\":1}",
		    API_MISSING_PARAMETER, "`SessionId`");
}

static void test_unknown(void **state)
{
	json_t *o;

	(void)state;
	valid_fails(create_fields(), "{" BASE ",\"Foo\":1}", API_UNKNOWN_PARAMETER,
		    "The parameter `Foo` is not recognized.");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"a\",\"Value\":\"b\","
		    "\"Extra\":1}]}", API_UNKNOWN_PARAMETER, "`Variables.0.Extra`");
	/* Unknown comes before missing. */
	valid_fails(create_fields(), "{\"Foo\":1}", API_UNKNOWN_PARAMETER, "`Foo`");
	/* Public parameters are never unknown at the top level... */
	o = valid_ok(create_fields(), "{" BASE ",\"RequestClient\":\"x\",\"Language\":\"en-US\","
		     "\"Region\":\"ap-singapore\",\"Token\":\"\",\"Action\":\"x\"}");
	assert_null(json_object_get(o, "RequestClient"));
	assert_null(json_object_get(o, "Region"));
	json_decref(o);
	/* ...but they are inside a structure. */
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"a\",\"Value\":\"b\","
		    "\"Region\":\"x\"}]}", API_UNKNOWN_PARAMETER, "`Variables.0.Region`");
}

static void test_types(void **state)
{
	json_t *o;

	(void)state;
	valid_fails(create_fields(), "{\"SdkAppId\":\"abc\",\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER, "The parameter `SdkAppId` must be an integer (Int64).");
	valid_fails(create_fields(), "{\"SdkAppId\":1.5,\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER, "`SdkAppId` must be an integer");
	valid_fails(create_fields(), "{\"SdkAppId\":true,\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER, "`SdkAppId` must be an integer");
	valid_fails(create_fields(), "{\"SdkAppId\":\"\",\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER, "`SdkAppId` must be an integer");
	valid_fails(create_fields(), "{\"SdkAppId\":\"12 \",\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER, "`SdkAppId` must be an integer");
	valid_fails(create_fields(), "{\"SdkAppId\":\"99999999999999999999\",\"IVRId\":1,"
		    "\"Callee\":\"123\"}", API_INVALID_PARAMETER, "`SdkAppId` must be an integer");
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":{},\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER, "`IVRId` must be an integer");
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1,\"Callee\":8613012345678}",
		    API_INVALID_PARAMETER, "The parameter `Callee` must be a string.");
	valid_fails(create_fields(), "{" BASE ",\"Callers\":\"008601012345678\"}",
		    API_INVALID_PARAMETER, "The parameter `Callers` must be a list (Array of "
		    "String).");
	valid_fails(create_fields(), "{" BASE ",\"Callers\":[1]}", API_INVALID_PARAMETER,
		    "`Callers.0` must be a string");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":{\"Key\":\"a\"}}",
		    API_INVALID_PARAMETER, "`Variables` must be a list");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[\"a\"]}", API_INVALID_PARAMETER,
		    "`Variables.0` must be an object");
	valid_fails(create_fields(), "{" BASE ",\"MaxRingTimeoutSecond\":\"15s\"}",
		    API_INVALID_PARAMETER, "`MaxRingTimeoutSecond` must be an integer");
	valid_fails(create_fields(), "{" BASE ",\"UUI\":[]}", API_INVALID_PARAMETER,
		    "`UUI` must be a string");

	/* Decimal strings become integers in JSON bodies too (spec §3). */
	o = valid_ok(create_fields(), "{\"SdkAppId\":\"1400000000\",\"IVRId\":\"4600\","
		     "\"Callee\":\"123\",\"MaxRingTimeoutSecond\":\"15\"}");
	assert_true(json_is_integer(json_object_get(o, "SdkAppId")));
	assert_int_equal(json_integer_value(json_object_get(o, "SdkAppId")), 1400000000);
	assert_int_equal(json_integer_value(json_object_get(o, "MaxRingTimeoutSecond")), 15);
	json_decref(o);
}

static const struct api_field bool_fields[] = {
	{"Flag", API_T_BOOL, false, true, 0, 0, 0, NULL, NULL},
	{"Ids", API_T_UINT64, true, false, 0, INT64_MAX, 3, NULL, NULL},
	{NULL},
};

static void test_bool_uint(void **state)
{
	json_t *o;

	(void)state;
	o = valid_ok(bool_fields, "{\"Flag\":\"true\",\"Ids\":[\"1\",2]}");
	assert_true(json_is_true(json_object_get(o, "Flag")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "Ids"), 0)), 1);
	json_decref(o);
	o = valid_ok(bool_fields, "{\"Flag\":\"false\"}");
	assert_true(json_is_false(json_object_get(o, "Flag")));
	json_decref(o);
	o = valid_ok(bool_fields, "{\"Flag\":true}");
	assert_true(json_is_true(json_object_get(o, "Flag")));
	json_decref(o);
	valid_fails(bool_fields, "{\"Flag\":\"yes\"}", API_INVALID_PARAMETER,
		    "`Flag` must be a boolean");
	valid_fails(bool_fields, "{\"Flag\":1}", API_INVALID_PARAMETER, "`Flag` must be a boolean");
	valid_fails(bool_fields, "{\"Flag\":true,\"Ids\":[-1]}", API_INVALID_PARAMETER,
		    "`Ids.0` must be a non-negative integer (UInt64)");
	valid_fails(bool_fields, "{\"Flag\":true,\"Ids\":[\"-1\"]}", API_INVALID_PARAMETER,
		    "`Ids.0` must be a non-negative integer");
	valid_fails(bool_fields, "{\"Flag\":true,\"Ids\":[1,2,3,4]}", API_INVALID_PARAMETER_VALUE,
		    "The list `Ids` must have at most 3 elements.");
}

static void test_values(void **state)
{
	char uui[1100];
	char buf[1400];
	json_t *o;

	(void)state;
	valid_fails(create_fields(), "{\"SdkAppId\":0,\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER_VALUE, "The value of `SdkAppId` must be between 1 and");
	valid_fails(create_fields(), "{\"SdkAppId\":-5,\"IVRId\":1,\"Callee\":\"123\"}",
		    API_INVALID_PARAMETER_VALUE, "`SdkAppId` must be between");
	valid_fails(create_fields(), "{" BASE ",\"MaxRingTimeoutSecond\":0}",
		    API_INVALID_PARAMETER_VALUE,
		    "The value of `MaxRingTimeoutSecond` must be between 1 and 120.");
	valid_fails(create_fields(), "{" BASE ",\"MaxRingTimeoutSecond\":121}",
		    API_INVALID_PARAMETER_VALUE, "between 1 and 120");
	o = valid_ok(create_fields(), "{" BASE ",\"MaxRingTimeoutSecond\":120}");
	json_decref(o);

	/* Numbers: digits with an optional + or 00, nothing else. */
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1,\"Callee\":\"\"}",
		    API_INVALID_PARAMETER_VALUE, "The value of `Callee` must not be empty.");
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1,\"Callee\":\"86_130\"}",
		    API_INVALID_PARAMETER_VALUE, "The value of `Callee` is not a phone number");
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1,\"Callee\":\"1234;user=x\"}",
		    API_INVALID_PARAMETER_VALUE, "`Callee` is not a phone number");
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1,\"Callee\":\"sip:1@x\"}",
		    API_INVALID_PARAMETER_VALUE, "`Callee` is not a phone number");
	valid_fails(create_fields(), "{\"SdkAppId\":1,\"IVRId\":1,\"Callee\":\"+\"}",
		    API_INVALID_PARAMETER_VALUE, "`Callee` is not a phone number");
	valid_fails(create_fields(), "{" BASE ",\"Callers\":[\"008601012345678\",\"12a\"]}",
		    API_INVALID_PARAMETER_VALUE, "The value of `Callers.1` is not a phone number");
	valid_fails(create_fields(), "{" BASE ",\"Callers\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
		    "\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}",
		    API_INVALID_PARAMETER_VALUE, "The list `Callers` must have at most 16 elements.");

	/* Variables: identifier keys, bounded values, no duplicates, at most 32. */
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"1a\",\"Value\":\"\"}]}",
		    API_INVALID_PARAMETER_VALUE, "The value of `Variables.0.Key` must be a name");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"a-b\",\"Value\":\"\"}]}",
		    API_INVALID_PARAMETER_VALUE, "`Variables.0.Key` must be a name");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"\",\"Value\":\"\"}]}",
		    API_INVALID_PARAMETER_VALUE, "`Variables.0.Key` must not be empty");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"a\",\"Value\":\"1\"},"
		    "{\"Key\":\"b\",\"Value\":\"2\"},{\"Key\":\"a\",\"Value\":\"3\"}]}",
		    API_INVALID_PARAMETER_VALUE, "The list `Variables` has the key `a` twice "
		    "(Variables.2.Key).");
	valid_fails(create_fields(), "{" BASE ",\"Variables\":[{\"Key\":\"aaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"Value\":\"\"}]}",
		    API_INVALID_PARAMETER_VALUE, "`Variables.0.Key` must be at most 64 bytes");
	memset(uui, 'x', 1025);
	uui[1025] = '\0';
	snprintf(buf, sizeof(buf), "{" BASE ",\"Variables\":[{\"Key\":\"a\",\"Value\":\"%s\"}]}",
		 uui);
	valid_fails(create_fields(), buf, API_INVALID_PARAMETER_VALUE,
		    "`Variables.0.Value` must be at most 1024 bytes");
	snprintf(buf, sizeof(buf), "{" BASE ",\"UUI\":\"%s\"}", uui);
	valid_fails(create_fields(), buf, API_INVALID_PARAMETER_VALUE,
		    "The value of `UUI` must be at most 1024 bytes long.");
	uui[1024] = '\0';
	snprintf(buf, sizeof(buf), "{" BASE ",\"UUI\":\"%s\"}", uui);
	json_decref(valid_ok(create_fields(), buf));
	valid_fails(create_fields(), "{" BASE ",\"UUI\":\"a\\u0000b\"}",
		    API_INVALID_PARAMETER_VALUE, "`UUI` must not contain NUL");
	{
		char many[2400] = "{" BASE ",\"Variables\":[";

		for (int i = 0; i < 33; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many),
				 "%s{\"Key\":\"k%d\",\"Value\":\"v\"}", i ? "," : "", i);
		strcat(many, "]}");
		valid_fails(create_fields(), many, API_INVALID_PARAMETER_VALUE,
			    "The list `Variables` must have at most 32 elements.");
	}
	valid_fails(api_action_describe_tel_session.fields, "{\"SdkAppId\":1,\"SessionId\":\"\"}",
		    API_INVALID_PARAMETER_VALUE, "`SessionId` must not be empty");
	valid_fails(create_fields(), "[]", API_INVALID_PARAMETER, "object");
}

/* The API's number syntax, policy_number_syntax (one rule, in src/policy/number.c). */
static void test_choices(void **state)
{
	const struct api_field *f = api_action_find("CccdModifyInstance")->fields;
	json_t *out;

	(void)state;
	out = valid_ok(f, "{\"SdkAppId\":1,\"Edition\":\"standard\"}");
	json_decref(out);
	valid_fails(f, "{\"SdkAppId\":1,\"Edition\":\"gold\"}", API_INVALID_PARAMETER_VALUE,
		    "The value of `Edition` must be one of standard, advanced.");
	valid_fails(f, "{\"SdkAppId\":1,\"Edition\":\"Standard\"}", API_INVALID_PARAMETER_VALUE,
		    "one of standard, advanced");
}

static void test_number_syntax(void **state)
{
	char out[33];

	(void)state;
	assert_int_equal(policy_number_syntax("+8613012345678", out, NULL, 0), 0);
	assert_string_equal(out, "008613012345678");
	assert_int_equal(policy_number_syntax("008613012345678", out, NULL, 0), 0);
	assert_string_equal(out, "008613012345678");
	assert_int_equal(policy_number_syntax("013012345678", out, NULL, 0), 0);
	assert_string_equal(out, "013012345678");
	assert_int_equal(policy_number_syntax("10086", out, NULL, 0), 0);
	assert_string_equal(out, "10086");
	assert_int_equal(policy_number_syntax("12345678901234567890", out, NULL, 0), 0);
	assert_int_equal(policy_number_syntax("123456789012345678901", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("12", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("+", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("00", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("+0086130", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("000861301", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("++86130", out, NULL, 0), EINVAL);
	/* Separators people write are dropped, nothing else is accepted. */
	assert_int_equal(policy_number_syntax("+86 138-0013.8000", out, NULL, 0), 0);
	assert_string_equal(out, "008613800138000");
	assert_int_equal(policy_number_syntax("(010) 8888 6666", out, NULL, 0), 0);
	assert_string_equal(out, "01088886666");
	assert_int_equal(policy_number_syntax("86_130", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("86/130", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("1;user=phone", out, NULL, 0), EINVAL);
	assert_int_equal(policy_number_syntax("1234#", out, NULL, 0), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_choices),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_bool_uint),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_number_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
