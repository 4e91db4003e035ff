/* CccdCreateConsoleLoginURL: a one-time sign-in link to the web console for one of the
 * instance's console users, as TCCC's CreateSDKLoginToken / CreateAdminURL give one to an
 * API client (docs/console.md). The token is random, stored as its SHA-256, signs in once,
 * and expires after ExpiresIn seconds (300 by default, 3600 at most). It travels in the
 * URL's fragment, which browsers do not send to servers nor put in Referer headers: the
 * page reads it and posts it to /console/api/link. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api_int.h"
#include "base/base.h"
#include "console/console.h"
#include "store/store.h"

static const struct api_field fields[] = {
	{"SdkAppId", API_T_INT64, false, true, 1, INT64_MAX, 0, NULL, NULL},
	{"UserName", API_T_STRING, false, true, 1, 64, 0, NULL, NULL},
	{"ExpiresIn", API_T_INT64, false, false, 30, 3600, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	uint64_t sdkappid = (uint64_t)json_integer_value(json_object_get(p, "SdkAppId"));
	const char *name = json_string_value(json_object_get(p, "UserName"));
	const json_t *ttl = json_object_get(p, "ExpiresIn");
	int64_t expires = ctx->now_ms / 1000 + (ttl ? json_integer_value(ttl) : 300);
	char token[CONSOLE_TOKEN_LEN + 1], hash[CONSOLE_TOKEN_LEN + 1], url[512];
	struct store_console_user u;
	struct store_instance inst;
	enum api_code rc = api_instance(ctx, sdkappid, &inst, e);
	int err;

	if (rc != API_OK)
		return rc;
	err = store_console_user_get(ctx->st, sdkappid, name, &u);
	OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
	if (err == ENOENT)
		return api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `UserName`: "
				"instance %llu has no console user %s.",
				(unsigned long long)sdkappid, name);
	if (err || console_token_new(token))
		return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
	console_token_hash(token, hash);
	if (store_console_link_add(ctx->st, hash, sdkappid, name, expires)) {
		OPENSSL_cleanse(token, sizeof(token));
		return api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The link could not be stored.");
	}
	snprintf(url, sizeof(url), "%s://%s/console/#login=%s", http_tls_on(&ctx->conf->tls) ?
		 "https" : "http", ctx->host && *ctx->host ? ctx->host : "localhost", token);
	OPENSSL_cleanse(token, sizeof(token));
	err = json_object_set_new(out, "URL", json_string(url)) ||
	      json_object_set_new(out, "ExpiresTimestamp", json_integer((json_int_t)expires));
	OPENSSL_cleanse(url, sizeof(url));
	return err ? api_fail(e, API_INTERNAL_ERROR, "Out of memory.") : API_OK;
}

const struct api_action api_action_cccd_create_console_login_url = {
	"CccdCreateConsoleLoginURL", fields, 10, run,
	"a one-time web console sign-in link for a console user",
};
