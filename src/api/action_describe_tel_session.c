/* DescribeTelSession: one session's live state as PSTNSession (ccc-actions §2, §10). */
#include <errno.h>
#include <stdio.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"SessionId", API_T_STRING, false, true, 1, 64, 0, NULL, NULL},
	{NULL},
};

/* Every field of the model with its exact JSON type. There is no agent or number
 * protection, so those strings are empty; OutBoundCaller/OutBoundCallee are the numbers
 * of a transfer to an external line once it connected ("" otherwise). */
static json_t *pstn_session(const struct store_session *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s,"
			 " s:s, s:s}",
			 "SessionID", s->id,
			 "RoomID", "",
			 "Caller", s->caller,
			 "Callee", s->callee,
			 "StartTimestamp", (json_int_t)s->start_ts,
			 "RingTimestamp", (json_int_t)s->ring_ts,
			 "AcceptTimestamp", (json_int_t)s->accept_ts,
			 "StaffEmail", "",
			 "StaffNumber", "",
			 "SessionStatus", store_status_name(s->status),
			 "Direction", (json_int_t)s->direction,
			 "OutBoundCaller", s->outbound_caller,
			 "OutBoundCallee", s->outbound_callee,
			 "ProtectedCaller", "",
			 "ProtectedCallee", "");
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *id = json_string_value(json_object_get(p, "SessionId"));
	struct store_instance inst;
	enum api_code rc;
	struct store_session *s = NULL;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = store_session_get(ctx->st, sdkappid, id, &s);
	if (err == ENOENT)
		return api_fail(e, API_FAILED_OPERATION_SESSION_NOT_EXISTS, "The session `%.64s` "
				"does not exist.", id);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	err = json_object_set_new(out, "Session", pstn_session(s));
	mem_deref(s);
	return err ? api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
}

const struct api_action api_action_describe_tel_session = {
	"DescribeTelSession", fields, API_RATE_DEFAULT, run,
	"one session's state",
};
