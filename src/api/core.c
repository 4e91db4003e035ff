/* core: one request through every check of spec §4, in order, to its reply envelope. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "metrics/metrics.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tenant/tenant.h"

#define API_VERSION "2020-02-10"

static void core_destructor(void *arg)
{
	struct api_core *c = arg;

	mem_deref(c->rl);
	mem_deref(c->replay);
	mem_deref(c->signin_users);
	mem_deref(c->signin_addrs);
	mem_deref(c->rules);
}

int api_core_alloc(struct api_core **cp, const struct api_conf *ac, struct store *st,
		   struct tenant *t, const struct api_hooks *hooks)
{
	struct api_core *c = mem_zalloc(sizeof(*c), core_destructor);
	int err;

	if (!c)
		return ENOMEM;
	c->conf = *ac;
	c->st = st;
	c->t = t;
	if (hooks)
		c->hooks = *hooks;
	api_actions_metrics_labels();
	err = api_ratelimit_alloc(&c->rl);
	if (!err)
		err = api_console_limits_alloc(c);
	if (!err)
		err = policy_cache_alloc(&c->rules, c->hooks.policy);
	if (!err && ac->replay_cache)
		err = api_replay_alloc(&c->replay, ac->replay_cache);
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

/* Step 4: the key behind the SecretId. */
static enum api_code credential(struct api_core *c, const struct api_request *r,
				struct tenant_credential *cred, struct api_error *e)
{
	int err;

	if (strncmp(r->secret_id, "AKID", 4))
		return api_fail(e, API_AUTH_INVALID_SECRET_ID, "The SecretId is not an API key "
				"(API keys start with AKID).");
	err = tenant_credential(c->t, r->secret_id, cred);
	if (err == ENOENT || err == EACCES || err == EINVAL)
		return api_fail(e, API_AUTH_SECRET_ID_NOT_FOUND, "The SecretId is not found or "
				"is disabled.");
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The credential store is unavailable.");
	/* cccd issues no temporary credentials, so every token is unknown. */
	if (r->token)
		return api_fail(e, API_AUTH_TOKEN_FAILURE, "Temporary credentials (Token) are not "
				"supported by this server; use a permanent key.");
	return API_OK;
}

static enum api_code replay(struct api_core *c, const struct api_request *r, int64_t now_s,
			    struct api_error *e)
{
	int err;

	if (r->scheme != API_SCHEME_V1 || !c->replay)
		return API_OK;
	err = api_replay_check(c->replay, r->secret_id, r->timestamp, r->nonce, r->signature,
			       now_s);
	if (err == EALREADY)
		return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "This request was already "
				"received (same Nonce, Timestamp and Signature): replays are "
				"refused.");
	if (err == ENOSPC)
		return api_fail(e, API_REQUEST_LIMIT_EXCEEDED, "Too many v1 requests in the last "
				"five minutes to protect against replays; retry later or sign with "
				"TC3-HMAC-SHA256.");
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

static unsigned action_limit(const struct api_core *c, const struct api_action *act)
{
	return c->conf.rate_limit && act->rate ? act->rate : c->conf.rate_limit;
}

/* What this node's own limiter allows of an account's requests per second. Several nodes
 * behind one balancer share an action's limit: each allows its share, rounded up (so the
 * cluster as a whole allows at most nodes - 1 more than the limit in a second, when the
 * balancer spreads an account's requests evenly; a balancer that sends all of them to one
 * node gets the share only). CreateIVRSession keeps the whole limit here: its count in
 * the admission transaction is exact across nodes (store/session.c), and a share would
 * refuse what that count allows. */
static unsigned node_limit(const struct api_core *c, const struct api_action *act,
			   unsigned limit)
{
	unsigned live = c->hooks.nodes_live ? c->hooks.nodes_live(c->hooks.arg) : 1;

	if (act == &api_action_create_ivr_session || live <= 1 || !limit)
		return limit;
	return (limit + live - 1) / live;
}

bool api_instance_rate_take(const struct api_ctx *ctx, uint64_t sdkappid,
			    const char *action, unsigned limit)
{
	char key[80];

	if (!ctx->core || !ctx->core->conf.rate_limit || !limit)
		return true;
	/* Its own key space: an instance id beside an account id would otherwise share the
	 * action's ring with an account of the same number. */
	snprintf(key, sizeof(key), "%s/instance", action);
	return api_ratelimit_take(ctx->core->rl, sdkappid, key, limit, ctx->mono_us);
}

bool api_upload_begin(const struct api_ctx *ctx)
{
	unsigned cap = ctx->conf->threads / 2, n;

	if (!ctx->core)
		return true;
	if (!cap)
		cap = 1;
	n = atomic_load(&ctx->core->uploads);
	do {
		if (n >= cap)
			return false;
	} while (!atomic_compare_exchange_weak(&ctx->core->uploads, &n, n + 1));
	return true;
}

void api_upload_end(const struct api_ctx *ctx)
{
	if (ctx->core)
		atomic_fetch_sub(&ctx->core->uploads, 1);
}

static enum api_code action_run(struct api_core *c, const struct api_request *r,
				const struct api_action *act, uint64_t account_id,
				const char *request_id, int64_t now_ms, uint64_t mono_us,
				json_t *out, struct api_error *e)
{
	const char *host = api_http_header(r->http, "Host");
	struct api_ctx ctx = {c->st, c->t, &c->hooks, account_id, request_id, now_ms,
			      r->secret_id, action_limit(c, act),
			      &c->conf, c, mono_us, host ? host : "", NULL};
	json_t *params = NULL, *valid = NULL;
	enum api_code rc;

	rc = api_request_params(r, &params, e);
	if (!rc)
		rc = api_validate(act->fields, params, &valid, e);
	if (!rc)
		rc = act->run(&ctx, valid, out, e);
	json_decref(params);
	json_decref(valid);
	return rc;
}

char *api_core_handle(struct api_core *c, const struct api_http *h, int64_t now_ms,
		      uint64_t mono_us)
{
	struct api_error e = {0};
	struct api_request *r = NULL;
	struct tenant_credential cred = {0};
	const struct api_action *act = NULL;
	char request_id[37], *body;
	json_t *out = json_object();
	enum api_code rc;
	bool snapshot;

	if (ids_uuid(request_id))
		strcpy(request_id, "00000000-0000-4000-8000-000000000000");
	log_context_request(request_id, NULL); /* every line of this request names it */
	/* One read transaction for all of the request's reads (credential, instance, rows):
	 * without it, each read is its own. A snapshot that cannot start only costs that. */
	snapshot = !store_snapshot_begin(c->st);
	rc = out ? api_request_parse(h, &r, &e) : api_fail(&e, API_INTERNAL_ERROR,
							       "Out of memory.");
	if (!rc)
		rc = api_request_check_time(r, now_ms / 1000, &e);
	if (!rc)
		rc = credential(c, r, &cred, &e);
	if (!rc)
		rc = api_request_verify(r, cred.secret_key, &e);
	OPENSSL_cleanse(cred.secret_key, sizeof(cred.secret_key));
	if (!rc)
		rc = replay(c, r, now_ms / 1000, &e);
	if (!rc && strcmp(r->version, API_VERSION))
		rc = api_fail(&e, API_NO_SUCH_VERSION, "The API version `%.32s` does not exist; "
			      "ccc has " API_VERSION ".", r->version);
	if (!rc && !(act = api_action_find(r->action)))
		rc = api_fail(&e, API_INVALID_ACTION, "The action `%.64s` does not exist.",
			      r->action);
	if (!rc) {
		unsigned limit = action_limit(c, act), share = node_limit(c, act, limit);

		if (!api_ratelimit_take(c->rl, cred.account_id, act->name, share, mono_us)) {
			metrics_api_rate_limited(api_action_index(act));
			if (share == limit)
				rc = api_fail(&e, API_REQUEST_LIMIT_EXCEEDED, "%s is limited to %u "
					      "requests per second per account.", act->name,
					      limit);
			else
				rc = api_fail(&e, API_REQUEST_LIMIT_EXCEEDED, "%s is limited to %u "
					      "requests per second per account (%u on each of "
					      "the nodes serving it).", act->name, limit, share);
		}
	}
	if (!rc)
		rc = action_run(c, r, act, cred.account_id, request_id, now_ms, mono_us, out, &e);

	if (rc == API_INTERNAL_ERROR || rc == API_INTERNAL_ERROR_DB_ERROR)
		log_warn("api", "%s %s: %s", act ? act->name : "-", request_id, e.msg);
	else
		log_debug("api", "%s %s: %s", act ? act->name : "-", request_id,
			  rc ? api_code_name(rc) : "ok");
	if (rc) {
		json_decref(out);
		body = api_reply_error(&e, request_id);
	}
	else {
		body = api_reply_ok(out, request_id);
	}
	if (snapshot)
		store_snapshot_end(c->st);
	/* An action named but not found (or never read: a request that did not parse) is
	 * counted as "unknown": the label set stays the table's, whatever clients send. */
	if (!act && r && r->action)
		act = api_action_find(r->action);
	metrics_api_request(act ? api_action_index(act) : metrics_api_unknown_action(),
			    (unsigned)rc, clock_mono_us() - mono_us);
	log_context_request(NULL, NULL);
	mem_deref(r);
	return body;
}

/* The web console's way in (console.c): the session stands in for the signature, so steps
 * 1-5 are the console's own; the rate limit, validation, the action, its envelope and its
 * metrics are every client's. */
char *api_core_run_as(struct api_core *c, const struct api_action *act, uint64_t account_id,
		      const char *user, const json_t *params, const char *host, int64_t now_ms,
		      uint64_t mono_us, enum api_code *rcp)
{
	struct api_error e = {0};
	char request_id[37], *body;
	json_t *out = json_object(), *valid = NULL;
	struct api_ctx ctx = {c->st, c->t, &c->hooks, account_id, request_id, now_ms, NULL,
			      action_limit(c, act), &c->conf, c, mono_us, host ? host : "", user};
	enum api_code rc;
	bool snapshot;

	if (ids_uuid(request_id))
		strcpy(request_id, "00000000-0000-4000-8000-000000000000");
	log_context_request(request_id, NULL);
	snapshot = !store_snapshot_begin(c->st);
	rc = out ? API_OK : api_fail(&e, API_INTERNAL_ERROR, "Out of memory.");
	if (!rc && !api_ratelimit_take(c->rl, account_id, act->name,
				       node_limit(c, act, ctx.rate_limit), mono_us)) {
		metrics_api_rate_limited(api_action_index(act));
		rc = api_fail(&e, API_REQUEST_LIMIT_EXCEEDED, "%s is limited to %u requests per "
			      "second per account.", act->name, ctx.rate_limit);
	}
	if (!rc)
		rc = api_validate(act->fields, params, &valid, &e);
	if (!rc)
		rc = act->run(&ctx, valid, out, &e);
	json_decref(valid);
	log_debug("api", "%s %s (console user %s): %s", act->name, request_id, user,
		  rc ? api_code_name(rc) : "ok");
	if (rc) {
		json_decref(out);
		body = api_reply_error(&e, request_id);
	}
	else {
		body = api_reply_ok(out, request_id);
	}
	if (snapshot)
		store_snapshot_end(c->st);
	metrics_api_request(api_action_index(act), (unsigned)rc, clock_mono_us() - mono_us);
	log_context_request(NULL, NULL);
	*rcp = rc;
	return body;
}
