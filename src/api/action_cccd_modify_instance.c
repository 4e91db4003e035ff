/* CccdModifyInstance: an operator sets an instance's licences — edition, package expiry,
 * AI channels — and how long its sessions and recordings are kept (docs/admin-api.md). Any instance, whoever owns it; a tenant credential gets
 * UnauthorizedOperation. CreateIVRSession reads the instance per request, so a change
 * applies to the next request. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"
#include "store/store.h"

static const char *const editions[] = {"standard", "advanced", NULL};

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Edition", API_T_STRING, false, false, 1, 16, 0, NULL, NULL, editions},
	{"PackageExpiresAt", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"AIChannels", API_T_UINT64, false, false, 0, 100000, 0, NULL, NULL},
	{"RetentionDays", API_T_INT64, false, false, -1, 36500, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *edition = json_string_value(json_object_get(p, "Edition"));
	const json_t *expires = json_object_get(p, "PackageExpiresAt");
	const json_t *ai = json_object_get(p, "AIChannels");
	const json_t *days = json_object_get(p, "RetentionDays");
	struct store_licence l = {.sdkappid = sdkappid, .set_package_expires_at = expires != NULL,
				  .set_ai_channels = ai != NULL,
				  .package_expires_at = json_integer_value(expires),
				  .ai_channels = (uint32_t)json_integer_value(ai),
				  .set_retention_days = days != NULL,
				  .retention_days = (int32_t)json_integer_value(days)};
	struct store_instance inst;
	enum api_code rc;
	int err;

	rc = api_operator(ctx, e);
	if (rc != API_OK)
		return rc;
	l.edition = edition && !strcmp(edition, "standard") ? STORE_EDITION_STANDARD :
		    STORE_EDITION_ADVANCED;
	l.set_edition = edition != NULL;
	/* Only the fields given, in one write: another operator's concurrent change of
	 * another field is kept. */
	err = store_instance_licence(ctx->st, &l);
	if (!err)
		err = store_instance_get(ctx->st, sdkappid, &inst);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST, "The SdkAppId "
				"%llu does not exist.", (unsigned long long)sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The instance could not be stored: "
				"%s.", strerror(err));
	if (json_object_set_new(out, "SdkAppId", json_integer((json_int_t)inst.sdkappid)) ||
	    json_object_set_new(out, "Edition", json_string(inst.edition == STORE_EDITION_ADVANCED
							     ? "advanced" : "standard")) ||
	    json_object_set_new(out, "PackageExpiresAt",
				json_integer((json_int_t)inst.package_expires_at)) ||
	    json_object_set_new(out, "AIChannels", json_integer(inst.ai_channels)) ||
	    json_object_set_new(out, "RetentionDays", json_integer(inst.retention_days)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_modify_instance = {
	"CccdModifyInstance", fields, API_RATE_DEFAULT, run,
	"set an instance's edition, package and licences (operator)",
};
