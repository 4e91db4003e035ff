/* StopAutoCalloutTask, PauseAutoCalloutTask, ResumeAutoCalloutTask: a user's change of a
 * task's state (ccc-actions §9; what each allows: store/task.h, docs/tasks.md). A task in
 * a state that does not allow the change is UnsupportedOperation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "api/api_int.h"
#include "base/base.h"
#include "store/store.h"
#include "store/task.h"

/* SdkAppId is UInt64 for Stop, Int64 for Pause and Resume (the SDK's types). */
static const struct api_field stop_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"TaskId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static const struct api_field pause_fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"TaskId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static const char *const op_names[] = {
	[STORE_TASK_PAUSE] = "paused",
	[STORE_TASK_RESUME] = "resumed",
	[STORE_TASK_STOP] = "stopped",
};

static enum api_code change(const struct api_ctx *ctx, const json_t *p, enum store_task_op op,
			    struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	uint64_t task_id = (uint64_t)json_integer_value(json_object_get(p, "TaskId"));
	struct store_instance inst;
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc)
		return rc;
	err = store_task_change(ctx->st, sdkappid, task_id, op, "", ctx->now_ms / 1000);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `TaskId`: task %llu "
				"does not exist in instance %llu.", (unsigned long long)task_id,
				(unsigned long long)sdkappid);
	if (err == EPERM)
		return api_fail(e, API_UNSUPPORTED_OPERATION, "Task %llu cannot be %s in its "
				"current state (see DescribeAutoCalloutTask's State).",
				(unsigned long long)task_id, op_names[op]);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The task could not be changed: "
				"%s.", strerror(err));
	log_info("tasks", "task %llu of instance %llu %s by request %s",
		 (unsigned long long)task_id, (unsigned long long)sdkappid, op_names[op],
		 ctx->request_id);
	return API_OK;
}

static enum api_code stop_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			      struct api_error *e)
{
	(void)out;
	return change(ctx, p, STORE_TASK_STOP, e);
}

static enum api_code pause_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			       struct api_error *e)
{
	(void)out;
	return change(ctx, p, STORE_TASK_PAUSE, e);
}

static enum api_code resume_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				struct api_error *e)
{
	(void)out;
	return change(ctx, p, STORE_TASK_RESUME, e);
}

const struct api_action api_action_stop_auto_callout_task = {
	"StopAutoCalloutTask", stop_fields, API_RATE_DEFAULT, stop_run,
	"end an auto-callout task (callees never called are not dialled)",
};

const struct api_action api_action_pause_auto_callout_task = {
	"PauseAutoCalloutTask", pause_fields, API_RATE_DEFAULT, pause_run,
	"pause an auto-callout task (calls in progress finish)",
};

const struct api_action api_action_resume_auto_callout_task = {
	"ResumeAutoCalloutTask", pause_fields, API_RATE_DEFAULT, resume_run,
	"resume a paused auto-callout task",
};
