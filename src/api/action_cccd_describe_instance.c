/* CccdDescribeInstance, CccdDescribeNumbers: what a tenant may read of its instance's
 * set-up (docs/admin-api.md) — the licence an operator gave it (edition, package expiry,
 * AI channels) and its numbers with their inbound IVR bindings. An operator reads any
 * instance. */
#include <errno.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

/* The caller's own instance, or for an operator any instance; others are refused like
 * an unknown one (InstanceNotExist), as every action does. */
static enum api_code instance_of(const struct api_ctx *ctx, uint64_t sdkappid,
				 struct store_instance *inst, struct api_error *e)
{
	struct api_error own;
	enum api_code rc = api_instance(ctx, sdkappid, inst, &own);
	int err;

	if (rc != API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST || api_operator(ctx, e)) {
		*e = own;
		return rc;
	}
	err = store_instance_get(ctx->st, sdkappid, inst);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST, "The SdkAppId "
				"%llu does not exist.", (unsigned long long)sdkappid);
	return err ? api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.") : API_OK;
}

static enum api_code instance_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				  struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	enum api_code rc = instance_of(ctx, sdkappid, &inst, e);

	if (rc != API_OK)
		return rc;
	if (json_object_set_new(out, "SdkAppId", json_integer((json_int_t)inst.sdkappid)) ||
	    json_object_set_new(out, "Name", json_string(inst.name)) ||
	    json_object_set_new(out, "Edition", json_string(inst.edition == STORE_EDITION_ADVANCED
							     ? "advanced" : "standard")) ||
	    json_object_set_new(out, "PackageExpiresAt",
				json_integer((json_int_t)inst.package_expires_at)) ||
	    json_object_set_new(out, "AIChannels", json_integer(inst.ai_channels)) ||
	    json_object_set_new(out, "RecordCalls", json_boolean(inst.record_calls)) ||
	    json_object_set_new(out, "RetentionDays", json_integer(inst.retention_days)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_describe_instance = {
	"CccdDescribeInstance", fields, API_RATE_DEFAULT, instance_run,
	"an instance's edition, package and licences",
};

static int number_add(const struct store_number *n, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:i, s:b, s:s, s:I}", "Number",
						    n->number, "State", n->state, "Outbound",
						    n->outbound, "Class", n->number_class ? "own" :
						    "platform", "InboundIVRId",
						    (json_int_t)n->inbound_ivr)) ? ENOMEM : 0;
}

static enum api_code numbers_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	json_t *list = json_array();
	enum api_code rc = instance_of(ctx, sdkappid, &inst, e);

	if (rc == API_OK && (!list || store_numbers_list(ctx->st, sdkappid, number_add, list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "The numbers could not be listed.");
	if (rc == API_OK && (json_object_set_new(out, "TotalCount",
						 json_integer((json_int_t)json_array_size(list))) ||
			     json_object_set(out, "Numbers", list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(list);
	return rc;
}

const struct api_action api_action_cccd_describe_numbers = {
	"CccdDescribeNumbers", fields, API_RATE_DEFAULT, numbers_run,
	"the instance's phone numbers",
};
