/* validate: action parameters against their declared fields — unknown, missing, type
 * (with the coercions of spec §3) and value checks, each error naming the field. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "api/api_int.h"

enum { PATH_MAX_LEN = 256 };

static const char *type_text(const struct api_field *f)
{
	switch (f->type) {
	case API_T_INT64:  return "an integer (Int64)";
	case API_T_UINT64: return "a non-negative integer (UInt64)";
	case API_T_STRING: return "a string";
	case API_T_BOOL:   return "a boolean";
	case API_T_STRUCT: return "an object";
	case API_T_ANY:    return "a value";
	}
	return "?";
}

static const char *type_short(const struct api_field *f)
{
	static const char *const names[] = {
		[API_T_INT64] = "Int64", [API_T_UINT64] = "UInt64", [API_T_STRING] = "String",
		[API_T_BOOL] = "Boolean", [API_T_STRUCT] = "objects", [API_T_ANY] = "values",
	};

	return names[f->type];
}

static enum api_code wrong_type(const struct api_field *f, const char *path, struct api_error *e)
{
	return api_fail(e, API_INVALID_PARAMETER, "The parameter `%s` must be %s.", path,
			type_text(f));
}

/* Decimal text → integer: optional '-' (signed types only), then 1-19 digits. */
static int parse_int(const char *s, bool is_signed, int64_t *v)
{
	bool neg = false;
	uint64_t acc = 0;
	size_t i = 0;

	if (is_signed && s[0] == '-')
		neg = true, i = 1;
	if (!s[i])
		return EINVAL;
	for (; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return EINVAL;
		if (acc > (UINT64_MAX - 9) / 10)
			return ERANGE;
		acc = acc * 10 + (uint64_t)(s[i] - '0');
	}
	if (acc > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return ERANGE;
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

static bool choice_ok(const char *const *choices, const char *s)
{
	for (; *choices; choices++) {
		if (!strcmp(*choices, s))
			return true;
	}
	return false;
}

static enum api_code choice_fail(const char *const *choices, const char *path,
				 struct api_error *e)
{
	char list[160] = "";
	size_t n = 0;

	for (size_t i = 0; choices[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
				      choices[i]);
	return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be one of %s.",
			path, list);
}

static enum api_code check_struct(const struct api_field *fields, const json_t *in,
				  char *path, size_t plen, bool top, json_t **outp,
				  struct api_error *e);

/* One scalar or object value (an element, when the field is an array). */
static enum api_code check_one(const struct api_field *f, const json_t *v, char *path,
			       size_t plen, json_t **outp, struct api_error *e)
{
	int64_t n = 0;

	switch (f->type) {
	case API_T_INT64:
	case API_T_UINT64:
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (!json_is_string(v) ||
			 parse_int(json_string_value(v), f->type == API_T_INT64, &n))
			return wrong_type(f, path, e);
		if (f->type == API_T_UINT64 && n < 0)
			return wrong_type(f, path, e);
		if (n < f->min || n > f->max)
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be "
					"between %" PRId64 " and %" PRId64 ".", path, f->min, f->max);
		*outp = json_integer(n);
		break;
	case API_T_STRING: {
		size_t len;

		if (!json_is_string(v))
			return wrong_type(f, path, e);
		len = json_string_length(v);
		if (len != strlen(json_string_value(v)))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must not "
					"contain NUL characters.", path);
		if ((int64_t)len < f->min)
			return api_fail(e, API_INVALID_PARAMETER_VALUE, f->min == 1 ?
					"The value of `%s` must not be empty." :
					"The value of `%s` is too short.", path);
		if (f->max && (int64_t)len > f->max)
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be "
					"at most %" PRId64 " bytes long.", path, f->max);
		if (f->choices && !choice_ok(f->choices, json_string_value(v)))
			return choice_fail(f->choices, path, e);
		*outp = json_deep_copy(v);
		break;
	}
	case API_T_BOOL:
		if (json_is_boolean(v))
			*outp = json_boolean(json_is_true(v));
		else if (json_is_string(v) && !strcmp(json_string_value(v), "true"))
			*outp = json_true();
		else if (json_is_string(v) && !strcmp(json_string_value(v), "false"))
			*outp = json_false();
		else
			return wrong_type(f, path, e);
		break;
	case API_T_STRUCT:
		if (!json_is_object(v))
			return wrong_type(f, path, e);
		return check_struct(f->members, v, path, plen, false, outp, e);
	case API_T_ANY:
		*outp = json_deep_copy(v);
		break;
	}
	return *outp ? API_OK : api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
}

static enum api_code check_field(const struct api_field *f, const json_t *v, char *path,
				 size_t plen, json_t **outp, struct api_error *e)
{
	enum api_code rc;
	json_t *arr;

	if (!f->array)
		return check_one(f, v, path, plen, outp, e);
	if (!json_is_array(v))
		return api_fail(e, API_INVALID_PARAMETER, "The parameter `%s` must be a list "
				"(Array of %s).", path, type_short(f));
	if (f->max_items && json_array_size(v) > f->max_items)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The list `%s` must have at most "
				"%zu elements.", path, f->max_items);
	arr = json_array();
	if (!arr)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (size_t i = 0; i < json_array_size(v); i++) {
		size_t nl = plen + (size_t)snprintf(path + plen, PATH_MAX_LEN - plen, ".%zu", i);
		json_t *item = NULL;

		rc = check_one(f, json_array_get(v, i), path, nl, &item, e);
		path[plen] = '\0';
		if (rc == API_OK && json_array_append_new(arr, item))
			rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		if (rc) {
			json_decref(arr);
			return rc;
		}
	}
	*outp = arr;
	return API_OK;
}

static const struct api_field *field_find(const struct api_field *fields, const char *name)
{
	for (; fields->name; fields++) {
		if (!strcmp(fields->name, name))
			return fields;
	}
	return NULL;
}

/* Appends ".name" (or "name" at the top) to path; returns the new length. */
static size_t path_push(char *path, size_t plen, const char *name)
{
	int n = snprintf(path + plen, PATH_MAX_LEN - plen, "%s%s", plen ? "." : "", name);

	return n < 0 || plen + (size_t)n >= PATH_MAX_LEN ? PATH_MAX_LEN - 1 : plen + (size_t)n;
}

static enum api_code check_struct(const struct api_field *fields, const json_t *in,
				  char *path, size_t plen, bool top, json_t **outp,
				  struct api_error *e)
{
	const char *key;
	json_t *v, *out;
	enum api_code rc = API_OK;

	json_object_foreach((json_t *)in, key, v) {
		if (field_find(fields, key) || (top && api_public_param(key)))
			continue;
		path_push(path, plen, key);
		/* Shown as given (jansson guarantees UTF-8); cut to the message size. */
		rc = api_fail(e, API_UNKNOWN_PARAMETER, "The parameter `%.120s` is not "
			      "recognized.", path);
		path[plen] = '\0';
		return rc;
	}
	out = json_object();
	if (!out)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (const struct api_field *f = fields; f->name && rc == API_OK; f++) {
		size_t nl = path_push(path, plen, f->name);
		json_t *val = NULL;

		v = json_object_get(in, f->name);
		if (!v || json_is_null(v)) {
			if (f->required)
				rc = api_fail(e, API_MISSING_PARAMETER, "The request is missing a "
					      "required parameter `%s`.", path);
		}
		else {
			rc = check_field(f, v, path, nl, &val, e);
			if (rc == API_OK && f->check)
				rc = f->check(val, path, e);
			if (rc == API_OK && json_object_set_new(out, f->name, val))
				rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
			else if (rc)
				json_decref(val);
		}
		path[plen] = '\0';
	}
	if (rc)
		json_decref(out);
	else
		*outp = out;
	return rc;
}

enum api_code api_validate(const struct api_field *fields, const json_t *in, json_t **outp,
			   struct api_error *e)
{
	char path[PATH_MAX_LEN] = "";

	if (!json_is_object(in))
		return api_fail(e, API_INVALID_PARAMETER, "The request parameters must be an "
				"object.");
	return check_struct(fields, in, path, 0, true, outp, e);
}
