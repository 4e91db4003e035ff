/* CccdCreateTenant: an operator creates a tenant — an account with a fresh credential and
 * one instance with its licences, caller numbers and calling rules — in one transaction,
 * as `ccc admin tenant-add` does (docs/admin-api.md). The SecretKey is in the reply once
 * and never again. IVR flows are then put by the tenant itself (CccdPutIVRFlow). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tenant/tenant.h"

enum { MAX_NUMBERS = 100, MAX_RULES = 256 * 1024 };

static const char *const editions[] = {"standard", "advanced", NULL};

static const struct api_field fields[] = {
	{"SdkAppId", API_T_UINT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"Name", API_T_STRING, false, false, 0, 63, 0, NULL, NULL},
	{"Edition", API_T_STRING, false, false, 1, 16, 0, NULL, NULL, editions},
	{"PackageExpiresAt", API_T_INT64, false, false, 0, INT64_MAX, 0, NULL, NULL},
	{"AIChannels", API_T_UINT64, false, false, 0, 100000, 0, NULL, NULL},
	{"Numbers", API_T_STRING, true, false, 1, 32, MAX_NUMBERS, NULL, NULL},
	{"Rules", API_T_STRING, false, false, 2, MAX_RULES, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	const char *edition = json_string_value(json_object_get(p, "Edition"));
	const char *rules = json_string_value(json_object_get(p, "Rules"));
	const json_t *numbers = json_object_get(p, "Numbers"), *v;
	const char *nums[MAX_NUMBERS];
	struct tenant_spec spec = {
		.sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId")),
		.account_name = json_string_value(json_object_get(p, "Name")),
		.edition = STORE_EDITION_ADVANCED,
		.package_expires_at = json_integer_value(json_object_get(p, "PackageExpiresAt")),
		.ai_channels = (uint32_t)json_integer_value(json_object_get(p, "AIChannels")),
		.numbers = nums,
		.rules = rules,
	};
	struct tenant_provisioned tp;
	struct policy_rules *r = NULL;
	char why[192] = "";
	enum api_code rc;
	size_t i;
	int err;

	rc = api_operator(ctx, e);
	if (rc != API_OK)
		return rc;
	if (edition && !strcmp(edition, "standard"))
		spec.edition = STORE_EDITION_STANDARD;
	err = rules ? policy_rules_parse(&r, rules, strlen(rules), why, sizeof(why))
		    : policy_rules_default(&r);
	if (err == EINVAL)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Rules`: %s", why);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The rules could not be checked.");
	{
		char (*buf)[33] = mem_zalloc(MAX_NUMBERS * 33, NULL);

		if (!buf) {
			mem_deref(r);
			return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		}
		json_array_foreach(numbers, i, v) {
			if (policy_number_normalise(json_string_value(v), policy_rules_default_cc(r),
						    buf[i], why, sizeof(why))) {
				mem_deref(buf);
				mem_deref(r);
				return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of "
						"`Numbers.%zu`: %s", i, why);
			}
			nums[i] = buf[i];
		}
		spec.n_numbers = json_array_size(numbers);
		mem_deref(r);
		err = tenant_provision(ctx->t, &spec, &tp);
		mem_deref(buf);
	}
	if (err == EEXIST)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `SdkAppId`: instance "
				"%llu exists already.", (unsigned long long)spec.sdkappid);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The tenant could not be created: "
				"%s.", strerror(err));
	rc = API_OK;
	if (json_object_set_new(out, "AccountId", json_integer((json_int_t)tp.account_id)) ||
	    json_object_set_new(out, "SdkAppId", json_integer((json_int_t)spec.sdkappid)) ||
	    json_object_set_new(out, "SecretId", json_string(tp.secret_id)) ||
	    json_object_set_new(out, "SecretKey", json_string(tp.secret_key)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	memset(&tp, 0, sizeof(tp));
	return rc;
}

const struct api_action api_action_cccd_create_tenant = {
	"CccdCreateTenant", fields, API_RATE_DEFAULT, run,
	"create a tenant: account, instance, credential (operator)",
};
