/* CccdCreateConsoleUser, CccdDescribeConsoleUsers, CccdModifyConsoleUser,
 * CccdDeleteConsoleUser: the people who sign in to the web console of an instance
 * (docs/console.md). A password is hashed here,
 * on the API thread (Argon2id, console/password.c: bounded to two at once), never on the
 * control loop; a user without one signs in by one-time links only. Hashes never leave
 * the store. */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <re_types.h>
#include <re_fmt.h>
#include "api/api_int.h"
#include "base/base.h"
#include "console/console.h"
#include "store/store.h"

static const char *const roles[] = {"administrator", "supervisor", "viewer", NULL};

static enum api_code check_name(const json_t *v, const char *path, struct api_error *e)
{
	if (!console_user_name_ok(json_string_value(v)))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be 1 to "
				"64 of the characters A-Z a-z 0-9 . _ @ -.", path);
	return API_OK;
}

static const struct api_field create_fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"UserName", API_T_STRING, false, true, 1, 64, 0, NULL, check_name},
	{"Role", API_T_STRING, false, true, 1, 16, 0, NULL, NULL, roles},
	{"Password", API_T_STRING, false, false, CONSOLE_PASSWORD_MIN, CONSOLE_PASSWORD_MAX, 0,
	 NULL, NULL},
	{NULL},
};

static enum api_code create_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *pw = json_string_value(json_object_get(p, "Password"));
	struct store_console_user u = {.sdkappid = sdkappid, .created_at = ctx->now_ms / 1000};
	struct store_instance inst;
	enum api_code rc;
	int err;

	(void)out;
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	str_ncpy(u.name, json_string_value(json_object_get(p, "UserName")), sizeof(u.name));
	str_ncpy(u.role, json_string_value(json_object_get(p, "Role")), sizeof(u.role));
	if (pw && console_password_hash(pw, u.pw_hash, sizeof(u.pw_hash)))
		return api_fail(e, API_INTERNAL_ERROR, "The password could not be hashed.");
	err = store_console_user_add(ctx->st, &u);
	OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
	if (err == EEXIST)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `UserName`: "
				"instance %llu already has a console user %s.",
				(unsigned long long)sdkappid, u.name);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The user could not be stored.");
	log_info("api", "instance %llu: console user %s (%s) created (request %s)",
		 (unsigned long long)sdkappid, u.name, u.role, ctx->request_id);
	return API_OK;
}

const struct api_action api_action_cccd_create_console_user = {
	"CccdCreateConsoleUser", create_fields, API_RATE_DEFAULT, create_run,
	"create a web console user (administrator, supervisor or viewer)",
};

static const struct api_field instance_fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{NULL},
};

static int user_add(const struct store_console_user *u, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:b, s:I}", "UserName", u->name,
						    "Role", u->role, "HasPassword",
						    u->pw_hash[0] != '\0', "CreatedTimestamp",
						    (json_int_t)u->created_at)) ? ENOMEM : 0;
}

static enum api_code describe_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				  struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	struct store_instance inst;
	json_t *list;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);

	if (rc != API_OK)
		return rc;
	list = json_array();
	if (!list || store_console_users_list(ctx->st, sdkappid, user_add, list))
		rc = api_fail(e, API_INTERNAL_ERROR, "The users could not be listed.");
	if (rc == API_OK && (json_object_set_new(out, "TotalCount",
						 json_integer((json_int_t)json_array_size(list))) ||
			     json_object_set(out, "Users", list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(list);
	return rc;
}

const struct api_action api_action_cccd_describe_console_users = {
	"CccdDescribeConsoleUsers", instance_fields, API_RATE_DEFAULT, describe_run,
	"the instance's web console users and their roles",
};

static const struct api_field modify_fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"UserName", API_T_STRING, false, true, 1, 64, 0, NULL, check_name},
	{"Role", API_T_STRING, false, false, 1, 16, 0, NULL, NULL, roles},
	{"Password", API_T_STRING, false, false, CONSOLE_PASSWORD_MIN, CONSOLE_PASSWORD_MAX, 0,
	 NULL, NULL},
	{NULL},
};

/* A new role applies to the user's sessions at their next request (they are read joined
 * with the user); a new password ends them, as a reset after a leak must. */
static enum api_code modify_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *name = json_string_value(json_object_get(p, "UserName"));
	const char *role = json_string_value(json_object_get(p, "Role"));
	const char *pw = json_string_value(json_object_get(p, "Password"));
	char hash[sizeof(((struct store_console_user *)0)->pw_hash)];
	struct store_instance inst;
	enum api_code rc;
	int err;

	(void)out;
	if (!role && !pw)
		return api_fail(e, API_MISSING_PARAMETER, "Give `Role`, `Password` or both.");
	rc = api_instance(ctx, sdkappid, &inst, e);
	if (rc != API_OK)
		return rc;
	if (pw && console_password_hash(pw, hash, sizeof(hash)))
		return api_fail(e, API_INTERNAL_ERROR, "The password could not be hashed.");
	err = store_console_user_modify(ctx->st, sdkappid, name, role, pw ? hash : NULL);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `UserName`: "
				"instance %llu has no console user %s.",
				(unsigned long long)sdkappid, name);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The user could not be changed.");
	log_info("api", "instance %llu: console user %s changed:%s%s%s (request %s)",
		 (unsigned long long)sdkappid, name, role ? " role " : "", role ? role : "",
		 pw ? " password" : "", ctx->request_id);
	return API_OK;
}

const struct api_action api_action_cccd_modify_console_user = {
	"CccdModifyConsoleUser", modify_fields, API_RATE_DEFAULT, modify_run,
	"change a web console user's role or password (a new password signs it out)",
};

static const struct api_field delete_fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"UserName", API_T_STRING, false, true, 1, 64, 0, NULL, check_name},
	{NULL},
};

static enum api_code delete_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *name = json_string_value(json_object_get(p, "UserName"));
	struct store_instance inst;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);
	int err;

	(void)out;
	if (rc != API_OK)
		return rc;
	err = store_console_user_delete(ctx->st, sdkappid, name);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `UserName`: "
				"instance %llu has no console user %s.",
				(unsigned long long)sdkappid, name);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The user could not be deleted.");
	log_info("api", "instance %llu: console user %s deleted (request %s)",
		 (unsigned long long)sdkappid, name, ctx->request_id);
	return API_OK;
}

const struct api_action api_action_cccd_delete_console_user = {
	"CccdDeleteConsoleUser", delete_fields, API_RATE_DEFAULT, delete_run,
	"delete a web console user, signing out its sessions",
};
