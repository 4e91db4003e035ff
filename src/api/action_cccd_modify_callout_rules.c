/* CccdModifyCalloutRules (cccd admin API): replaces the instance's calling rules with a
 * checked rule set; the next request is judged by it (no restart). */
#include <errno.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Rules", API_T_STRING, false, true, 2, 8 << 20, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *text = json_string_value(json_object_get(p, "Rules"));
	struct policy_rules *r = NULL;
	struct store_instance inst;
	char *json = NULL, why[256] = "";
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);
	int err;

	if (rc)
		return rc;
	err = policy_rules_parse(&r, text, strlen(text), why, sizeof(why));
	if (err == EINVAL)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Rules`: %s", why);
	/* Stored complete, so that a later change of a default does not change them. */
	if (!err)
		err = policy_rules_json(r, &json);
	mem_deref(r);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	err = store_instance_rules_put(ctx->st, sdkappid, json);
	if (!err && json_object_set_new(out, "Rules", json_string(json)))
		err = ENOMEM;
	mem_deref(json);
	return err ? api_fail(e, API_INTERNAL_ERROR, "The rules could not be stored.") : API_OK;
}

const struct api_action api_action_cccd_modify_callout_rules = {
	"CccdModifyCalloutRules", fields, API_RATE_DEFAULT, run, false,
};
