/* CccdPutIVRFlow (cccd admin API): a new version of an IVR's flow document. The flow is
 * validated whole and refused with every finding; the running version then stays, and a
 * call in progress always keeps the version it started with. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include "api/api_int.h"
#include "ivr/ivr.h"
#include "store/store.h"

enum { FLOW_MAX = 256 * 1024 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"IVRId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Flow", API_T_STRING, false, true, 2, FLOW_MAX, 0, NULL, NULL},
	{"Name", API_T_STRING, false, false, 0, 63, 0, NULL, NULL},
	{NULL},
};

/* Every finding in the message, "node 'm' params.keys.1.next: ...; ...", cut to fit. */
static enum api_code refuse(struct api_error *e, const struct ivr_diag *d)
{
	size_t used;

	api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Flow` has %zu error%s: ",
		 d ? d->n : 0, d && d->n == 1 ? "" : "s");
	for (size_t i = 0; d && i < d->n; i++) {
		const struct ivr_issue *is = &d->v[i];

		used = strlen(e->msg);
		snprintf(e->msg + used, sizeof(e->msg) - used, "%s%s%s%s%s%s: %s", i ? "; " : "",
			 is->node[0] ? "node '" : "", is->node, is->node[0] ? "' " : "",
			 is->field, is->field[0] ? "" : "document", is->msg);
	}
	return e->code;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t ivr_id = (uint64_t)json_integer_value(json_object_get(p, "IVRId"));
	const char *doc = json_string_value(json_object_get(p, "Flow"));
	const json_t *name = json_object_get(p, "Name");
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;
	struct store_instance inst;
	struct store_ivr cur;
	uint32_t version;
	enum api_code rc;
	int err;

	rc = api_instance_admin(ctx, sdkappid, &inst, e);
	if (rc)
		return rc;
	/* Blocking (prompt files, zones): fine on an API thread. */
	err = ivr_flow_load(&flow, doc, strlen(doc), NULL, &diag);
	if (err == EINVAL) {
		rc = refuse(e, diag);
		goto out;
	}
	if (err) {
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		goto out;
	}
	if (ivr_flow_id(flow) && ivr_flow_id(flow) != ivr_id) {
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Flow`: its ivrId %llu "
			      "is not the IVRId %llu.", (unsigned long long)ivr_flow_id(flow),
			      (unsigned long long)ivr_id);
		goto out;
	}
	/* An IVR keeps its type: numbers and callers rely on what it is. */
	err = store_ivr_get(ctx->st, sdkappid, ivr_id, &cur);
	if (!err && (int)cur.type != (int)ivr_flow_type(flow)) {
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Flow`: IVR %llu is of "
			      "type %s, the flow is %s.", (unsigned long long)ivr_id,
			      ivr_flow_type_name((enum ivr_flow_type)cur.type),
			      ivr_flow_type_name(ivr_flow_type(flow)));
		goto out;
	}
	if (err && err != ENOENT) {
		rc = api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
		goto out;
	}
	err = store_ivr_put(ctx->st, sdkappid, ivr_id,
			    name ? json_string_value(name) : (!err ? cur.name : ivr_flow_name(flow)),
			    (enum store_ivr_type)ivr_flow_type(flow), doc, ivr_flow_uses_ai(flow),
			    &version);
	if (err) {
		rc = api_fail(e, API_INTERNAL_ERROR, "The flow could not be stored.");
		goto out;
	}
	rc = json_object_set_new(out, "IVRId", json_integer((json_int_t)ivr_id)) ||
	     json_object_set_new(out, "Version", json_integer(version)) ||
	     json_object_set_new(out, "UsesAI", json_boolean(ivr_flow_uses_ai(flow))) ?
	     api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
out:
	mem_deref(flow);
	mem_deref(diag);
	return rc;
}

const struct api_action api_action_cccd_put_ivr_flow = {
	"CccdPutIVRFlow", fields, API_RATE_DEFAULT, run, false,
};
