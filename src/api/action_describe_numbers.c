/* DescribeNumbers: the instance's numbers as TCCC answers them (ccc-actions §6, NumberInfo),
 * beside cccd's own CccdDescribeNumbers which also shows inbound bindings and classes.
 * Every number of the instance is listed, whatever its state, in number order; cccd has no
 * skill groups, so CallOutSkillGroupIds is always []. */
#include <errno.h>
#include "api/api_int.h"
#include "store/store.h"

enum { NUMBERS_PAGE_DEFAULT = 20, NUMBERS_PAGE_MAX = 1000 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"PageNumber", API_T_UINT64, false, false, 0, INT64_MAX / NUMBERS_PAGE_MAX, 0, NULL, NULL},
	{"PageSize", API_T_UINT64, false, false, 1, NUMBERS_PAGE_MAX, 0, NULL, NULL},
	{NULL},
};

/* The store lists all numbers; this keeps those of the asked page and counts the rest. */
struct numbers_page {
	uint64_t skip, take, total;
	json_t *list;
};

static int number_add(const struct store_number *n, void *arg)
{
	struct numbers_page *pg = arg;

	if (pg->total++ < pg->skip || json_array_size(pg->list) >= pg->take)
		return 0;
	return json_array_append_new(pg->list, json_pack("{s:s, s:[], s:i}", "Number", n->number,
							 "CallOutSkillGroupIds", "State",
							 n->state)) ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const json_t *size = json_object_get(p, "PageSize");
	struct numbers_page pg = {.take = size ? (uint64_t)json_integer_value(size)
					       : NUMBERS_PAGE_DEFAULT};
	struct store_instance inst;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);

	if (rc != API_OK)
		return rc;
	pg.skip = (uint64_t)json_integer_value(json_object_get(p, "PageNumber")) * pg.take;
	pg.list = json_array();
	if (!pg.list || store_numbers_list(ctx->st, sdkappid, number_add, &pg))
		rc = api_fail(e, API_INTERNAL_ERROR, "The numbers could not be listed.");
	if (rc == API_OK && (json_object_set_new(out, "TotalCount",
						 json_integer((json_int_t)pg.total)) ||
			     json_object_set(out, "Numbers", pg.list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(pg.list);
	return rc;
}

const struct api_action api_action_describe_numbers = {
	"DescribeNumbers", fields, API_RATE_DEFAULT, run,
	"list the instance's numbers (TCCC NumberInfo)",
};
