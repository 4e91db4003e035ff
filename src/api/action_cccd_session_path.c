/* CccdDescribeSessionPath: the IVR path one session took — every node it entered, in
 * order, with the node's label, how it left it and when — and the IVR and flow version it
 * ran, so that a reader (the web console's flow graph) draws that version with the path
 * on it. */
#include <errno.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"SessionId", API_T_STRING, false, true, 1, 64, 0, NULL, NULL},
	{NULL},
};

static int step_add(const struct store_path_step *p, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:I}", "Node", p->node,
						    "Label", p->label, "Result", p->result,
						    "TimestampMs", (json_int_t)p->ts_ms)) ?
	       ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *id = json_string_value(json_object_get(p, "SessionId"));
	struct store_instance inst;
	uint64_t ivr_id = 0;
	uint32_t version = 0;
	json_t *steps;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);
	int err;

	if (rc != API_OK)
		return rc;
	steps = json_array();
	if (!steps)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	err = store_session_path_list(ctx->st, sdkappid, id, &ivr_id, &version, step_add, steps);
	if (err == ENOENT)
		rc = api_fail(e, API_FAILED_OPERATION_SESSION_NOT_EXISTS, "The session %s does not "
			      "exist in instance %llu.", id, (unsigned long long)sdkappid);
	else if (err)
		rc = api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	else if (json_object_set_new(out, "IVRId", json_integer((json_int_t)ivr_id)) ||
		 json_object_set_new(out, "Version", json_integer(version)) ||
		 json_object_set(out, "Path", steps))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(steps);
	return rc;
}

const struct api_action api_action_cccd_describe_session_path = {
	"CccdDescribeSessionPath", fields, API_RATE_DEFAULT, run,
	"the IVR path one session took, node by node, and the flow version it ran",
};
