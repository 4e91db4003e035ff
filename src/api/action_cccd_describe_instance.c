/* CccdDescribeInstance (cccd admin API): an instance's licence — edition, package expiry,
 * AI channels and how many are in use. A tenant sees its own; an operator any. */
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);

	if (rc)
		return rc;
	return json_object_set_new(out, "SdkAppId", json_integer((json_int_t)inst.sdkappid)) ||
	       json_object_set_new(out, "Name", json_string(inst.name)) ||
	       json_object_set_new(out, "Edition", json_string(inst.edition ==
				   STORE_EDITION_ADVANCED ? "advanced" : "standard")) ||
	       json_object_set_new(out, "PackageExpiresAt",
				   json_integer(inst.package_expires_at)) ||
	       json_object_set_new(out, "AIChannels", json_integer(inst.ai_channels)) ?
	       api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
}

const struct api_action api_action_cccd_describe_instance = {
	"CccdDescribeInstance", fields, API_RATE_DEFAULT, run, false,
};
