/* CccdModifyInstance (cccd admin API, operators only): an instance's licence — edition,
 * package expiry, AI channels, name. Only the fields given change; the next request is
 * judged by them. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"
#include "store/store.h"

static enum api_code check_edition(const json_t *v, const char *path, struct api_error *e)
{
	const char *s = json_string_value(v);

	if (strcmp(s, "advanced") && strcmp(s, "standard"))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `%s` must be "
				"advanced or standard.", path);
	return API_OK;
}

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Edition", API_T_STRING, false, false, 1, 16, 0, NULL, check_edition},
	{"PackageExpiresAt", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"AIChannels", API_T_INT64, false, false, 0, 100000, 0, NULL, NULL},
	{"Name", API_T_STRING, false, false, 0, 63, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	const json_t *ed = json_object_get(p, "Edition"), *exp = json_object_get(p,
		"PackageExpiresAt"), *ai = json_object_get(p, "AIChannels");
	const json_t *name = json_object_get(p, "Name");
	struct store_licence l = {
		.sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId")),
		.set_edition = ed != NULL, .set_package_expires_at = exp != NULL,
		.set_ai_channels = ai != NULL,
		.edition = ed && !strcmp(json_string_value(ed), "advanced") ?
			   STORE_EDITION_ADVANCED : STORE_EDITION_STANDARD,
		.package_expires_at = json_integer_value(exp),
		.ai_channels = (uint32_t)json_integer_value(ai),
		.name = name ? json_string_value(name) : NULL,
	};
	int err = store_instance_licence(ctx->st, &l);

	(void)out;
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST, "The SdkAppId "
				"%llu does not exist.", (unsigned long long)l.sdkappid);
	return err ? api_fail(e, API_INTERNAL_ERROR, "The licence could not be stored.") : API_OK;
}

const struct api_action api_action_cccd_modify_instance = {
	"CccdModifyInstance", fields, API_RATE_DEFAULT, run, true,
};
