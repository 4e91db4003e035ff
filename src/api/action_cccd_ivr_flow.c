/* CccdPutIVRFlow, CccdDescribeIVRFlows, CccdDescribeIVRFlow: a tenant's IVR flows over the
 * API (docs/admin-api.md). A new version is validated whole, as the sessions will load it;
 * a refused flow names every finding and the running version stays. Sessions keep the
 * version they started with; the next CreateIVRSession or inbound call takes the new one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "ivr/ivr.h"
#include "store/store.h"

enum { MAX_DOCUMENT = 1024 * 1024 };

/* Every finding, "node 'ask' params.url: missing; ...", as far as the message holds. */
static enum api_code refuse_flow(const struct ivr_diag *d, struct api_error *e)
{
	size_t n = 0, i;
	int w;

	w = snprintf(e->msg, sizeof(e->msg), "The value of `Document` is not a valid flow "
		     "(%zu finding%s%s):", d->n, d->n == 1 ? "" : "s",
		     d->truncated ? ", more dropped" : "");
	n = w > 0 ? (size_t)w : 0;
	for (i = 0; i < d->n && n < sizeof(e->msg) - 64; i++) {
		const struct ivr_issue *is = &d->v[i];

		w = snprintf(e->msg + n, sizeof(e->msg) - n, "%s %s%s%s%s%s: %s",
			     i ? ";" : "", is->node[0] ? "node '" : "the document", is->node,
			     is->node[0] ? "'" : "", is->field[0] ? " " : "", is->field, is->msg);
		if (w < 0 || (size_t)w >= sizeof(e->msg) - n)
			break;
		n += (size_t)w;
	}
	if (i < d->n)
		snprintf(e->msg + n, sizeof(e->msg) - n, "; and %zu more", d->n - i);
	e->code = API_INVALID_PARAMETER_VALUE;
	return e->code;
}

static const struct api_field put_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"IVRId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Document", API_T_STRING, false, true, 2, MAX_DOCUMENT, 0, NULL, NULL},
	{"Name", API_T_STRING, false, false, 0, 63, 0, NULL, NULL},
	{NULL},
};

static enum api_code put_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			     struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t ivr_id = (uint64_t)json_integer_value(json_object_get(p, "IVRId"));
	const char *doc = json_string_value(json_object_get(p, "Document"));
	const char *name = json_string_value(json_object_get(p, "Name"));
	struct api_audio_ref ref = {.st = ctx->st, .sdkappid = sdkappid};
	const struct ivr_flow_opts opts = {
		.prompt_dir = ctx->hooks->prompt_dir,
		.allow_plain_http = ctx->hooks->allow_plain_http,
		.audio = api_audio_resolve,
		.audio_arg = &ref,
	};
	struct store_instance inst;
	struct ivr_diag *diag = NULL;
	struct ivr_flow *flow = NULL;
	enum ivr_flow_type type;
	uint32_t version = 0;
	enum api_code rc;
	bool ai;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = ivr_flow_load(&flow, doc, strlen(doc), &opts, &diag);
	if (err == EINVAL && diag) {
		rc = refuse_flow(diag, e);
		mem_deref(diag);
		return rc;
	}
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The flow could not be checked.");
	type = ivr_flow_type(flow);
	ai = ivr_flow_uses_ai(flow);
	if (!name)
		name = ivr_flow_name(flow) ? ivr_flow_name(flow) : "";
	err = store_ivr_put(ctx->st, sdkappid, ivr_id, name, (enum store_ivr_type)type, doc,
			    &version);
	mem_deref(flow);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The flow could not be stored: %s.",
				strerror(err));
	if (json_object_set_new(out, "IVRId", json_integer((json_int_t)ivr_id)) ||
	    json_object_set_new(out, "Version", json_integer(version)) ||
	    json_object_set_new(out, "Type", json_string(ivr_flow_type_name(type))) ||
	    json_object_set_new(out, "UsesAI", json_boolean(ai)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_put_ivr_flow = {
	"CccdPutIVRFlow", put_fields, API_RATE_DEFAULT, put_run,
	"store a new version of an IVR flow (docs/flows.md)",
};

static const struct api_field list_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static int list_add(const struct store_ivr *iv, void *arg)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:i}", "IVRId", (json_int_t)iv->ivr_id,
			      "Name", iv->name, "Type",
			      ivr_flow_type_name((enum ivr_flow_type)iv->type),
			      "Version", (int)iv->version);

	return json_array_append_new(arg, o) ? ENOMEM : 0;
}

static enum api_code list_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			      struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	json_t *list = json_array();
	enum api_code rc;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK) {
		json_decref(list);
		return rc;
	}
	if (!list || store_ivrs_list(ctx->st, sdkappid, list_add, list)) {
		json_decref(list);
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	}
	if (json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(list))) ||
	    json_object_set_new(out, "IVRs", list))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_describe_ivr_flows = {
	"CccdDescribeIVRFlows", list_fields, API_RATE_DEFAULT, list_run,
	"the instance's IVRs and their versions",
};

static const struct api_field get_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"IVRId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Version", API_T_UINT64, false, false, 1, UINT32_MAX, 0, NULL, NULL},
	{NULL},
};

static enum api_code get_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			     struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t ivr_id = (uint64_t)json_integer_value(json_object_get(p, "IVRId"));
	const json_t *ver = json_object_get(p, "Version");
	struct store_instance inst;
	struct store_ivr iv;
	uint32_t version;
	char *doc = NULL;
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = store_ivr_get(ctx->st, sdkappid, ivr_id, &iv);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `IVRId`: IVR %llu "
				"does not exist in instance %llu.", (unsigned long long)ivr_id,
				(unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	version = ver ? (uint32_t)json_integer_value(ver) : iv.version;
	err = store_ivr_document(ctx->st, sdkappid, ivr_id, version, &doc);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Version`: IVR %llu "
				"has no version %u (the newest is %u).",
				(unsigned long long)ivr_id, version, iv.version);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	rc = API_OK;
	if (json_object_set_new(out, "IVRId", json_integer((json_int_t)ivr_id)) ||
	    json_object_set_new(out, "Version", json_integer(version)) ||
	    json_object_set_new(out, "CurrentVersion", json_integer(iv.version)) ||
	    json_object_set_new(out, "Type",
				json_string(ivr_flow_type_name((enum ivr_flow_type)iv.type))) ||
	    json_object_set_new(out, "Document", json_string(doc)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	mem_deref(doc);
	return rc;
}

const struct api_action api_action_cccd_describe_ivr_flow = {
	"CccdDescribeIVRFlow", get_fields, API_RATE_DEFAULT, get_run,
	"one IVR flow version's document",
};
