/* fields: value checks and field tables shared by several actions — phone numbers and
 * the Variables list (CreateIVRSession, CreateAutoCalloutTask). */
#include <stdio.h>
#include <string.h>
#include "api/api_int.h"
#include "policy/policy.h"

enum api_code api_check_number(const json_t *v, const char *path, struct api_error *e)
{
	char digits[33], why[160];

	/* The syntax only: the instance's country, read later, says what the digits mean. */
	if (policy_number_syntax(json_string_value(v), digits, why, sizeof(why)))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` is not a "
				"phone number: use digits with an optional leading + or 00 "
				"(3 to 20 digits): %s.", path, why);
	return API_OK;
}

enum api_code api_check_numbers(const json_t *v, const char *path, struct api_error *e)
{
	size_t i;
	json_t *item;
	char p[300];

	json_array_foreach(v, i, item) {
		snprintf(p, sizeof(p), "%s.%zu", path, i);
		if (api_check_number(item, p, e))
			return e->code;
	}
	return API_OK;
}

/* Variable names as identifiers, so that flows can use them in ${name} templates. */
static enum api_code check_key(const json_t *v, const char *path, struct api_error *e)
{
	const char *s = json_string_value(v);
	bool ok = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_';

	for (const char *c = s; *c && ok; c++)
		ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '_' ||
		     (*c >= '0' && *c <= '9');
	if (!ok)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be a "
				"name of letters, digits and _ that does not start with a digit.",
				path);
	return API_OK;
}

enum api_code api_check_variables(const json_t *v, const char *path, struct api_error *e)
{
	for (size_t i = 0; i < json_array_size(v); i++) {
		const char *ki = json_string_value(json_object_get(json_array_get(v, i), "Key"));

		for (size_t j = 0; j < i; j++) {
			const json_t *o = json_array_get(v, j);

			if (!strcmp(ki, json_string_value(json_object_get(o, "Key"))))
				return api_fail(e, API_INVALID_PARAMETER_VALUE, "The list `%s` has "
						"the key `%s` twice (%s.%zu.Key).", path, ki, path, i);
		}
	}
	return API_OK;
}

const struct api_field api_variable_fields[] = {
	{"Key", API_T_STRING, false, true, 1, API_MAX_VARIABLE_KEY, 0, NULL, check_key},
	{"Value", API_T_STRING, false, true, 0, API_MAX_VARIABLE_VALUE, 0, NULL, NULL},
	{NULL},
};
