/* Unit tests of form decoding and flattening: both shapes of spec §3 give one tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"

#define FORM "SdkAppId=1400000000&Callee=008613012345678&IVRId=4600&" \
	     "Callers.0=008601012345678&Variables.0.Key=name&Variables.0.Value=Li%20Lei&" \
	     "UUI=foo%20bar&MaxRingTimeoutSecond=15"
#define JSON "{\"SdkAppId\":1400000000,\"Callee\":\"008613012345678\",\"IVRId\":4600," \
	     "\"Callers\":[\"008601012345678\"],\"Variables\":[{\"Key\":\"name\"," \
	     "\"Value\":\"Li Lei\"}],\"UUI\":\"foo bar\",\"MaxRingTimeoutSecond\":15}"

static struct api_form *decode_ok(const char *s)
{
	struct api_form *f = NULL;
	struct api_error e = {0};

	if (api_form_decode(s, strlen(s), &f, &e))
		fail_msg("'%s': %s", s, e.msg);
	return f;
}

static void decode_fails(const char *s, const char *needle)
{
	struct api_form *f = NULL;
	struct api_error e = {0};

	assert_int_equal(api_form_decode(s, strlen(s), &f, &e), API_INVALID_REQUEST);
	assert_int_equal(e.code, API_INVALID_REQUEST);
	assert_null(f);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' not in '%s'", needle, e.msg);
}

static json_t *tree_ok(const char *s)
{
	struct api_form *f = decode_ok(s);
	struct api_error e = {0};
	json_t *o = NULL;

	assert_int_equal(api_form_unflatten(f, &o, &e), API_OK);
	mem_deref(f);
	return o;
}

static void tree_fails(const char *s, const char *needle)
{
	struct api_form *f = decode_ok(s);
	struct api_error e = {0};
	json_t *o = NULL;

	assert_int_equal(api_form_unflatten(f, &o, &e), API_INVALID_PARAMETER);
	assert_null(o);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' not in '%s'", needle, e.msg);
	mem_deref(f);
}

static void test_decode(void **state)
{
	struct api_form *f;

	(void)state;
	f = decode_ok("a=1&b=x+y&c=x%20y%2B%2b&d=&e&&f=%E4%B8%AD");
	assert_int_equal(f->n, 6);
	assert_string_equal(api_form_get(f, "a"), "1");
	assert_string_equal(api_form_get(f, "b"), "x y");
	assert_string_equal(api_form_get(f, "c"), "x y++");
	assert_string_equal(api_form_get(f, "d"), "");
	assert_string_equal(api_form_get(f, "e"), "");
	assert_string_equal(api_form_get(f, "f"), "\xe4\xb8\xad");
	assert_null(api_form_get(f, "g"));
	/* Order as received (the v1 signature sorts its own copy). */
	assert_string_equal(f->v[0].name, "a");
	assert_string_equal(f->v[5].name, "f");
	mem_deref(f);

	f = decode_ok("");
	assert_int_equal(f->n, 0);
	mem_deref(f);
	{
		struct api_error e;

		f = NULL;
		assert_int_equal(api_form_decode(NULL, 0, &f, &e), API_OK);
		assert_int_equal(f->n, 0);
		mem_deref(f);
	}
	f = decode_ok("Sign%61ture=x%3D");
	assert_string_equal(api_form_get(f, "Signature"), "x=");
	mem_deref(f);

	decode_fails("a=%", "percent escape");
	decode_fails("a=%4", "percent escape");
	decode_fails("a=%zz", "percent escape");
	decode_fails("a%=1", "percent escape");
	decode_fails("a=%00", "NUL");
	decode_fails("a=%C3%28", "UTF-8");
	decode_fails("a=%ED%A0%80", "UTF-8");   /* a surrogate */
	decode_fails("a=%C0%AF", "UTF-8");      /* overlong */
	decode_fails("=1", "without a name");
	decode_fails("a=1&b=2&a=3", "`a` is given more than once");
}

static void test_both_shapes(void **state)
{
	json_t *from_form = tree_ok(FORM), *from_json = json_loads(JSON, 0, NULL);
	json_t *valid_form = NULL, *valid_json = NULL;
	struct api_error e = {0};

	(void)state;
	/* Leaves of a form are strings; validation gives both the declared types. */
	assert_string_equal(json_string_value(json_object_get(from_form, "SdkAppId")),
			    "1400000000");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(from_form, "Variables"), 0), "Value")), "Li Lei");
	assert_int_equal(api_validate(api_action_create_ivr_session.fields, from_form,
				      &valid_form, &e), API_OK);
	assert_int_equal(api_validate(api_action_create_ivr_session.fields, from_json,
				      &valid_json, &e), API_OK);
	assert_true(json_equal(valid_form, valid_json));
	assert_true(json_equal(valid_json, from_json));
	json_decref(from_form);
	json_decref(from_json);
	json_decref(valid_form);
	json_decref(valid_json);
}

static void test_unflatten(void **state)
{
	json_t *o;

	(void)state;
	/* Any order of indices; public parameters are left out. */
	o = tree_ok("Callers.1=b&Action=X&Callers.0=a&Nonce=1&Signature=s&RequestClient=c&"
		    "V.1.K=k1&V.0.K=k0&V.0.W=w0");
	assert_int_equal(json_object_size(o), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "Callers"), 0)), "a");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "Callers"), 1)), "b");
	assert_int_equal(json_array_size(json_object_get(o, "V")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(o, "V"), 1), "K")), "k1");
	json_decref(o);

	tree_fails("Callers.0=a&Callers.2=c", "has no element 1");
	tree_fails("Callers.1=a", "has no element 0");
	tree_fails("Callers.99999999999=a", "out of range");
	tree_fails("Callers.1000=a", "out of range");
	tree_fails("Callers.0=a&Callers.x=b", "mixes list indices and member names");
	tree_fails("Callers=a&Callers.0=b", "both as a value and as a list");
	tree_fails("Callers.0=b&Callers=a", "both as a value and as a list");
	tree_fails("A..B=1", "malformed");
	tree_fails("A.=1", "malformed");
	tree_fails(".A=1", "malformed");
	tree_fails("A.B.C.D.E.F.G.H.I=1", "nested too deeply");
	tree_fails("0=a", "bare list indices");
	/* "01" is not an index: it is a name, refused later as unknown. */
	o = tree_ok("Callers.01=a");
	assert_true(json_is_object(json_object_get(o, "Callers")));
	json_decref(o);
}

static void test_public(void **state)
{
	(void)state;
	assert_true(api_public_param("RequestClient"));
	assert_true(api_public_param("Language"));
	assert_true(api_public_param("Region"));
	assert_true(api_public_param("Token"));
	assert_true(api_public_param("SignatureMethod"));
	assert_false(api_public_param("Callee"));
	assert_false(api_public_param("region"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_both_shapes),
		cmocka_unit_test(test_unflatten),
		cmocka_unit_test(test_public),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
