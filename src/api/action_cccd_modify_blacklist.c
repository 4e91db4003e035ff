/* CccdModifyBlacklist (cccd admin API): adds and removes blacklist entries of an instance.
 * Entries are checked and normalised here (as the rule set would), then the edit runs as
 * one read-modify-write inside the store's writer, so that concurrent edits never lose
 * each other; the next request is judged by the new list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"

enum { BLACKLIST_MAX = 200000, EDIT_MAX = 1000 };

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Add", API_T_STRING, true, false, 1, 64, EDIT_MAX, NULL, NULL},
	{"Remove", API_T_STRING, true, false, 1, 64, EDIT_MAX, NULL, NULL},
	{NULL},
};

/* One entry as the rule set stores it, through the rule parser itself. */
static enum api_code normalise(const char *list, size_t i, const char *entry, json_t *into,
			       struct api_error *e)
{
	struct policy_rules *r = NULL;
	json_t *doc = json_pack("{s:{s:[s]}}", "blacklist", "entries", entry), *back = NULL;
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL, *json = NULL, why[192] = "";
	int err = text ? policy_rules_parse(&r, text, strlen(text), why, sizeof(why)) : ENOMEM;
	enum api_code rc = API_OK;

	if (err == EINVAL) {
		const char *colon = strstr(why, ": ");

		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s.%zu`: %s", list, i,
			      colon ? colon + 2 : why);
		goto out;
	}
	if (!err)
		err = policy_rules_json(r, &json);
	back = json ? json_loads(json, 0, NULL) : NULL;
	if (err || !back || json_array_append(into, json_array_get(json_object_get(
			json_object_get(back, "blacklist"), "entries"), 0)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
out:
	json_decref(doc);
	json_decref(back);
	free(text);
	mem_deref(json);
	mem_deref(r);
	return rc;
}

struct edit {
	json_t *add, *remove;
};

static bool in(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) {
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* On the writer thread: JSON only, no I/O. "" (the defaults) is an empty object. */
static int edit_rules(const char *old, char **newp, void *arg)
{
	struct edit *ed = arg;
	json_t *doc = old[0] ? json_loads(old, 0, NULL) : json_object(), *bl, *entries, *kept;
	char *dump = NULL;
	size_t i;
	json_t *v;
	int err = ENOMEM;

	if (!json_is_object(doc))
		goto out;
	bl = json_object_get(doc, "blacklist");
	if (!bl) {
		bl = json_object();
		if (json_object_set_new(doc, "blacklist", bl))
			goto out;
	}
	entries = json_object_get(bl, "entries");
	kept = json_array();
	if (!kept)
		goto out;
	json_array_foreach(entries, i, v) {
		if (!in(ed->remove, json_string_value(v)) && !in(kept, json_string_value(v)))
			json_array_append(kept, v);
	}
	json_array_foreach(ed->add, i, v) {
		if (!in(kept, json_string_value(v)))
			json_array_append(kept, v);
	}
	if (json_object_set_new(bl, "entries", kept))
		goto out;
	if (json_array_size(kept) > BLACKLIST_MAX) {
		err = E2BIG;
		goto out;
	}
	dump = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	err = dump ? str_dup(newp, dump) : ENOMEM;
out:
	free(dump);
	json_decref(doc);
	return err;
}

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct edit ed = {json_array(), json_array()};
	const char *lists[2] = {"Add", "Remove"};
	json_t *targets[2] = {ed.add, ed.remove}, *v;
	struct store_instance inst;
	enum api_code rc = api_instance_admin(ctx, sdkappid, &inst, e);
	size_t i;
	int err;

	if (!rc && (!ed.add || !ed.remove))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (int l = 0; !rc && l < 2; l++) {
		json_array_foreach(json_object_get(p, lists[l]), i, v) {
			rc = normalise(lists[l], i, json_string_value(v), targets[l], e);
			if (rc)
				break;
		}
	}
	if (!rc) {
		err = store_instance_rules_edit(ctx->st, sdkappid, edit_rules, &ed);
		if (err == E2BIG)
			rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The blacklist would have more "
				      "than %d entries.", BLACKLIST_MAX);
		else if (err)
			rc = api_fail(e, API_INTERNAL_ERROR, "The blacklist could not be stored.");
	}
	if (!rc)
		rc = api_blacklist_out(ctx, sdkappid, out, e);
	json_decref(ed.add);
	json_decref(ed.remove);
	return rc;
}

const struct api_action api_action_cccd_modify_blacklist = {
	"CccdModifyBlacklist", fields, API_RATE_DEFAULT, run, false,
};
