/* CccdDescribeNumbers (cccd admin API): the instance's numbers with their state, class,
 * outbound use and inbound IVR binding. */
#include <errno.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static int number_add(const struct store_number *n, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:i, s:b, s:s, s:I}", "Number",
						    n->number, "State", n->state, "Outbound",
						    n->outbound, "Class", n->number_class ? "own" :
						    "platform", "InboundIVRId",
						    (json_int_t)n->inbound_ivr)) ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	json_t *list = json_array();
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);

	if (!rc && (!list || store_numbers_list(ctx->st, sdkappid, number_add, list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "The numbers could not be listed.");
	if (!rc && json_object_set(out, "Numbers", list))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(list);
	return rc;
}

const struct api_action api_action_cccd_describe_numbers = {
	"CccdDescribeNumbers", fields, API_RATE_DEFAULT, run, false,
};
