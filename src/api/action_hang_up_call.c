/* HangUpCall: ends a live session of the caller's own instance (ccc-actions §5). The call
 * record then says HungUpSide "system" with the reason "HangUpCall".
 *
 * Any node answers for any session: the hang-up goes to this node's control loop (which
 * ends the call if it holds it) and, with several nodes, as a command row that the node
 * holding the call reads within a second (store/command.c, session/remote.c). The reply
 * comes once the command is durable, as TCCC answers at once for a live session: the
 * session was live in the store, and the call ends shortly after. */
#include <errno.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"SessionId", API_T_STRING, false, true, 1, 64, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *id = json_string_value(json_object_get(p, "SessionId"));
	struct store_instance inst;
	enum api_code rc;
	struct store_session *s = NULL;
	bool finished;
	int err;

	(void)out;
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = store_session_get(ctx->st, sdkappid, id, &s);
	if (err && err != ENOENT)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	finished = !err && s->status == STORE_STATUS_FINISHED;
	mem_deref(s);
	if (err || finished)
		return api_fail(e, API_FAILED_OPERATION_SESSION_NOT_EXISTS, "The session `%.64s` "
				"does not exist or has ended.", id);
	if (!ctx->hooks->session_hangup ||
	    ctx->hooks->session_hangup(id, sdkappid, ctx->hooks->arg))
		return api_fail(e, API_INTERNAL_ERROR, "The hang-up could not be requested.");
	if (store_command_add(ctx->st, sdkappid, id, "hangup"))
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The hang-up could not be passed "
				"to the node holding the call.");
	return API_OK;
}

const struct api_action api_action_hang_up_call = {
	"HangUpCall", fields, API_RATE_DEFAULT, run,
	"hang up a call in progress",
};
