/* CccdModifyNumber: a tenant binds one of its numbers to an inbound IVR (or unbinds it),
 * enables or disables it, and says whether it may be a caller id (docs/admin-api.md). The
 * number must already belong to the instance: numbers are allotted by the operator
 * (`ccc admin number-set`). Inbound routing re-reads bindings every few seconds. */
#include <errno.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Number", API_T_STRING, false, true, 1, 32, 0, NULL, NULL},
	{"InboundIVRId", API_T_UINT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"Enabled", API_T_BOOL, false, false, 0, 0, 0, NULL, NULL},
	{"Outbound", API_T_BOOL, false, false, 0, 0, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *given = json_string_value(json_object_get(p, "Number"));
	const json_t *ivr = json_object_get(p, "InboundIVRId");
	const json_t *enabled = json_object_get(p, "Enabled");
	const json_t *outbound = json_object_get(p, "Outbound");
	struct store_instance inst;
	struct store_number num;
	struct store_ivr iv;
	struct policy_rules *rules = NULL;
	char number[33], why[128] = "", *text = NULL;
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	/* Numbers are stored normalised in the instance's default country, as callers give
	 * them to CreateIVRSession. */
	err = store_instance_rules_get(ctx->st, sdkappid, &text);
	if (!err)
		err = text[0] ? policy_rules_parse(&rules, text, strlen(text), why, sizeof(why))
			      : policy_rules_default(&rules);
	mem_deref(text);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The calling rules do not load.");
	err = policy_number_normalise(given, policy_rules_default_cc(rules), number, why,
				      sizeof(why));
	mem_deref(rules);
	if (err)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Number`: %s", why);
	err = store_number_get(ctx->st, sdkappid, number, &num);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Number`: %s is not "
				"a number of instance %llu.", number, (unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	if (ivr && json_integer_value(ivr)) {
		err = store_ivr_get(ctx->st, sdkappid, (uint64_t)json_integer_value(ivr), &iv);
		if (err == ENOENT || (!err && iv.type != STORE_IVR_INBOUND))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of "
					"`InboundIVRId`: instance %llu has no inbound IVR %lld.",
					(unsigned long long)sdkappid,
					(long long)json_integer_value(ivr));
		if (err)
			return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	}
	if (ivr)
		num.inbound_ivr = (uint64_t)json_integer_value(ivr);
	if (enabled)
		num.state = json_is_true(enabled) ? 1 : 4;
	if (outbound)
		num.outbound = json_is_true(outbound);
	err = store_number_put(ctx->st, &num);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The number could not be stored: "
				"%s.", strerror(err));
	if (json_object_set_new(out, "Number", json_string(num.number)) ||
	    json_object_set_new(out, "InboundIVRId", json_integer((json_int_t)num.inbound_ivr)) ||
	    json_object_set_new(out, "State", json_integer(num.state)) ||
	    json_object_set_new(out, "Outbound", json_boolean(num.outbound)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_modify_number = {
	"CccdModifyNumber", fields, API_RATE_DEFAULT, run,
	"add or change a phone number of the instance",
};
