/* CccdDescribeSipTrace: the SIP messages of one session's calls (docs/admin-api.md) — kept
 * [records] sip_trace_days, read by the instance's own account only (another instance's
 * session is unknown, as in DescribeTelSession). */
#include <errno.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"SessionId", API_T_STRING, false, true, 1, 64, 0, NULL, NULL},
	{NULL},
};

static int message_add(const char *call_id, const struct store_sip_msg *m, void *arg)
{
	return json_array_append_new(arg, json_pack(
		"{s:s, s:I, s:s, s:s, s:s, s:s}", "Direction", m->tx ? "sent" : "received",
		"TimestampUs", (json_int_t)m->ts_us, "Source", m->src, "Destination", m->dst,
		"CallId", call_id, "Message", m->text)) ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *id = json_string_value(json_object_get(p, "SessionId"));
	struct store_instance inst;
	struct store_session *s = NULL;
	json_t *list;
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = store_session_get(ctx->st, sdkappid, id, &s);
	mem_deref(s);
	if (err == ENOENT)
		return api_fail(e, API_FAILED_OPERATION_SESSION_NOT_EXISTS, "The session `%.64s` "
				"does not exist.", id);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	list = json_array();
	if (!list || store_sip_trace_get(ctx->st, sdkappid, id, message_add, list) ||
	    json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(list))) ||
	    json_object_set(out, "Messages", list)) {
		json_decref(list);
		return api_fail(e, API_INTERNAL_ERROR, "The SIP trace could not be read.");
	}
	json_decref(list);
	return API_OK;
}

const struct api_action api_action_cccd_describe_sip_trace = {
	"CccdDescribeSipTrace", fields, API_RATE_DEFAULT, run,
	"the SIP messages of a session",
};
