/* DescribeAutoCalloutTask and DescribeAutoCalloutTasks: a task with each callee's state
 * and attempts, and the instance's tasks a page at a time (ccc-actions §9, §10). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "store/store.h"
#include "store/task.h"

enum { PAGE_MAX = 100 };

static const struct api_field one_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"TaskId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static const struct api_field list_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"PageSize", API_T_UINT64, false, true, 1, PAGE_MAX, 0, NULL, NULL},
	{"PageNumber", API_T_UINT64, false, true, 0, INT64_MAX / PAGE_MAX, 0, NULL, NULL},
	{NULL},
};

/* Stored as a JSON array by CreateAutoCalloutTask; [] if it ever does not parse. */
static json_t *callers_json(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (json_is_array(v))
		return v;
	json_decref(v);
	return json_array();
}

/* NotAfter is nullable: null when the task has none. */
static json_t *not_after_json(const struct store_task *t)
{
	return t->not_after ? json_integer(t->not_after) : json_null();
}

/* Sessions: "a,b" → ["a","b"]; "" → []. */
static json_t *sessions_json(const char *text)
{
	json_t *arr = json_array();

	while (arr && *text) {
		const char *end = strchr(text, ',');
		size_t len = end ? (size_t)(end - text) : strlen(text);

		if (json_array_append_new(arr, json_stringn(text, len))) {
			json_decref(arr);
			return NULL;
		}
		text += len + (end ? 1 : 0);
	}
	return arr;
}

static int callee_add(const struct store_callee_row *r, void *arg)
{
	json_t *list = arg;
	json_t *sessions = sessions_json(r->sessions);

	if (!sessions)
		return ENOMEM;
	return json_array_append_new(list, json_pack("{s:s, s:I, s:o}", "Callee", r->callee,
						     "State", (json_int_t)r->state, "Sessions",
						     sessions)) ? ENOMEM : 0;
}

static enum api_code one_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			     struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t task_id = (uint64_t)json_integer_value(json_object_get(p, "TaskId"));
	struct store_instance inst;
	struct store_task *t = NULL;
	json_t *callees = NULL;
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc)
		return rc;
	err = store_task_get(ctx->st, sdkappid, task_id, &t);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `TaskId`: task %llu "
				"does not exist in instance %llu.", (unsigned long long)task_id,
				(unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The database is unavailable.");
	callees = json_array();
	err = callees ? store_task_callees(ctx->st, task_id, callee_add, callees) : ENOMEM;
	if (err) {
		rc = api_fail(e, err == ENOMEM ? API_INTERNAL_ERROR : API_INTERNAL_ERROR_DB_ERROR,
			      "The task's callees cannot be read.");
		json_decref(callees);
		goto out;
	}
	if (json_object_update_new(out, json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:I, s:I, s:I, "
					      "s:s}", "Name", t->name, "Description",
					      t->description, "NotBefore",
					      (json_int_t)t->not_before, "NotAfter",
					      not_after_json(t), "Callers",
					      callers_json(t->callers), "Callees", callees,
					      "IvrId", (json_int_t)t->ivr_id, "State",
					      (json_int_t)t->state, "MaxRingTimeoutSecond",
					      (json_int_t)t->max_ring_s, "CccdPauseReason",
					      t->reason)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
out:
	mem_deref(t);
	return rc;
}

static int task_add(const struct store_task *t, void *arg)
{
	json_t *list = arg;

	return json_array_append_new(list, json_pack("{s:s, s:I, s:o, s:I, s:o, s:I, s:I, "
						     "s:I, s:I, s:s}", "Name", t->name,
						     "CalleeCount", (json_int_t)t->callee_count,
						     "Callers", callers_json(t->callers),
						     "NotBefore", (json_int_t)t->not_before,
						     "NotAfter", not_after_json(t),
						     "IvrId", (json_int_t)t->ivr_id,
						     "State", (json_int_t)t->state,
						     "TaskId", (json_int_t)t->task_id,
						     "MaxRingTimeoutSecond",
						     (json_int_t)t->max_ring_s,
						     "CccdPauseReason", t->reason)) ? ENOMEM : 0;
}

static enum api_code list_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			      struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(p, "PageSize"));
	uint64_t page = (uint64_t)json_integer_value(json_object_get(p, "PageNumber"));
	struct store_instance inst;
	json_t *tasks = json_array();
	uint64_t total = 0;
	enum api_code rc;
	int err;

	if (!tasks)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc) {
		json_decref(tasks);
		return rc;
	}
	err = store_tasks_list(ctx->st, sdkappid, page * size, size, task_add, tasks, &total);
	if (err) {
		json_decref(tasks);
		return api_fail(e, err == ENOMEM ? API_INTERNAL_ERROR :
				API_INTERNAL_ERROR_DB_ERROR, "The tasks cannot be read.");
	}
	if (json_object_set_new(out, "TotalCount", json_integer((json_int_t)total)) ||
	    json_object_set_new(out, "Tasks", tasks))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_describe_auto_callout_task = {
	"DescribeAutoCalloutTask", one_fields, API_RATE_DEFAULT, one_run,
	"one auto-callout task with its callees and their sessions",
};

const struct api_action api_action_describe_auto_callout_tasks = {
	"DescribeAutoCalloutTasks", list_fields, API_RATE_DEFAULT, list_run,
	"the instance's auto-callout tasks, paged",
};
