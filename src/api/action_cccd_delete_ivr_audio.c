/* CccdDeleteIvrAudio: removes an uploaded prompt (docs/admin-api.md). Refused with
 * FailedOperation while the current version of one of the instance's IVRs plays it (by
 * FileId, or by a CustomFileName that resolves to it): each current flow is loaded as the
 * sessions load it, so the answer is the loader's, not a text search. Older versions that
 * named it stay stored but would no longer load; sessions that run them keep their
 * decoded copy. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "ivr/ivr.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"FileId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static int ivr_add(const struct store_ivr *iv, void *arg)
{
	return json_array_append_new(arg, json_pack("[I, i]", (json_int_t)iv->ivr_id,
						    (int)iv->version)) ? ENOMEM : 0;
}

/* The id of the first IVR whose current flow names the file (0: none), or an error. */
static int flows_using(const struct api_ctx *ctx, uint64_t sdkappid, uint64_t file_id,
		       uint64_t *ivrp)
{
	struct api_audio_ref ref = {.st = ctx->st, .sdkappid = sdkappid, .watch = file_id};
	const struct ivr_flow_opts opts = {
		.prompt_dir = ctx->hooks->prompt_dir,
		.allow_plain_http = ctx->hooks->allow_plain_http,
		.audio = api_audio_resolve,
		.audio_arg = &ref,
	};
	json_t *ivrs = json_array(), *v;
	size_t i;
	int err;

	*ivrp = 0;
	if (!ivrs)
		return ENOMEM;
	err = store_ivrs_list(ctx->st, sdkappid, ivr_add, ivrs);
	json_array_foreach(ivrs, i, v) {
		uint64_t id = (uint64_t)json_integer_value(json_array_get(v, 0));
		struct ivr_flow *flow = NULL;
		struct ivr_diag *diag = NULL;
		char *doc = NULL;

		if (err || *ivrp)
			break;
		err = store_ivr_document(ctx->st, sdkappid, id,
					 (uint32_t)json_integer_value(json_array_get(v, 1)), &doc);
		if (err)
			break;
		ref.used = false;
		/* A current flow that no longer loads (a file gone from disk) still tells,
		 * through its references, whether it names this one. */
		ivr_flow_load(&flow, doc, strlen(doc), &opts, &diag);
		if (ref.used)
			*ivrp = id;
		mem_deref(flow);
		mem_deref(diag);
		mem_deref(doc);
	}
	json_decref(ivrs);
	return err;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t file_id = (uint64_t)json_integer_value(json_object_get(p, "FileId"));
	const char *pd = ctx->hooks->prompt_dir && *ctx->hooks->prompt_dir
			 ? ctx->hooks->prompt_dir : ".";
	struct store_instance inst;
	struct store_audio a;
	uint64_t ivr = 0;
	char full[768];
	enum api_code rc;
	int err;

	(void)out;
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	err = store_audio_get(ctx->st, sdkappid, file_id, &a);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `FileId`: instance "
				"%llu has no file %llu.", (unsigned long long)sdkappid,
				(unsigned long long)file_id);
	if (!err)
		err = flows_using(ctx, sdkappid, file_id, &ivr);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The database is unavailable.");
	if (ivr)
		return api_fail(e, API_FAILED_OPERATION_AUDIO_IN_USE, "File %llu is played by the current "
				"flow of IVR %llu: change the flow first.",
				(unsigned long long)file_id, (unsigned long long)ivr);
	err = store_audio_delete(ctx->st, sdkappid, file_id);
	if (err && err != ENOENT)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The file could not be removed: "
				"%s.", strerror(err));
	snprintf(full, sizeof(full), "%s/%s", pd, a.path);
	unlink(full);
	return API_OK;
}

const struct api_action api_action_cccd_delete_ivr_audio = {
	"CccdDeleteIvrAudio", fields, API_RATE_DEFAULT, run,
	"delete an uploaded prompt file no current flow plays",
};
