/* CccdCreateTenant (cccd admin API, operators only): a new tenant — account, credential,
 * one instance with its licence and caller numbers; the credential's SecretKey is in the
 * reply once and never again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tenant/tenant.h"

enum { TENANT_NUMBERS_MAX = 64 };

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
	{"AccountName", API_T_STRING, false, false, 0, 63, 0, NULL, NULL},
	{"Edition", API_T_STRING, false, false, 1, 16, 0, NULL, check_edition},
	{"PackageExpiresAt", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"AIChannels", API_T_INT64, false, false, 0, 100000, 0, NULL, NULL},
	{"Numbers", API_T_STRING, true, false, 1, 32, TENANT_NUMBERS_MAX, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	const json_t *ed = json_object_get(p, "Edition"), *nums = json_object_get(p, "Numbers");
	const json_t *name = json_object_get(p, "AccountName"), *v;
	char norm[TENANT_NUMBERS_MAX][33], why[128];
	const char *numbers[TENANT_NUMBERS_MAX];
	struct tenant_spec spec = {
		.account_name = name ? json_string_value(name) : "",
		.sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId")),
		.edition = !ed || !strcmp(json_string_value(ed), "advanced") ?
			   STORE_EDITION_ADVANCED : STORE_EDITION_STANDARD,
		.package_expires_at = json_integer_value(json_object_get(p, "PackageExpiresAt")),
		.ai_channels = (uint32_t)json_integer_value(json_object_get(p, "AIChannels")),
		.numbers = numbers,
	};
	struct tenant_provisioned tp;
	enum api_code rc;
	size_t i;
	int err;

	json_array_foreach(nums, i, v) {
		if (policy_number_normalise(json_string_value(v), NULL, norm[i], why, sizeof(why)))
			return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Numbers.%zu`: "
					"%s", i, why);
		numbers[spec.n_numbers++] = norm[i];
	}
	err = tenant_provision(ctx->t, &spec, &tp);
	if (err == EEXIST)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `SdkAppId`: "
				"instance %llu exists already.", (unsigned long long)spec.sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The tenant could not be created.");
	rc = json_object_set_new(out, "AccountId", json_integer((json_int_t)tp.account_id)) ||
	     json_object_set_new(out, "SdkAppId", json_integer((json_int_t)spec.sdkappid)) ||
	     json_object_set_new(out, "SecretId", json_string(tp.secret_id)) ||
	     json_object_set_new(out, "SecretKey", json_string(tp.secret_key)) ?
	     api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
	OPENSSL_cleanse(&tp, sizeof(tp));
	return rc;
}

const struct api_action api_action_cccd_create_tenant = {
	"CccdCreateTenant", fields, API_RATE_DEFAULT, run, true,
};
