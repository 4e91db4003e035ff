/* DescribeCallInMetrics: the instance's inbound calls right now (ccc-actions §9), counted
 * from the sessions table — so with several nodes on one PostgreSQL the figures are the
 * whole instance's, not one node's. cccd has no agents or queues: a live inbound call is
 * either in its IVR (IvrCount) or put through to an external line (TransferOuterCount);
 * queue, ring and accept figures are 0, and there are no skill groups. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"
#include "store/store.h"

enum { METRICS_GROUPS_MAX = 100 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"EnabledSkillGroup", API_T_BOOL, false, false, 0, 0, 0, NULL, NULL},
	{"EnabledNumber", API_T_BOOL, false, false, 0, 0, 0, NULL, NULL},
	{"GroupIdList", API_T_INT64, true, false, 0, INT64_MAX, METRICS_GROUPS_MAX, NULL, NULL},
	{NULL},
};

struct counts {
	int64_t ivr, transferred;
};

static json_t *metrics_json(const struct counts *c)
{
	return json_pack("{s:I, s:i, s:i, s:i, s:I, s:i, s:i, s:i, s:i, s:i, s:i}",
			 "IvrCount", (json_int_t)c->ivr, "QueueCount", 0, "RingCount", 0,
			 "AcceptCount", 0, "TransferOuterCount", (json_int_t)c->transferred,
			 "MaxQueueDuration", 0, "AvgQueueDuration", 0, "MaxRingDuration", 0,
			 "AvgRingDuration", 0, "MaxAcceptDuration", 0, "AvgAcceptDuration", 0);
}

/* Rows come in number order, a number's two rows together: one entry per number. */
struct walk {
	struct counts total, number;
	char last[33];
	json_t *numbers;      /* NULL: not asked for */
};

static int number_flush(struct walk *w)
{
	int err;

	if (!w->numbers || !w->last[0])
		return 0;
	err = json_array_append_new(w->numbers, json_pack("{s:s, s:o, s:[]}", "Number", w->last,
							  "Metrics", metrics_json(&w->number),
							  "SkillGroupMetrics")) ? ENOMEM : 0;
	memset(&w->number, 0, sizeof(w->number));
	return err;
}

static int live_add(const struct store_inbound_live *l, void *arg)
{
	struct walk *w = arg;
	int64_t *slot;
	int err = 0;

	if (strcmp(l->number, w->last)) {
		err = number_flush(w);
		memcpy(w->last, l->number, sizeof(w->last));
	}
	slot = l->transferred ? &w->number.transferred : &w->number.ivr;
	*slot += l->count;
	if (l->transferred)
		w->total.transferred += l->count;
	else
		w->total.ivr += l->count;
	return err;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct walk w;
	struct store_instance inst;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);
	int err;

	if (rc != API_OK)
		return rc;
	memset(&w, 0, sizeof(w));
	w.numbers = json_array();
	if (!w.numbers)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	err = store_inbound_live(ctx->st, sdkappid, live_add, &w);
	if (!err)
		err = number_flush(&w);
	if (err) {
		json_decref(w.numbers);
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The sessions could not be "
				"read.");
	}
	/* EnabledNumber defaults to false: the per-number list only when asked. */
	if (!json_is_true(json_object_get(p, "EnabledNumber")))
		json_array_clear(w.numbers);
	if (json_object_set_new(out, "Timestamp", json_integer(ctx->now_ms / 1000)) ||
	    json_object_set_new(out, "TotalMetrics", metrics_json(&w.total)) ||
	    json_object_set_new(out, "NumberMetrics", w.numbers) ||
	    json_object_set_new(out, "SkillGroupMetrics", json_array()))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_describe_call_in_metrics = {
	"DescribeCallInMetrics", fields, API_RATE_DEFAULT, run,
	"live inbound calls per instance and per number",
};
