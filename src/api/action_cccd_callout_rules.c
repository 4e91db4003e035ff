/* CccdDescribeCalloutRules, CccdModifyCalloutRules, CccdDescribeBlacklist,
 * CccdModifyBlacklist: a tenant's calling rules over the API, in the JSON of
 * docs/callout-rules.md. CreateIVRSession reads the rules per request, so a change applies
 * to the next request without a restart. */
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

enum { MAX_RULES = 256 * 1024, MAX_ENTRIES = 1000 };

static const struct api_field id_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

/* The instance's rules, loaded (defaults when none were set). */
static enum api_code rules_load(const struct api_ctx *ctx, uint64_t sdkappid,
				struct policy_rules **rp, struct api_error *e)
{
	struct store_instance inst;
	char *text = NULL, why[192] = "";
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	if (store_instance_rules_get(ctx->st, sdkappid, &text))
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	err = text[0] ? policy_rules_parse(rp, text, strlen(text), why, sizeof(why))
		      : policy_rules_default(rp);
	mem_deref(text);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The stored calling rules do not load: %s",
				why);
	return API_OK;
}

/* out.Rules = the complete JSON text of r. */
static enum api_code rules_out(const struct policy_rules *r, json_t *out, struct api_error *e)
{
	char *json = NULL;
	enum api_code rc = API_OK;

	if (policy_rules_json(r, &json) || json_object_set_new(out, "Rules", json_string(json)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	mem_deref(json);
	return rc;
}

static enum api_code describe_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				  struct api_error *e)
{
	struct policy_rules *r = NULL;
	enum api_code rc;

	rc = rules_load(ctx, (uint64_t)json_integer_value(json_object_get(p, "SdkAppId")), &r, e);
	if (rc == API_OK)
		rc = rules_out(r, out, e);
	mem_deref(r);
	return rc;
}

const struct api_action api_action_cccd_describe_callout_rules = {
	"CccdDescribeCalloutRules", id_fields, API_RATE_DEFAULT, describe_run,
	"the instance's calling rules (docs/callout-rules.md)",
};

/* Checks `text` as a rule set and stores it; out.Rules gets the complete form. */
static enum api_code rules_store(const struct api_ctx *ctx, uint64_t sdkappid, const char *text,
				 const char *param, json_t *out, struct api_error *e)
{
	struct policy_rules *r = NULL;
	char why[192] = "", *json = NULL;
	enum api_code rc;
	int err;

	err = policy_rules_parse(&r, text, strlen(text), why, sizeof(why));
	if (err == EINVAL)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s`: %s", param, why);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The rules could not be checked.");
	/* Stored complete and normalised (numbers in the 00-form), so that blacklist edits
	 * compare entries as they are stored and a later change of a default does not
	 * change the tenant's rules. */
	err = policy_rules_json(r, &json);
	if (!err)
		err = store_instance_rules_put(ctx->st, sdkappid, json);
	rc = err ? api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The rules could not be stored: %s.",
			    strerror(err))
		 : rules_out(r, out, e);
	mem_deref(json);
	mem_deref(r);
	return rc;
}

static const struct api_field modify_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Rules", API_T_STRING, false, true, 2, MAX_RULES, 0, NULL, NULL},
	{NULL},
};

static enum api_code modify_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	enum api_code rc;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	return rules_store(ctx, sdkappid, json_string_value(json_object_get(p, "Rules")),
			   "Rules", out, e);
}

const struct api_action api_action_cccd_modify_callout_rules = {
	"CccdModifyCalloutRules", modify_fields, API_RATE_DEFAULT, modify_run,
	"replace the instance's calling rules",
};

/* ---- the instance blacklist (blacklist.entries of the rules) ----------------------- */

static enum api_code rules_tree(const struct api_ctx *ctx, uint64_t sdkappid, json_t **treep,
				struct api_error *e)
{
	struct policy_rules *r = NULL;
	char *json = NULL;
	enum api_code rc;

	rc = rules_load(ctx, sdkappid, &r, e);
	if (rc != API_OK)
		return rc;
	if (policy_rules_json(r, &json) ||
	    !(*treep = json_loads(json, JSON_DISABLE_EOF_CHECK, NULL)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	mem_deref(json);
	mem_deref(r);
	return rc;
}

static json_t *entries_of(json_t *tree)
{
	return json_object_get(json_object_get(tree, "blacklist"), "entries");
}

static enum api_code list_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			      struct api_error *e)
{
	json_t *tree = NULL;
	enum api_code rc;

	rc = rules_tree(ctx, (uint64_t)json_integer_value(json_object_get(p, "SdkAppId")), &tree,
			e);
	if (rc != API_OK)
		return rc;
	if (json_object_set(out, "Entries", entries_of(tree)) ||
	    json_object_set(out, "Enabled",
			    json_object_get(json_object_get(tree, "blacklist"), "enabled")))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(tree);
	return rc;
}

const struct api_action api_action_cccd_describe_blacklist = {
	"CccdDescribeBlacklist", id_fields, API_RATE_DEFAULT, list_run,
	"the instance's blacklist entries",
};

static const struct api_field bl_fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Add", API_T_STRING, true, false, 1, 40, MAX_ENTRIES, NULL, NULL},
	{"Remove", API_T_STRING, true, false, 1, 40, MAX_ENTRIES, NULL, NULL},
	{"Enabled", API_T_BOOL, false, false, 0, 0, 0, NULL, NULL},
	{NULL},
};

static bool entries_have(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* The entries as the rules store them ("+86170*" -> "0086170*"), so that Remove finds
 * what Add put in whatever form it was given; NULL on a malformed entry (e filled). */
static json_t *entries_normalised(const json_t *list, const char *param, struct api_error *e)
{
	struct policy_rules *r = NULL;
	json_t *doc, *tree = NULL, *out = NULL;
	char *text = NULL, *json = NULL, why[192] = "";

	doc = json_pack("{s:{s:O}}", "blacklist", "entries", (json_t *)list);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		return NULL;
	}
	if (policy_rules_parse(&r, text, strlen(text), why, sizeof(why)))
		api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s`: %s", param, why);
	else if (policy_rules_json(r, &json) || !(tree = json_loads(json, 0, NULL)))
		api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	else
		out = json_incref(entries_of(tree));
	json_decref(tree);
	mem_deref(json);
	mem_deref(r);
	free(text);
	return out;
}

enum { BLACKLIST_MAX = 200000 };

struct bl_edit {
	json_t *add, *gone;          /* normalised entries */
	const json_t *enabled;       /* NULL: unchanged */
};

/* The edit itself, on the store's writer thread inside the transaction that writes it
 * (JSON only): the stored entries minus `gone`, plus `add`, without duplicates. The
 * stored rules are complete and normalised (rules_store); "" is the defaults. */
static int bl_apply(const char *old, char **newp, void *arg)
{
	const struct bl_edit *ed = arg;
	json_t *tree = old[0] ? json_loads(old, 0, NULL) : json_object(), *bl, *kept = NULL, *v;
	char *dump = NULL;
	size_t i;
	int err = EPROTO;

	if (!json_is_object(tree))
		goto out;
	bl = json_object_get(tree, "blacklist");
	if (!bl) {
		bl = json_object();
		if (json_object_set_new(tree, "blacklist", bl))
			goto nomem;
	}
	if (!json_is_object(bl))
		goto out;
	kept = json_array();
	if (!kept)
		goto nomem;
	json_array_foreach(json_object_get(bl, "entries"), i, v) {
		if (json_is_string(v) && !entries_have(ed->gone, json_string_value(v)) &&
		    !entries_have(kept, json_string_value(v)))
			json_array_append(kept, v);
	}
	json_array_foreach(ed->add, i, v) {
		if (!entries_have(kept, json_string_value(v)))
			json_array_append(kept, v);
	}
	if (json_array_size(kept) > BLACKLIST_MAX) {
		err = E2BIG;
		goto out;
	}
	if (json_object_set(bl, "entries", kept) ||
	    (ed->enabled && json_object_set(bl, "enabled", (json_t *)ed->enabled)))
		goto nomem;
	dump = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (dump && !str_dup(newp, dump)) {
		err = 0;
		goto out;
	}
nomem:
	err = ENOMEM;
out:
	free(dump);
	json_decref(kept);
	json_decref(tree);
	return err;
}

/* Entries are checked and normalised here; the edit is one read-modify-write inside the
 * store's writer, so concurrent modifications of one blacklist never lose each other. */
static enum api_code modify_bl_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				   struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const json_t *add = json_object_get(p, "Add"), *rm = json_object_get(p, "Remove");
	struct bl_edit ed = {NULL, NULL, json_object_get(p, "Enabled")};
	struct store_instance inst;
	json_t *tree = NULL;
	enum api_code rc;
	int err;

	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	if (add && !(ed.add = entries_normalised(add, "Add", e)))
		return e->code;
	if (rm && !(ed.gone = entries_normalised(rm, "Remove", e))) {
		rc = e->code;
		goto out;
	}
	err = store_instance_rules_edit(ctx->st, sdkappid, bl_apply, &ed);
	if (err == E2BIG)
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The blacklist would have more than "
			      "%d entries.", BLACKLIST_MAX);
	else if (err)
		rc = api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The blacklist could not be stored: "
			      "%s.", strerror(err));
	if (!rc)
		rc = rules_tree(ctx, sdkappid, &tree, e);
	if (!rc && (json_object_set(out, "Entries", entries_of(tree)) ||
		    json_object_set(out, "Enabled", json_object_get(json_object_get(tree,
				    "blacklist"), "enabled"))))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
out:
	json_decref(tree);
	json_decref(ed.add);
	json_decref(ed.gone);
	return rc;
}

const struct api_action api_action_cccd_modify_blacklist = {
	"CccdModifyBlacklist", bl_fields, API_RATE_DEFAULT, modify_bl_run,
	"add or remove blacklist entries",
};
