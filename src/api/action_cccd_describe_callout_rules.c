/* CccdDescribeCalloutRules (cccd admin API): the instance's calling rules, complete (every
 * setting explicit, docs/callout-rules.md §1), as a JSON text. */
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

enum api_code api_rules_current(const struct api_ctx *ctx, uint64_t sdkappid, char **jsonp,
				struct api_error *e)
{
	struct policy_rules *r = NULL;
	char *text = NULL, why[192] = "";
	int err = store_instance_rules_get(ctx->st, sdkappid, &text);

	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	err = text[0] ? policy_rules_parse(&r, text, strlen(text), why, sizeof(why))
		      : policy_rules_default(&r);
	mem_deref(text);
	if (!err)
		err = policy_rules_json(r, jsonp);
	mem_deref(r);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The calling rules of instance %llu do not "
				"load: %s", (unsigned long long)sdkappid, why[0] ? why : "no memory");
	return API_OK;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	char *json = NULL;
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);

	if (!rc)
		rc = api_rules_current(ctx, sdkappid, &json, e);
	if (!rc && json_object_set_new(out, "Rules", json_string(json)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	mem_deref(json);
	return rc;
}

const struct api_action api_action_cccd_describe_callout_rules = {
	"CccdDescribeCalloutRules", fields, API_RATE_DEFAULT, run, false,
};
