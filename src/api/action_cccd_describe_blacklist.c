/* CccdDescribeBlacklist (cccd admin API): the instance's blacklist switch and entries
 * (numbers and prefixes, normalised). */
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

enum api_code api_blacklist_out(const struct api_ctx *ctx, uint64_t sdkappid, json_t *out,
				struct api_error *e)
{
	json_t *rules, *bl;
	char *json = NULL;
	enum api_code rc = api_rules_current(ctx, sdkappid, &json, e);

	if (rc)
		return rc;
	rules = json_loads(json, 0, NULL);
	mem_deref(json);
	bl = json_object_get(rules, "blacklist");
	rc = !bl || json_object_set(out, "Enabled", json_object_get(bl, "enabled")) ||
	     json_object_set(out, "Entries", json_object_get(bl, "entries")) ?
	     api_fail(e, API_INTERNAL_ERROR, "The blacklist could not be read.") : API_OK;
	json_decref(rules);
	return rc;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);

	return rc ? rc : api_blacklist_out(ctx, sdkappid, out, e);
}

const struct api_action api_action_cccd_describe_blacklist = {
	"CccdDescribeBlacklist", fields, API_RATE_DEFAULT, run, false,
};
