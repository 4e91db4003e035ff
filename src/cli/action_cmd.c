/* ccc ACTION --Param value ...: an API call in the form of `tccli ccc ACTION` — each
 * parameter an option named as in the API, arrays and objects as JSON, all of them from
 * a file with --cli-input-json. Values are typed by the action's parameter table (the one
 * the API validates with, api_param_json), so `--SdkAppId 1400000001` goes out as an
 * integer and `--Callee 0086...` as a string. The request itself is `ccc call --json`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "api/api.h"
#include "cli/cli.h"

/* tccli writes file://PATH; a plain path is taken too. */
static json_t *input_json(const char *arg)
{
	json_error_t jerr;
	json_t *j;

	if (!strncmp(arg, "file://", 7))
		arg += 7;
	j = json_load_file(arg, 0, &jerr);
	if (!j)
		fprintf(stderr, "ccc: --cli-input-json %s: %s (line %d)\n", arg, jerr.text,
			jerr.line);
	else if (!json_is_object(j)) {
		fprintf(stderr, "ccc: --cli-input-json %s: not a JSON object\n", arg);
		json_decref(j);
		j = NULL;
	}
	return j;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help");
}

/* Options of tccli that name no parameter: --endpoint is used, --region is accepted
 * and unused (an instance is named by SdkAppId), --output only as json. */
static int common_opt(const char *a, const char *v, const char **endpoint)
{
	if (!strcmp(a, "--endpoint"))
		*endpoint = v;
	else if (!strcmp(a, "--region"))
		return 0;
	else if (!strcmp(a, "--output") && strcmp(v, "json")) {
		fprintf(stderr, "ccc: --output %s: only json is supported\n", v);
		return EINVAL;
	}
	else if (strcmp(a, "--output"))
		return ENOENT;
	return 0;
}

int cli_action(int argc, char **argv)
{
	const char *action = argv[0], *endpoint = NULL;
	json_t *params = json_object(), *file = NULL;
	char *text = NULL, why[256];
	int rc = 2, err;

	if (!params)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		json_t *val = NULL;

		if (is_help(a)) {
			api_help_action(stdout, action);
			rc = 0;
			goto out;
		}
		if (strncmp(a, "--", 2) || !a[2]) {
			fprintf(stderr, "ccc %s: unexpected argument '%s' (parameters are "
				"--Name VALUE; see ccc help %s)\n", action, a, action);
			goto out;
		}
		if (!v) {
			fprintf(stderr, "ccc %s: %s needs a value\n", action, a);
			goto out;
		}
		i++;
		if (!strcmp(a, "--cli-input-json")) {
			json_decref(file);
			file = input_json(v);
			if (!file)
				goto out;
			continue;
		}
		err = common_opt(a, v, &endpoint);
		if (err == EINVAL)
			goto out;
		if (!err)
			continue;
		err = api_param_json(action, a + 2, v, &val, why, sizeof(why));
		if (err) {
			fprintf(stderr, "ccc %s: %s\n", action, why);
			goto out;
		}
		json_object_set_new(params, a + 2, val);
	}
	/* Options given on the command line override the file's. */
	if (file && json_object_update_missing(params, file))
		goto out;
	text = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		rc = 1;
		goto out;
	}
	{
		char *call_argv[] = {"call", (char *)action, "--json", text, "--endpoint",
				     (char *)endpoint, NULL};

		rc = cli_call(endpoint ? 6 : 4, call_argv);
	}
out:
	free(text);
	json_decref(file);
	json_decref(params);
	return rc;
}
