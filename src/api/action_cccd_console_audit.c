/* CccdDescribeConsoleAudit: the instance's audit log — every change made through the web
 * console, newest first: who, when, which action, its outcome and its parameters
 * (passwords left out). */
#include <errno.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Offset", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"Limit", API_T_INT64, false, false, 1, 100, 0, NULL, NULL},
	{NULL},
};

static int entry_add(const struct store_console_audit *a, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "Id",
						    (json_int_t)a->id, "Timestamp",
						    (json_int_t)(a->at_ms / 1000), "UserName",
						    a->name, "Action", a->action, "Result",
						    a->result, "Summary", a->summary)) ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const json_t *off = json_object_get(p, "Offset"), *lim = json_object_get(p, "Limit");
	struct store_instance inst;
	uint64_t total = 0;
	json_t *list;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);

	if (rc != API_OK)
		return rc;
	list = json_array();
	if (!list || store_console_audit_list(ctx->st, sdkappid,
					      off ? (uint64_t)json_integer_value(off) : 0,
					      lim ? (uint64_t)json_integer_value(lim) : 20,
					      entry_add, list, &total))
		rc = api_fail(e, API_INTERNAL_ERROR, "The audit log could not be read.");
	if (rc == API_OK && (json_object_set_new(out, "TotalCount",
						 json_integer((json_int_t)total)) ||
			     json_object_set(out, "Entries", list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(list);
	return rc;
}

const struct api_action api_action_cccd_describe_console_audit = {
	"CccdDescribeConsoleAudit", fields, API_RATE_DEFAULT, run,
	"the web console's audit log: who changed what, and when",
};
