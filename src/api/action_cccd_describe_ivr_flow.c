/* CccdDescribeIVRFlow (cccd admin API): one version of an IVR's flow document (by default
 * the current one), as it was stored. */
#include <errno.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "ivr/ivr.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"IVRId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Version", API_T_INT64, false, false, 1, UINT32_MAX, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t ivr_id = (uint64_t)json_integer_value(json_object_get(p, "IVRId"));
	const json_t *v = json_object_get(p, "Version");
	struct store_instance inst;
	struct store_ivr ivr;
	uint32_t version;
	char *doc = NULL;
	enum api_code rc;
	int err;

	rc = api_instance_admin(ctx, sdkappid, &inst, e);
	if (rc)
		return rc;
	err = store_ivr_get(ctx->st, sdkappid, ivr_id, &ivr);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `IVRId`: IVR %llu "
				"does not exist in instance %llu.", (unsigned long long)ivr_id,
				(unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	version = v ? (uint32_t)json_integer_value(v) : ivr.version;
	err = store_ivr_document(ctx->st, sdkappid, ivr_id, version, &doc);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Version`: IVR %llu "
				"has no version %u (the newest is %u).",
				(unsigned long long)ivr_id, version, ivr.version);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	rc = json_object_set_new(out, "IVRId", json_integer((json_int_t)ivr_id)) ||
	     json_object_set_new(out, "Version", json_integer(version)) ||
	     json_object_set_new(out, "CurrentVersion", json_integer(ivr.version)) ||
	     json_object_set_new(out, "Type", json_string(ivr_flow_type_name(
		     (enum ivr_flow_type)ivr.type))) ||
	     json_object_set_new(out, "Flow", json_string(doc)) ?
	     api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
	mem_deref(doc);
	return rc;
}

const struct api_action api_action_cccd_describe_ivr_flow = {
	"CccdDescribeIVRFlow", fields, API_RATE_DEFAULT, run, false,
};
