/* CreateAutoCalloutTask: a list of IVR calls placed by cccd's scheduler (ccc-actions §9,
 * docs/tasks.md). Every parameter is checked before anything is stored, and the task and
 * all its callees are stored in one transaction: a refused request leaves nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "policy/policy.h"
#include "store/store.h"
#include "store/task.h"
#include "tz/tz.h"

/* Limits written in docs/tasks.md. */
enum {
	MAX_CALLEES = 100000,
	MAX_CALLERS = 16,          /* = STORE_ADMIT_MAX_CALLERS */
	MAX_NAME = 256,
	MAX_DESCRIPTION = 1024,
	MAX_UUI = 1024,
	MAX_WINDOWS = 24,
	MAX_RING_S = 120,
	MAX_CONCURRENCY = 10000,
};

/* "HH:MM:SS", 24 h, into seconds of the day; -1 when it does not parse. */
static int clock_parse(const char *s)
{
	int v[3];

	if (strlen(s) != 8 || s[2] != ':' || s[5] != ':')
		return -1;
	for (int i = 0; i < 3; i++) {
		const char *d = s + 3 * i;

		if (d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9')
			return -1;
		v[i] = (d[0] - '0') * 10 + (d[1] - '0');
	}
	if (v[0] > 23 || v[1] > 59 || v[2] > 59)
		return -1;
	return v[0] * 3600 + v[1] * 60 + v[2];
}

static enum api_code check_clock(const json_t *v, const char *path, struct api_error *e)
{
	if (clock_parse(json_string_value(v)) < 0)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be a time "
				"of day HH:MM:SS (24 h, 00:00:00 to 23:59:59).", path);
	return API_OK;
}

/* A window whose end is before its start runs over midnight; an empty one is refused. */
static enum api_code check_windows(const json_t *v, const char *path, struct api_error *e)
{
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *w = json_array_get(v, i);
		const json_t *a = json_object_get(w, "StartTime"), *b = json_object_get(w, "EndTime");

		if (!a || !b)
			return api_fail(e, API_MISSING_PARAMETER, "The request is missing a required "
					"parameter `%s.%zu.%s`.", path, i, a ? "EndTime" : "StartTime");
		if (clock_parse(json_string_value(a)) == clock_parse(json_string_value(b)))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The window `%s.%zu` is "
					"empty: its StartTime and EndTime are equal.", path, i);
	}
	return API_OK;
}

static enum api_code check_zone(const json_t *v, const char *path, struct api_error *e)
{
	struct tz *tz = NULL;
	int err = tz_load(&tz, json_string_value(v));

	mem_deref(tz);
	if (err)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` is not an IANA "
				"time zone this server knows (e.g. Asia/Shanghai).", path);
	return API_OK;
}

/* Callees and Callers: at least one number, each a phone number. */
static enum api_code check_list(const json_t *v, const char *path, struct api_error *e)
{
	if (!json_array_size(v))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The list `%s` must not be empty.",
				path);
	return api_check_numbers(v, path, e);
}

/* RetryHangupTypes: the EndStatus codes TCCC lists as retryable. */
static bool retryable_code(long code)
{
	return (code >= 202 && code <= 208) || code == 210 || code == 212 || code == 213 ||
	       (code >= 215 && code <= 219) || code == 221 || code == 222 || code == 234;
}

static enum api_code check_hangup_types(const json_t *v, const char *path,
					struct api_error *e)
{
	for (size_t i = 0; i < json_array_size(v); i++) {
		const char *s = json_string_value(json_array_get(v, i));
		char *end;
		long code = strtol(s, &end, 10);

		if (!*s || *end || !retryable_code(code))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s.%zu` must "
					"be a retryable EndStatus: 202-208, 210, 212, 213, 215-219, "
					"221, 222 or 234.", path, i);
	}
	return API_OK;
}

static const struct api_field range_fields[] = {
	{"StartTime", API_T_STRING, false, true, 1, 8, 0, NULL, check_clock},
	{"EndTime", API_T_STRING, false, true, 1, 8, 0, NULL, check_clock},
	{NULL},
};

static const struct api_field attribute_fields[] = {
	{"Callee", API_T_STRING, false, true, 1, 32, 0, NULL, api_check_number},
	{"UUI", API_T_STRING, false, false, 0, MAX_UUI, 0, NULL, NULL},
	{"Variables", API_T_STRUCT, true, false, 0, 0, API_MAX_VARIABLES, api_variable_fields,
	 api_check_variables},
	{NULL},
};

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"NotBefore", API_T_INT64, false, true, 0, INT64_MAX / 2, 0, NULL, NULL},
	{"Callees", API_T_STRING, true, true, 1, 32, MAX_CALLEES, NULL, check_list},
	{"Callers", API_T_STRING, true, true, 1, 32, MAX_CALLERS, NULL, check_list},
	{"IvrId", API_T_UINT64, false, false, 1, INT64_MAX, 0, NULL, NULL},
	{"Name", API_T_STRING, false, false, 0, MAX_NAME, 0, NULL, NULL},
	{"Description", API_T_STRING, false, false, 0, MAX_DESCRIPTION, 0, NULL, NULL},
	{"NotAfter", API_T_INT64, false, false, 1, INT64_MAX / 2, 0, NULL, NULL},
	{"Tries", API_T_UINT64, false, false, 1, 3, 0, NULL, NULL},
	{"Variables", API_T_STRUCT, true, false, 0, 0, API_MAX_VARIABLES, api_variable_fields,
	 api_check_variables},
	{"UUI", API_T_STRING, false, false, 0, MAX_UUI, 0, NULL, NULL},
	{"CalleeAttributes", API_T_STRUCT, true, false, 0, 0, MAX_CALLEES, attribute_fields,
	 NULL},
	{"TimeZone", API_T_STRING, false, false, 1, 64, 0, NULL, check_zone},
	{"AvailableTime", API_T_STRUCT, true, false, 0, 0, MAX_WINDOWS, range_fields,
	 check_windows},
	{"AIAgentId", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"RetryInterval", API_T_INT64, false, false, 600, 86400, 0, NULL, NULL},
	{"MaxRingTimeoutSecond", API_T_INT64, false, false, 1, MAX_RING_S, 0, NULL, NULL},
	/* Newer TCCC fields: the first two are honoured, the others accepted and ignored. */
	{"RetryHangupTypes", API_T_STRING, true, false, 1, 3, 32, NULL, check_hangup_types},
	{"ConcurrencyLimit", API_T_INT64, false, false, 1, MAX_CONCURRENCY, 0, NULL, NULL},
	{"RetryTags", API_T_ANY, false, false, 0, 0, 0, NULL, NULL},
	{"AvailableWorkTimeConfig", API_T_ANY, false, false, 0, 0, 0, NULL, NULL},
	{"TriggerStrategy", API_T_ANY, false, false, 0, 0, 0, NULL, NULL},
	{NULL},
};

/* What is built from the request before the store is asked. */
struct build {
	struct store_task *t;
	struct store_task_callee *callees;
	char (*numbers)[33];       /* the callees normalised, in request order */
	char **sorted;             /* the same, sorted (pointers into numbers) */
	char **attr_vars;          /* per callee: its own Variables as JSON text, or NULL */
	size_t n;
};

static void build_free(struct build *b)
{
	for (size_t i = 0; b->attr_vars && i < b->n; i++)
		free(b->attr_vars[i]);
	free(b->attr_vars);
	free(b->sorted);
	free(b->numbers);
	free(b->callees);
	mem_deref(b->t);
}

static int text_set(char **dst, const char *src)
{
	char *s = NULL;

	if (str_dup(&s, src))
		return ENOMEM;
	mem_deref(*dst);
	*dst = s;
	return 0;
}

/* The instance's country code, for numbers written without one. */
static enum api_code country(const struct api_ctx *ctx, uint64_t sdkappid, char cc[8],
			     struct api_error *e)
{
	struct policy_rules *rules = NULL;
	char *text = NULL, why[192] = "";
	int err = store_instance_rules_get(ctx->st, sdkappid, &text);

	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	err = text[0] ? policy_rules_parse(&rules, text, strlen(text), why, sizeof(why))
		      : policy_rules_default(&rules);
	mem_deref(text);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The calling rules of instance %llu do not "
				"load: %s", (unsigned long long)sdkappid, why);
	snprintf(cc, 8, "%s", policy_rules_default_cc(rules));
	mem_deref(rules);
	return API_OK;
}

static enum api_code normalise(const json_t *v, const char *cc, const char *path, size_t i,
			       char out[33], struct api_error *e)
{
	char why[160];

	if (policy_number_normalise(json_string_value(v), cc, out, why, sizeof(why)))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s.%zu`: %s",
				path, i, why);
	return API_OK;
}

static enum api_code callers_set(const json_t *callers, const char *cc, struct store_task *t,
				 struct api_error *e)
{
	json_t *arr = json_array();
	char num[33];
	enum api_code rc = API_OK;
	char *text;

	if (!arr)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (size_t i = 0; i < json_array_size(callers) && !rc; i++) {
		rc = normalise(json_array_get(callers, i), cc, "Callers", i, num, e);
		if (!rc && json_array_append_new(arr, json_string(num)))
			rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	}
	text = rc ? NULL : json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (rc)
		return rc;
	if (!text || text_set(&t->callers, text))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	free(text);
	return rc;
}

static int number_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Callees normalised into b, each once (a number twice is refused: its Sessions and state
 * would be ambiguous). b->sorted is left sorted for attributes_apply's lookups. */
static enum api_code callees_set(const json_t *callees, const char *cc, struct build *b,
				 struct api_error *e)
{
	enum api_code rc;

	b->n = json_array_size(callees);
	b->callees = calloc(b->n, sizeof(*b->callees));
	b->numbers = calloc(b->n, sizeof(*b->numbers));
	b->sorted = calloc(b->n, sizeof(*b->sorted));
	if (!b->callees || !b->numbers || !b->sorted)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (size_t i = 0; i < b->n; i++) {
		rc = normalise(json_array_get(callees, i), cc, "Callees", i, b->numbers[i], e);
		if (rc)
			return rc;
		b->callees[i].callee = b->numbers[i];
		b->sorted[i] = b->numbers[i];
	}
	qsort(b->sorted, b->n, sizeof(*b->sorted), number_cmp);
	for (size_t i = 1; i < b->n; i++) {
		if (!strcmp(b->sorted[i - 1], b->sorted[i]))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The list `Callees` has the "
					"number %s twice.", b->sorted[i]);
	}
	return API_OK;
}

/* Each CalleeAttributes entry names one of Callees, at most once; its UUI and Variables
 * replace the task's for that callee. */
static enum api_code attributes_apply(const json_t *attrs, const char *cc, struct build *b,
				      struct api_error *e)
{
	size_t n_attrs = json_array_size(attrs);
	enum api_code rc = API_OK;
	bool *seen;

	if (!n_attrs)
		return API_OK;
	seen = calloc(b->n, sizeof(*seen));
	b->attr_vars = calloc(b->n, sizeof(*b->attr_vars));
	if (!seen || !b->attr_vars) {
		free(seen);
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	}
	for (size_t i = 0; i < n_attrs && !rc; i++) {
		const json_t *a = json_array_get(attrs, i);
		const json_t *uui = json_object_get(a, "UUI"), *vars = json_object_get(a, "Variables");
		char num[33], *key = num, **hit;
		size_t j;

		rc = normalise(json_object_get(a, "Callee"), cc, "CalleeAttributes", i, num, e);
		if (rc)
			break;
		hit = bsearch(&key, b->sorted, b->n, sizeof(*b->sorted), number_cmp);
		if (!hit) {
			rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of "
				 "`CalleeAttributes.%zu.Callee` (%s) is not one of `Callees`.", i,
				 num);
			break;
		}
		j = (size_t)(*hit - b->numbers[0]) / sizeof(b->numbers[0]);
		if (seen[j]) {
			rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The callee %s has two entries in "
				 "`CalleeAttributes` (the second is %zu).", num, i);
			break;
		}
		seen[j] = true;
		if (uui)
			b->callees[j].uui = json_string_value(uui);
		if (vars) {
			b->attr_vars[j] = json_dumps(vars, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (!b->attr_vars[j]) {
				rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
				break;
			}
			b->callees[j].variables = b->attr_vars[j];
		}
	}
	free(seen);
	return rc;
}

/* AvailableTime as stored: "start-end,..." in seconds of the day. */
static int windows_text(const json_t *wins, char **textp)
{
	char buf[MAX_WINDOWS * 16] = "";
	size_t len = 0;

	for (size_t i = 0; i < json_array_size(wins); i++) {
		const json_t *w = json_array_get(wins, i);

		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d-%d", i ? "," : "",
					clock_parse(json_string_value(json_object_get(w, "StartTime"))),
					clock_parse(json_string_value(json_object_get(w, "EndTime"))));
	}
	return str_dup(textp, buf);
}

static int codes_text(const json_t *codes, char **textp)
{
	char buf[32 * 4] = "";
	size_t len = 0;

	for (size_t i = 0; i < json_array_size(codes); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
					json_string_value(json_array_get(codes, i)));
	return str_dup(textp, buf);
}

static int64_t int_or(const json_t *p, const char *name, int64_t dflt)
{
	const json_t *v = json_object_get(p, name);

	return v ? json_integer_value(v) : dflt;
}

static const char *str_or(const json_t *p, const char *name)
{
	const json_t *v = json_object_get(p, name);

	return v ? json_string_value(v) : "";
}

/* The task's own fields, all but its callers and callees. */
static int task_fill(struct store_task *t, const json_t *p)
{
	const json_t *vars = json_object_get(p, "Variables");
	char *vtext = vars ? json_dumps(vars, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *w = NULL, *codes = NULL;
	int err;

	if (vars && !vtext)
		return ENOMEM;
	t->not_before = json_integer_value(json_object_get(p, "NotBefore"));
	t->not_after = int_or(p, "NotAfter", 0);
	t->tries = (uint32_t)int_or(p, "Tries", 1);
	t->retry_interval = (uint32_t)int_or(p, "RetryInterval", 600);
	t->max_ring_s = (uint32_t)int_or(p, "MaxRingTimeoutSecond", 0);
	t->concurrency = (uint32_t)int_or(p, "ConcurrencyLimit", 0);
	err = text_set(&t->name, str_or(p, "Name"));
	err |= text_set(&t->description, str_or(p, "Description"));
	err |= text_set(&t->uui, str_or(p, "UUI"));
	err |= text_set(&t->time_zone, str_or(p, "TimeZone"));
	if (vtext)
		err |= text_set(&t->variables, vtext);
	err |= windows_text(json_object_get(p, "AvailableTime"), &w);
	err |= codes_text(json_object_get(p, "RetryHangupTypes"), &codes);
	if (!err) {
		mem_deref(t->windows);
		t->windows = w;
		mem_deref(t->retry_statuses);
		t->retry_statuses = codes;
	}
	else {
		mem_deref(w);
		mem_deref(codes);
	}
	free(vtext);
	return err ? ENOMEM : 0;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const json_t *ivr_v = json_object_get(p, "IvrId");
	int64_t not_before = json_integer_value(json_object_get(p, "NotBefore"));
	struct build b = {0};
	struct store_instance inst;
	struct store_ivr ivr;
	uint64_t ivr_id, task_id = 0;
	char cc[8];
	enum api_code rc;
	int err;

	if (!ivr_v)
		return api_fail(e, json_object_get(p, "AIAgentId") ? API_INVALID_PARAMETER_VALUE :
				API_MISSING_PARAMETER, "The request is missing a required parameter "
				"`IvrId`%s.", json_object_get(p, "AIAgentId") ? ": cccd has no AI "
				"agents, so `AIAgentId` cannot replace it" : "");
	if (json_object_get(p, "NotAfter") &&
	    json_integer_value(json_object_get(p, "NotAfter")) <= not_before)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `NotAfter` must be "
				"later than `NotBefore`.");
	ivr_id = (uint64_t)json_integer_value(ivr_v);

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc)
		return rc;
	if (inst.edition != STORE_EDITION_ADVANCED)
		return api_fail(e, API_FAILED_OPERATION_PERMISSION_DENIED, "CreateAutoCalloutTask "
				"needs the Advanced edition; instance %llu is not.",
				(unsigned long long)sdkappid);
	err = store_ivr_get(ctx->st, sdkappid, ivr_id, &ivr);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `IvrId`: IVR %llu "
				"does not exist in instance %llu.", (unsigned long long)ivr_id,
				(unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	if (ivr.type != STORE_IVR_AUTO_OUTBOUND)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `IvrId`: IVR %llu is "
				"not an automatic outbound IVR; a task runs only those.",
				(unsigned long long)ivr_id);
	rc = country(ctx, sdkappid, cc, e);
	if (rc)
		return rc;

	if (store_task_alloc(&b.t)) {
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		goto out;
	}
	b.t->sdkappid = sdkappid;
	b.t->account_id = ctx->account_id;
	b.t->ivr_id = ivr_id;
	b.t->created_at = ctx->now_ms / 1000;
	if (task_fill(b.t, p)) {
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		goto out;
	}
	/* Test-only ([tasks] test_retry_interval): the API's limits stay as specified. */
	if (ctx->conf && ctx->conf->task_test_retry_s)
		b.t->retry_interval = ctx->conf->task_test_retry_s;
	rc = callers_set(json_object_get(p, "Callers"), cc, b.t, e);
	if (!rc)
		rc = callees_set(json_object_get(p, "Callees"), cc, &b, e);
	if (!rc)
		rc = attributes_apply(json_object_get(p, "CalleeAttributes"), cc, &b, e);
	if (rc)
		goto out;

	err = store_task_create(ctx->st, b.t, b.callees, b.n, &task_id);
	if (err) {
		rc = api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The task could not be stored: %s.",
			      strerror(err));
		goto out;
	}
	log_info("tasks", "task %llu of instance %llu created: %zu callees, IVR %llu",
		 (unsigned long long)task_id, (unsigned long long)sdkappid, b.n,
		 (unsigned long long)ivr_id);
	if (json_object_set_new(out, "TaskId", json_integer((json_int_t)task_id)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
out:
	build_free(&b);
	return rc;
}

const struct api_action api_action_create_auto_callout_task = {
	"CreateAutoCalloutTask", fields, API_RATE_DEFAULT, run,
	"create an auto-callout task: a list of callees called by an IVR",
};
