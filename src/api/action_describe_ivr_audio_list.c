/* DescribeIvrAudioList: the instance's uploaded prompts (ccc-actions §7), by FileId, paged
 * from page 0, filtered by any of CustomFileName, AudioFileName and FileId (a file matches
 * a filter when it equals one of its values; given filters must all match). The store
 * hands every file of the instance and the filters are applied here: an instance holds at
 * most 50 new files a day, so the list stays small. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"
#include "store/store.h"

enum { AUDIO_PAGE_MAX = 50, AUDIO_FILTER_MAX = 100 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"PageSize", API_T_UINT64, false, true, 1, AUDIO_PAGE_MAX, 0, NULL, NULL},
	{"PageNumber", API_T_UINT64, false, true, 0, INT64_MAX / AUDIO_PAGE_MAX, 0, NULL, NULL},
	{"CustomFileName", API_T_STRING, true, false, 0, 255, AUDIO_FILTER_MAX, NULL, NULL},
	{"AudioFileName", API_T_STRING, true, false, 0, 255, AUDIO_FILTER_MAX, NULL, NULL},
	{"FileId", API_T_UINT64, true, false, 0, INT64_MAX, AUDIO_FILTER_MAX, NULL, NULL},
	{NULL},
};

struct audio_page {
	const json_t *custom, *file, *ids;
	uint64_t skip, take, total;
	json_t *list;
};

static bool has_string(const json_t *filter, const char *s)
{
	size_t i;
	json_t *v;

	if (!filter)
		return true;
	json_array_foreach(filter, i, v) {
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static bool has_id(const json_t *filter, uint64_t id)
{
	size_t i;
	json_t *v;

	if (!filter)
		return true;
	json_array_foreach(filter, i, v) {
		if ((uint64_t)json_integer_value(v) == id)
			return true;
	}
	return false;
}

static int audio_add(const struct store_audio *a, void *arg)
{
	struct audio_page *pg = arg;

	if (!has_string(pg->custom, a->custom_name) || !has_string(pg->file, a->file_name) ||
	    !has_id(pg->ids, a->file_id))
		return 0;
	if (pg->total++ < pg->skip || json_array_size(pg->list) >= pg->take)
		return 0;
	return json_array_append_new(pg->list, json_pack("{s:I, s:s, s:s, s:i}", "FileId",
							 (json_int_t)a->file_id, "CustomFileName",
							 a->custom_name, "AudioFileName",
							 a->file_name, "Status", a->status))
		? ENOMEM : 0;
}

/* An empty filter list is no filter, as an absent one. */
static const json_t *filter_of(const json_t *p, const char *name)
{
	const json_t *v = json_object_get(p, name);

	return json_array_size(v) ? v : NULL;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct audio_page pg = {
		.custom = filter_of(p, "CustomFileName"),
		.file = filter_of(p, "AudioFileName"),
		.ids = filter_of(p, "FileId"),
		.take = (uint64_t)json_integer_value(json_object_get(p, "PageSize")),
	};
	struct store_instance inst;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);

	if (rc != API_OK)
		return rc;
	pg.skip = (uint64_t)json_integer_value(json_object_get(p, "PageNumber")) * pg.take;
	pg.list = json_array();
	if (!pg.list || store_audio_list(ctx->st, sdkappid, audio_add, &pg))
		rc = api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The files could not be listed.");
	if (rc == API_OK && (json_object_set_new(out, "TotalCount",
						 json_integer((json_int_t)pg.total)) ||
			     json_object_set(out, "FileInfo", pg.list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(pg.list);
	return rc;
}

const struct api_action api_action_describe_ivr_audio_list = {
	"DescribeIvrAudioList", fields, API_RATE_DEFAULT, run,
	"list the uploaded prompt files",
};
