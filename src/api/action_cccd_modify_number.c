/* CccdModifyNumber (cccd admin API): binds one of the instance's numbers to an inbound IVR
 * (0 = none). Inbound calls follow the new binding within the inbound table's refresh
 * (5 s), without a restart. */
#include <errno.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Number", API_T_STRING, false, true, 1, 32, 0, NULL, NULL},
	{"InboundIVRId", API_T_INT64, false, true, 0, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t ivr_id = (uint64_t)json_integer_value(json_object_get(p, "InboundIVRId"));
	const char *number = json_string_value(json_object_get(p, "Number"));
	struct store_instance inst;
	struct store_ivr ivr;
	char norm[33], why[128];
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);
	int err;

	(void)out;
	if (rc)
		return rc;
	if (policy_number_normalise(number, NULL, norm, why, sizeof(why)))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Number`: %s", why);
	if (ivr_id) {
		err = store_ivr_get(ctx->st, sdkappid, ivr_id, &ivr);
		if (err == ENOENT)
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of "
					"`InboundIVRId`: IVR %llu does not exist in instance %llu.",
					(unsigned long long)ivr_id, (unsigned long long)sdkappid);
		if (err)
			return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
		if (ivr.type != STORE_IVR_INBOUND)
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of "
					"`InboundIVRId`: IVR %llu is not an inbound IVR.",
					(unsigned long long)ivr_id);
	}
	err = store_number_bind(ctx->st, sdkappid, norm, ivr_id);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Number`: %s is not "
				"a number of instance %llu.", norm, (unsigned long long)sdkappid);
	return err ? api_fail(e, API_INTERNAL_ERROR, "The binding could not be stored.") : API_OK;
}

const struct api_action api_action_cccd_modify_number = {
	"CccdModifyNumber", fields, API_RATE_DEFAULT, run, false,
};
