/* DescribePSTNActiveSessionList: the instance's calls in progress (ccc-actions §4). Note
 * the model's types: StartTimestamp and AcceptTimestamp are strings here. */
#include <errno.h>
#include <stdio.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "store/store.h"

enum { ACTIVE_LIMIT_MAX = 25 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Offset", API_T_INT64, false, true, 0, INT64_MAX, 0, NULL, NULL},
	{"Limit", API_T_INT64, false, true, 0, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static int session_add(struct store_session *s, void *arg)
{
	char start[24], accept[24];
	json_t *v;

	snprintf(start, sizeof(start), "%lld", (long long)s->start_ts);
	snprintf(accept, sizeof(accept), "%lld", (long long)s->accept_ts);
	v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
		      "SessionID", s->id, "RoomID", "", "Caller", s->caller, "Callee", s->callee,
		      "StartTimestamp", start, "AcceptTimestamp", accept, "StaffEmail", "",
		      "StaffNumber", "", "SessionStatus", store_status_name(s->status),
		      "Direction", (json_int_t)s->direction,
		      "RingTimestamp", (json_int_t)s->ring_ts,
		      "ProtectedCaller", "", "ProtectedCallee", "");
	return !v || json_array_append_new(arg, v) ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	int64_t offset = json_integer_value(json_object_get(p, "Offset"));
	int64_t limit = json_integer_value(json_object_get(p, "Limit"));
	struct store_instance inst;
	enum api_code rc;
	uint64_t total = 0;
	json_t *list;
	int err;

	if (limit > ACTIVE_LIMIT_MAX)
		return api_fail(e, API_LIMIT_EXCEEDED_OUT_OF_COUNT_LIMIT, "`Limit` must be at "
				"most %d, not %lld.", ACTIVE_LIMIT_MAX, (long long)limit);
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	list = json_array();
	if (!list)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	err = store_sessions_active(ctx->st, sdkappid, (uint64_t)offset, (uint64_t)limit,
				    session_add, list, &total);
	if (err) {
		json_decref(list);
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	}
	if (json_object_set_new(out, "Total", json_integer((json_int_t)total)) ||
	    json_object_set_new(out, "Sessions", list))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_describe_pstn_active_session_list = {
	"DescribePSTNActiveSessionList", fields, API_RATE_DEFAULT, run,
	"the instance's calls in progress",
};
