/* CccdCreateCredential, CccdDescribeCredentials, CccdDisableCredential: rotation and
 * revocation of API credentials (docs/security.md). An account makes a new credential for
 * itself, moves its programs to it, then disables the old one; a credential can never
 * disable the one signing the request (an account cannot lock itself out by mistake).
 * An operator may disable any account's credential (a leaked key is revoked without the
 * tenant). A disabled credential stays in the store, refused (AuthFailure.SecretIdNotFound,
 * as an unknown one); keys are shown once, when made, and never listed. */
#include <errno.h>
#include <string.h>
#include "api/api_int.h"
#include "base/base.h"
#include "store/store.h"
#include "tenant/tenant.h"

static const struct api_field no_fields[] = {
	{NULL},
};

static enum api_code create_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				struct api_error *e)
{
	char secret_id[64], secret_key[128];
	int err;

	(void)p;
	err = tenant_credential_create(ctx->t, ctx->account_id, secret_id, secret_key);
	if (err) {
		memset(secret_key, 0, sizeof(secret_key));
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The credential could not be "
				"stored.");
	}
	err = json_object_set_new(out, "SecretId", json_string(secret_id)) ||
	      json_object_set_new(out, "SecretKey", json_string(secret_key));
	memset(secret_key, 0, sizeof(secret_key));
	log_info("api", "account %llu: credential %s created (request %s)",
		 (unsigned long long)ctx->account_id, secret_id, ctx->request_id);
	return err ? api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
}

const struct api_action api_action_cccd_create_credential = {
	"CccdCreateCredential", no_fields, API_RATE_DEFAULT, create_run,
	"create an API credential for the caller's account",
};

static int credential_add(const char *secret_id, bool enabled, int64_t created_at, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:b, s:I}", "SecretId", secret_id,
						    "Enabled", enabled, "CreatedAt",
						    (json_int_t)created_at)) ? ENOMEM : 0;
}

static enum api_code describe_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				  struct api_error *e)
{
	json_t *list = json_array();
	enum api_code rc = API_OK;

	(void)p;
	if (!list || store_credentials_list(ctx->st, ctx->account_id, credential_add, list))
		rc = api_fail(e, API_INTERNAL_ERROR, "The credentials could not be listed.");
	if (rc == API_OK && (json_object_set_new(out, "TotalCount",
						 json_integer((json_int_t)json_array_size(list))) ||
			     json_object_set(out, "Credentials", list)))
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	json_decref(list);
	return rc;
}

const struct api_action api_action_cccd_describe_credentials = {
	"CccdDescribeCredentials", no_fields, API_RATE_DEFAULT, describe_run,
	"the caller's account's credentials",
};

static const struct api_field disable_fields[] = {
	{"CredentialId", API_T_STRING, false, true, 1, 63, 0, NULL, NULL},
	{NULL},
};

static enum api_code disable_run(const struct api_ctx *ctx, const json_t *p, json_t *out,
				 struct api_error *e)
{
	const char *id = json_string_value(json_object_get(p, "CredentialId"));
	struct api_error not_op;
	bool op = api_operator(ctx, &not_op) == API_OK;
	int err;

	(void)out;
	if (ctx->secret_id && !strcmp(id, ctx->secret_id))
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The credential signing this "
				"request cannot disable itself: sign with another credential of "
				"the account (CccdCreateCredential makes one).");
	err = tenant_credential_disable(ctx->t, id, op ? 0 : ctx->account_id);
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The CredentialId %s is not a "
				"credential of this account.", id);
	if (err)
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The credential could not be "
				"disabled.");
	log_info("api", "account %llu: credential %s disabled (request %s)",
		 (unsigned long long)ctx->account_id, id, ctx->request_id);
	return API_OK;
}

const struct api_action api_action_cccd_disable_credential = {
	"CccdDisableCredential", disable_fields, API_RATE_DEFAULT, disable_run,
	"disable one of the account's credentials",
};
