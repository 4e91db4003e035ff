/* CreateIVRSession: dial Callee and run an IVR once answered (ccc-actions §1). Replies
 * once the session is durable; the control loop places the call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "policy/policy.h"
#include "store/store.h"

/* Limits written in docs/api-compatibility.md. */
enum {
	MAX_CALLERS = 16,         /* = STORE_ADMIT_MAX_CALLERS */
	MAX_UUI = 1024,
	MAX_RING_S = 120,
};

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Callee", API_T_STRING, false, true, 1, 32, 0, NULL, api_check_number},
	{"IVRId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Callers", API_T_STRING, true, false, 1, 32, MAX_CALLERS, NULL, api_check_numbers},
	{"Variables", API_T_STRUCT, true, false, 0, 0, API_MAX_VARIABLES, api_variable_fields,
	 api_check_variables},
	{"UUI", API_T_STRING, false, false, 0, MAX_UUI, 0, NULL, NULL},
	{"MaxRingTimeoutSecond", API_T_INT64, false, false, 1, MAX_RING_S, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t ivr_id = (uint64_t)json_integer_value(json_object_get(p, "IVRId"));
	const json_t *vars = json_object_get(p, "Variables"), *uui = json_object_get(p, "UUI");
	const json_t *ring = json_object_get(p, "MaxRingTimeoutSecond");
	struct store_instance inst;
	struct store_ivr ivr;
	struct store_session *s = NULL;
	char *vars_text = NULL, *rules = NULL;
	bool ai = false;
	enum api_code rc;
	int err;

	rc = api_instance_rules(ctx, sdkappid, ivr_id, &inst, &rules, &ivr, e);
	if (rc != API_OK)
		return rc;
	/* A draining node takes no new session; another node (or this one later) will. */
	if (drain_active()) {
		rc = api_fail(e, API_RESOURCE_UNAVAILABLE, "node draining: this cccd node takes "
			      "no new sessions; retry on another node or later.");
		goto out;
	}
	rc = api_callout_licence(&inst, ctx->now_ms / 1000, e);
	if (rc != API_OK)
		goto out;

	if (!ivr.ivr_id)
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `IVRId`: IVR %llu "
			      "does not exist in instance %llu.", (unsigned long long)ivr_id,
			      (unsigned long long)sdkappid);
	else if (ivr.type != STORE_IVR_INBOUND && ivr.type != STORE_IVR_AUTO_OUTBOUND)
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `IVRId`: IVR %llu is "
			      "a survey IVR; CreateIVRSession needs an inbound or automatic "
			      "outbound IVR.", (unsigned long long)ivr_id);
	if (rc != API_OK)
		goto out;

	/* Whether the flow uses AI decides the AI licence check (step 12). The document of the
	 * version the session will run was validated when it was saved. */
	err = api_flow_uses_ai(ctx->st, sdkappid, ivr_id, ivr.version, &ai);
	if (err) {
		rc = api_fail(e, API_INTERNAL_ERROR, "The flow of IVR %llu version %u cannot be "
			      "read.", (unsigned long long)ivr_id, ivr.version);
		goto out;
	}

	/* Stored as given, a JSON array of {"Key","Value"}; absent is "[]". */
	vars_text = vars ? json_dumps(vars, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if ((vars && !vars_text) ||
	    store_session_alloc(&s, uui ? json_string_value(uui) : "", vars_text)) {
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		goto out;
	}
	if (ids_session(s->id)) {
		rc = api_fail(e, API_INTERNAL_ERROR, "No random source.");
		goto out;
	}
	s->sdkappid = sdkappid;
	s->account_id = ctx->account_id;
	s->direction = 1;
	s->ivr_id = ivr_id;
	s->ivr_version = ivr.version;
	s->max_ring_s = ring ? (uint32_t)json_integer_value(ring) : 0;
	snprintf(s->request_id, sizeof(s->request_id), "%s", ctx->request_id);
	s->status = STORE_STATUS_RINGING;
	s->created_ms = ctx->now_ms;
	s->start_ts = ctx->now_ms / 1000;
	s->ai = ai;

	rc = api_callout_admit(ctx, p, s, rules, inst.ai_channels, e);
	if (rc)
		goto out;
	rc = json_object_set_new(out, "SessionId", json_string(s->id)) ?
		api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
	/* Durable, so handed over even when the reply cannot be built: a session the
	 * store acknowledged is always dialled and always gets its record. */
	if (ctx->hooks->session_created) {
		ctx->hooks->session_created(s, inst.record_calls, ctx->hooks->arg);
		s = NULL;
	}
out:
	free(vars_text);
	mem_deref(rules);
	mem_deref(s);
	return rc;
}

const struct api_action api_action_create_ivr_session = {
	"CreateIVRSession", fields, API_RATE_DEFAULT, run,
	"place an outbound IVR call",
};
