/* CccdDescribeIVRFlows (cccd admin API): the instance's IVRs, each with its current
 * version and every version stored. */
#include <errno.h>
#include "api/api_int.h"
#include "ivr/ivr.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

struct listing {
	const struct api_ctx *ctx;
	json_t *list;
	json_t *versions;
};

static int version_add(uint32_t version, int64_t created_at, bool ai, void *arg)
{
	struct listing *l = arg;

	return json_array_append_new(l->versions, json_pack("{s:i, s:I, s:b}", "Version",
							    (int)version, "CreateTime",
							    (json_int_t)created_at, "UsesAI",
							    ai)) ? ENOMEM : 0;
}

static int ivr_add(const struct store_ivr *ivr, void *arg)
{
	struct listing *l = arg;
	json_t *o;
	int err;

	l->versions = json_array();
	err = l->versions ? store_ivr_versions(l->ctx->st, ivr->sdkappid, ivr->ivr_id,
					       version_add, l) : ENOMEM;
	o = err ? NULL : json_pack("{s:I, s:s, s:s, s:i, s:b, s:O}", "IVRId",
				   (json_int_t)ivr->ivr_id, "Name", ivr->name, "Type",
				   ivr_flow_type_name((enum ivr_flow_type)ivr->type), "Version",
				   (int)ivr->version, "UsesAI", ivr->ai, "Versions", l->versions);
	json_decref(l->versions);
	l->versions = NULL;
	if (err)
		return err;
	return json_array_append_new(l->list, o) ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	struct listing l = {ctx, json_array(), NULL};
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);

	if (!rc && (!l.list || store_ivrs_list(ctx->st, sdkappid, ivr_add, &l)))
		rc = api_fail(e, API_INTERNAL_ERROR, "The IVRs could not be listed.");
	if (!rc) {
		rc = json_object_set_new(out, "TotalCount", json_integer((json_int_t)
									 json_array_size(l.list))) ||
		     json_object_set(out, "IVRFlows", l.list) ?
		     api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
	}
	json_decref(l.list);
	return rc;
}

const struct api_action api_action_cccd_describe_ivr_flows = {
	"CccdDescribeIVRFlows", fields, API_RATE_DEFAULT, run, false,
};
