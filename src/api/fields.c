/* fields: what several actions share — value checks and field tables (phone numbers,
 * the Variables list) and whether an IVR version's flow uses AI (CreateIVRSession,
 * CreateAutoCalloutTask and its scheduler). */
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "ivr/ivr.h"
#include "policy/policy.h"
#include "store/store.h"

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
		const char *vi = json_string_value(json_object_get(json_array_get(v, i), "Value"));

		/* cccd's own setting: answering-machine detection (docs/flows.md §2). */
		if (!strcmp(ki, "CccdAmd") && strcmp(vi, "on") && strcmp(vi, "off"))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of "
					"`%s.%zu.Value` (CccdAmd, answering-machine detection) "
					"must be `on` or `off`.", path, i);

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

/* Whether a flow version has an AI/speech node, remembered per API thread. A stored
 * version is never changed (a new document is a new version, and versions are never
 * deleted), so an answer never goes stale: each thread reads and parses a version's
 * document once instead of on every CreateIVRSession. Direct-mapped and thread-local: no
 * lock, no allocation; a collision only costs one more read. */
enum { AI_MEMO_SLOTS = 64 };

struct ai_memo {
	uint64_t sdkappid, ivr_id;
	uint32_t version;          /* 0 = empty slot (versions start at 1) */
	bool ai;
};

static _Thread_local struct ai_memo ai_memo[AI_MEMO_SLOTS];

int api_flow_uses_ai(struct store *st, uint64_t sdkappid, uint64_t ivr_id, uint32_t version,
			bool *aip)
{
	struct ai_memo *slot = &ai_memo[((sdkappid * 2654435761u) ^ (ivr_id * 40503u) ^ version) %
					AI_MEMO_SLOTS];
	char *doc = NULL;
	bool ai = false;
	int err;

	if (slot->version == version && slot->sdkappid == sdkappid && slot->ivr_id == ivr_id) {
		*aip = slot->ai;
		return 0;
	}
	err = store_ivr_document(st, sdkappid, ivr_id, version, &doc);
	if (!err)
		err = ivr_doc_uses_ai(doc, strlen(doc), &ai);
	mem_deref(doc);
	if (err)
		return err;
	*slot = (struct ai_memo){sdkappid, ivr_id, version, ai};
	*aip = ai;
	return 0;
}
