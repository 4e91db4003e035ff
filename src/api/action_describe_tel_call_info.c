/* DescribeTelCallInfo: talk minutes per direction summed over the listed instances
 * (ccc-actions §9). The range is whole days (UTC): the day of StartTimeStamp to the day
 * of EndTimeStamp, both included, at most 90 days apart. cccd has no agents, VoIP or
 * speech-to-text, so those counters are always 0. */
#include <errno.h>
#include "api/api_int.h"
#include "store/store.h"

enum {
	DAY_S = 86400,
	CALLINFO_DAYS_MAX = 90,
	CALLINFO_INSTANCES_MAX = 100,
};

static const struct api_field fields[] = {
	{"StartTimeStamp", API_T_INT64, false, true, 0, INT64_MAX / 2, 0, NULL, NULL},
	{"EndTimeStamp", API_T_INT64, false, true, 0, INT64_MAX / 2, 0, NULL, NULL},
	{"SdkAppIdList", API_T_INT64, true, true, 1, INT64_MAX, CALLINFO_INSTANCES_MAX, NULL,
	 NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	int64_t start = json_integer_value(json_object_get(p, "StartTimeStamp"));
	int64_t end = json_integer_value(json_object_get(p, "EndTimeStamp"));
	const json_t *list = json_object_get(p, "SdkAppIdList");
	int64_t since = start - start % DAY_S, until = end - end % DAY_S + DAY_S - 1;
	struct store_usage total = {0, 0};
	struct store_instance inst;
	enum api_code rc;
	size_t i, j;
	json_t *v;

	if (!json_array_size(list))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "`SdkAppIdList` must name at "
				"least one instance.");
	if (end < start)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "`EndTimeStamp` (%lld) is before "
				"`StartTimeStamp` (%lld).", (long long)end, (long long)start);
	if ((until + 1 - since) / DAY_S > CALLINFO_DAYS_MAX)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The days from `StartTimeStamp` "
				"to `EndTimeStamp` must be at most %d.", CALLINFO_DAYS_MAX);
	json_array_foreach(list, i, v) {
		uint64_t sdkappid = (uint64_t)json_integer_value(v);
		struct store_usage u = {0, 0};

		/* Summing an instance twice would double its minutes. */
		for (j = 0; j < i; j++) {
			if (json_integer_value(json_array_get(list, j)) == json_integer_value(v))
				return api_fail(e, API_INVALID_PARAMETER_VALUE, "`SdkAppIdList.%zu` "
						"repeats instance %llu.", i,
						(unsigned long long)sdkappid);
		}
		rc = api_instance(ctx, sdkappid, &inst, e);
		if (rc != API_OK)
			return rc;
		if (store_usage_minutes(ctx->st, sdkappid, since / DAY_S, until / DAY_S, &u))
			return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The records could not be "
					"read.");
		total.in_minutes += u.in_minutes;
		total.out_minutes += u.out_minutes;
	}
	if (json_object_set_new(out, "TelCallOutCount", json_integer(total.out_minutes)) ||
	    json_object_set_new(out, "TelCallInCount", json_integer(total.in_minutes)) ||
	    json_object_set_new(out, "SeatUsedCount", json_integer(0)) ||
	    json_object_set_new(out, "VoipCallInCount", json_integer(0)) ||
	    json_object_set_new(out, "VOIPCallInCount", json_integer(0)) ||
	    json_object_set_new(out, "AsrOfflineCount", json_integer(0)) ||
	    json_object_set_new(out, "AsrRealtimeCount", json_integer(0)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_describe_tel_call_info = {
	"DescribeTelCallInfo", fields, API_RATE_DEFAULT, run,
	"talk minutes per direction, per day, from the records",
};
