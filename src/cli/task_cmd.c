/* ccc task: auto-callout tasks from the command line — create one from a CSV of callees,
 * show its progress, pause, resume or stop it. Each is one signed call of the task
 * actions (docs/tasks.md), made as `ccc ACTION` makes it.
 *
 * The CSV's header names the columns: `Callee` first, then an optional `UUI`, and every
 * other column a variable of that callee. A callee's UUI and variables become its
 * CalleeAttribute; an empty cell sets nothing (no variable of that name for that callee,
 * no UUI), and a callee with nothing set has no CalleeAttribute, so the call uses the
 * task's (none: ccc task create sets no task-wide variables). The whole file is checked
 * before anything is sent. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "cli/cli.h"
#include "csv/csv.h"

enum { CSV_MAX_BYTES = 64 * 1024 * 1024 };

static int task_usage(void)
{
	fprintf(stderr,
		"usage: ccc task create --sdkappid N --ivr ID --callers '[\"NUMBER\",...]' --csv FILE\n"
		"           [--name NAME] [--tries N] [--retry-interval S] [--time-zone ZONE]\n"
		"           [--available-time '[{\"StartTime\":\"09:00:00\",\"EndTime\":\"18:00:00\"}]']\n"
		"           [--not-before UNIX_S] [--not-after UNIX_S]\n"
		"       ccc task show --sdkappid N --task ID\n"
		"       ccc task pause|resume|stop --sdkappid N --task ID\n"
		"  All take --endpoint [https://]HOST:PORT (else CCC_ENDPOINT, else 127.0.0.1:8080);\n"
		"  credentials from TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY.\n"
		"  The CSV has a header row: Callee first, an optional UUI column, and every other\n"
		"  column a variable of that callee (RFC 4180 quoting). create starts the task at\n"
		"  --not-before (default: now) and prints its TaskId.\n"
		"  Exit status: 0 success, 1 an error response, 2 bad usage or a bad CSV.\n");
	return 2;
}

struct task_opts {
	const char *sdkappid, *ivr, *callers, *csv, *name, *tries, *retry_interval;
	const char *time_zone, *available_time, *not_before, *not_after, *task, *endpoint;
};

static int opts_parse(struct task_opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{"--sdkappid", offsetof(struct task_opts, sdkappid)},
		{"--ivr", offsetof(struct task_opts, ivr)},
		{"--callers", offsetof(struct task_opts, callers)},
		{"--csv", offsetof(struct task_opts, csv)},
		{"--name", offsetof(struct task_opts, name)},
		{"--tries", offsetof(struct task_opts, tries)},
		{"--retry-interval", offsetof(struct task_opts, retry_interval)},
		{"--time-zone", offsetof(struct task_opts, time_zone)},
		{"--available-time", offsetof(struct task_opts, available_time)},
		{"--not-before", offsetof(struct task_opts, not_before)},
		{"--not-after", offsetof(struct task_opts, not_after)},
		{"--task", offsetof(struct task_opts, task)},
		{"--endpoint", offsetof(struct task_opts, endpoint)},
	};

	for (int i = 2; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			if (!strcmp(argv[i], opts[k].name))
				break;
		}
		if (k == sizeof(opts) / sizeof(opts[0])) {
			fprintf(stderr, "ccc task %s: unexpected argument '%s'\n", argv[1], argv[i]);
			return EINVAL;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "ccc task %s: %s needs a value\n", argv[1], argv[i]);
			return EINVAL;
		}
		*(const char **)((char *)o + opts[k].off) = argv[++i];
	}
	return 0;
}

/* A whole number option into params as an integer; the option's name on refusal. */
static int int_param(json_t *params, const char *key, const char *opt, const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end) {
		fprintf(stderr, "ccc task: %s: '%s' is not a whole number\n", opt, v);
		return EINVAL;
	}
	return json_object_set_new(params, key, json_integer(n)) ? ENOMEM : 0;
}

static int json_param(json_t *params, const char *key, const char *opt, const char *v)
{
	json_error_t jerr;
	json_t *j = json_loads(v, JSON_DECODE_ANY, &jerr);

	if (!json_is_array(j)) {
		fprintf(stderr, "ccc task: %s: a JSON array is expected (%s)\n", opt,
			j ? "not an array" : jerr.text);
		json_decref(j);
		return EINVAL;
	}
	return json_object_set_new(params, key, j) ? ENOMEM : 0;
}

static int file_read(const char *path, char **textp, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if (!f)
		return errno;
	for (;;) {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > CSV_MAX_BYTES) {
				err = EFBIG;
				break;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (!n) {
			err = ferror(f) ? EIO : 0;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	*textp = buf;
	*lenp = len;
	return 0;
}

/* The CSV's rows into Callees and CalleeAttributes. */
static int callees_add(json_t *params, const struct csv *c, const char *path)
{
	json_t *callees = json_array(), *attrs = json_array();
	size_t uui = 0;
	int err = ENOMEM;

	if (!callees || !attrs)
		goto out;
	err = EINVAL;
	if (strcmp(csv_cell(c, 0, 0), "Callee")) {
		fprintf(stderr, "ccc task create: %s: line %zu: the first column must be "
			"Callee (it is '%s')\n", path, c->line[0], csv_cell(c, 0, 0));
		goto out;
	}
	for (size_t k = 1; k < c->cols; k++) {
		const char *name = csv_cell(c, 0, k);

		if (!*name) {
			fprintf(stderr, "ccc task create: %s: line %zu: column %zu has no name\n",
				path, c->line[0], k + 1);
			goto out;
		}
		for (size_t m = 0; m < k; m++) {
			if (!strcmp(name, csv_cell(c, 0, m))) {
				fprintf(stderr, "ccc task create: %s: line %zu: column '%s' twice\n",
					path, c->line[0], name);
				goto out;
			}
		}
		if (!strcmp(name, "UUI"))
			uui = k;
	}
	if (c->rows < 2) {
		fprintf(stderr, "ccc task create: %s: line %zu: no callee after the header\n",
			path, c->line[0] + 1);
		goto out;
	}
	err = ENOMEM;
	for (size_t r = 1; r < c->rows; r++) {
		json_t *vars, *attr;

		if (!*csv_cell(c, r, 0)) {
			fprintf(stderr, "ccc task create: %s: line %zu: no Callee\n", path,
				c->line[r]);
			err = EINVAL;
			goto out;
		}
		vars = json_array();
		attr = json_object();
		if (!vars || !attr || json_array_append_new(callees,
							   json_string(csv_cell(c, r, 0)))) {
			json_decref(vars);
			json_decref(attr);
			goto out;
		}
		for (size_t k = 1; k < c->cols; k++) {
			const char *v = csv_cell(c, r, k);

			if (k == uui || !*v)
				continue;
			json_array_append_new(vars, json_pack("{s:s, s:s}", "Key",
							      csv_cell(c, 0, k), "Value", v));
		}
		json_object_set_new(attr, "Callee", json_string(csv_cell(c, r, 0)));
		if (uui && *csv_cell(c, r, uui))
			json_object_set_new(attr, "UUI", json_string(csv_cell(c, r, uui)));
		if (json_array_size(vars))
			json_object_set(attr, "Variables", vars);
		json_decref(vars);
		if (json_object_size(attr) > 1)
			json_array_append(attrs, attr);
		json_decref(attr);
	}
	err = json_object_set(params, "Callees", callees);
	if (!err && json_array_size(attrs))
		err = json_object_set(params, "CalleeAttributes", attrs);
	err = err ? ENOMEM : 0;
out:
	json_decref(callees);
	json_decref(attrs);
	return err;
}

static int csv_load(json_t *params, const char *path)
{
	struct csv *c = NULL;
	char *text = NULL, why[256];
	size_t len = 0;
	int err;

	err = file_read(path, &text, &len);
	if (err) {
		fprintf(stderr, "ccc task create: --csv %s: %s\n", path,
			err == EFBIG ? "larger than 64 MB" : strerror(err));
		return err;
	}
	err = csv_parse(&c, text, len, why, sizeof(why));
	free(text);
	if (err) {
		fprintf(stderr, "ccc task create: %s: %s\n", path, why);
		return err;
	}
	err = callees_add(params, c, path);
	mem_deref(c);
	return err;
}

static int task_create(const struct task_opts *o, json_t *params)
{
	json_t *resp = NULL;
	int rc;

	if (!o->ivr || !o->callers || !o->csv) {
		fprintf(stderr, "ccc task create: --ivr, --callers and --csv are required\n");
		return 2;
	}
	if (o->task) {
		fprintf(stderr, "ccc task create: --task is not an option of create\n");
		return 2;
	}
	if (int_param(params, "IvrId", "--ivr", o->ivr) ||
	    json_param(params, "Callers", "--callers", o->callers) ||
	    (o->tries && int_param(params, "Tries", "--tries", o->tries)) ||
	    (o->retry_interval && int_param(params, "RetryInterval", "--retry-interval",
					    o->retry_interval)) ||
	    (o->available_time && json_param(params, "AvailableTime", "--available-time",
					     o->available_time)) ||
	    (o->not_after && int_param(params, "NotAfter", "--not-after", o->not_after)))
		return 2;
	if (o->not_before) {
		if (int_param(params, "NotBefore", "--not-before", o->not_before))
			return 2;
	}
	else if (json_object_set_new(params, "NotBefore", json_integer(clock_unix_s()))) {
		return 1;
	}
	if (o->name)
		json_object_set_new(params, "Name", json_string(o->name));
	if (o->time_zone)
		json_object_set_new(params, "TimeZone", json_string(o->time_zone));
	if (csv_load(params, o->csv))
		return 2;
	rc = cli_call_json("CreateAutoCalloutTask", o->endpoint, params, &resp);
	if (!rc)
		printf("%llu\n", (unsigned long long)json_integer_value(
					 json_object_get(resp, "TaskId")));
	json_decref(resp);
	return rc;
}

static const char *const task_states[] = {"created", "running", "completed", "ending",
					  "stopped", "paused"};
static const char *const callee_states[] = {"initial", "answered", "not answered",
					    "calling", "waiting to retry"};

/* The task's state and its callees counted by state. */
static int task_show(const struct task_opts *o, json_t *params)
{
	size_t counts[5] = {0}, other = 0, i;
	json_t *resp = NULL, *callee;
	json_int_t state;
	const char *reason, *name;
	int rc;

	rc = cli_call_json("DescribeAutoCalloutTask", o->endpoint, params, &resp);
	if (rc)
		return rc;
	state = json_integer_value(json_object_get(resp, "State"));
	json_array_foreach(json_object_get(resp, "Callees"), i, callee) {
		json_int_t s = json_integer_value(json_object_get(callee, "State"));

		if (s >= 0 && s < 5)
			counts[s]++;
		else
			other++;
	}
	name = json_string_value(json_object_get(resp, "Name"));
	printf("task %s", o->task);
	if (name && *name)
		printf(" \"%s\"", name);
	printf(": %s (%lld)\n", state >= 0 && state < 6 ? task_states[state] : "unknown",
	       (long long)state);
	reason = json_string_value(json_object_get(resp, "CccdPauseReason"));
	if (reason && *reason)
		printf("paused because: %s\n", reason);
	printf("callees: %zu\n", json_array_size(json_object_get(resp, "Callees")));
	for (i = 0; i < 5; i++)
		printf("  %-17s %zu\n", callee_states[i], counts[i]);
	if (other)
		printf("  %-17s %zu\n", "other", other);
	json_decref(resp);
	return 0;
}

int cli_task(int argc, char **argv)
{
	static const struct {
		const char *cmd, *action, *done;
	} changes[] = {
		{"pause", "PauseAutoCalloutTask", "paused"},
		{"resume", "ResumeAutoCalloutTask", "resumed"},
		{"stop", "StopAutoCalloutTask", "stopped"},
	};
	struct task_opts o = {0};
	json_t *params, *resp = NULL;
	int rc = 2;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return task_usage();
	if (strcmp(argv[1], "create") && strcmp(argv[1], "show") && strcmp(argv[1], "pause") &&
	    strcmp(argv[1], "resume") && strcmp(argv[1], "stop")) {
		fprintf(stderr, "ccc task: unknown command '%s'\n", argv[1]);
		return task_usage();
	}
	if (opts_parse(&o, argc, argv))
		return task_usage();
	if (!o.sdkappid) {
		fprintf(stderr, "ccc task %s: --sdkappid is required\n", argv[1]);
		return 2;
	}
	params = json_object();
	if (!params)
		return 1;
	if (int_param(params, "SdkAppId", "--sdkappid", o.sdkappid))
		goto out;
	if (!strcmp(argv[1], "create")) {
		rc = task_create(&o, params);
		goto out;
	}
	if (!o.task) {
		fprintf(stderr, "ccc task %s: --task is required\n", argv[1]);
		goto out;
	}
	if (int_param(params, "TaskId", "--task", o.task))
		goto out;
	if (!strcmp(argv[1], "show")) {
		rc = task_show(&o, params);
		goto out;
	}
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		if (strcmp(argv[1], changes[i].cmd))
			continue;
		rc = cli_call_json(changes[i].action, o.endpoint, params, &resp);
		if (!rc)
			printf("task %s %s\n", o.task, changes[i].done);
	}
out:
	json_decref(resp);
	json_decref(params);
	return rc;
}
