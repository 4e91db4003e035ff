/* callout: the calling rules of CreateIVRSession (callout-rules.md §3.4, steps 6–13) —
 * the licence, number normalisation, the static checks, the caller candidates, and the
 * counted checks then the route inside the transaction that inserts the session, so that
 * concurrent requests can never pass a cap together and a refused request counts for
 * nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "api/api_int.h"
#include "policy/policy.h"
#include "store/store.h"

static const enum api_code result_codes[] = {
	[POLICY_OK] = API_OK,
	[POLICY_PERMISSION_DENIED] = API_FAILED_OPERATION_PERMISSION_DENIED,
	[POLICY_PACKAGE_EXPIRED] = API_LIMIT_EXCEEDED_BASE_PACKAGE_EXPIRED,
	[POLICY_CALLEE_BLACKLISTED] = API_FAILED_OPERATION_CALLEE_IS_BLACK_USER,
	[POLICY_BLIND_AREA] = API_FAILED_OPERATION_CALLOUT_RULE_BLIND_AREA,
	[POLICY_NOT_WORK_TIME] = API_FAILED_OPERATION_CALLOUT_RULE_NOT_WORK_TIME,
	[POLICY_CALLEE_INTERVAL] = API_FAILED_OPERATION_CALLOUT_RULE_INTERVAL,
	[POLICY_CALLEE_DAILY] = API_FAILED_OPERATION_CALLOUT_RULE_DAILY,
	[POLICY_NO_CALLER] = API_FAILED_OPERATION_NO_CALL_OUT_NUMBER,
	[POLICY_CALLER_OVER_FREQUENCY] = API_FAILED_OPERATION_CALLER_OVER_FREQUENCY,
	[POLICY_AI_NO_PACKAGE] = API_FAILED_OPERATION_AI_CONCURRENT_NO_PACKAGE,
	[POLICY_AI_OVER_FREQUENCY] = API_FAILED_OPERATION_AI_CONCURRENT_OVER_FREQUENCY,
	[POLICY_TENANT_CHANNELS] = API_LIMIT_EXCEEDED,
	[POLICY_TENANT_MINUTES] = API_LIMIT_EXCEEDED_BASE_PACKAGE_EXPIRED,
};

static enum api_code refuse(struct api_error *e, const struct policy_verdict *v)
{
	if ((size_t)v->result >= sizeof(result_codes) / sizeof(result_codes[0]))
		return api_fail(e, API_INTERNAL_ERROR, "Unknown calling rule result.");
	return api_fail(e, result_codes[v->result], "%s", v->msg);
}

/* The caller candidates: Callers in request order that the instance owns, enabled and
 * outbound (others skipped); without Callers, the instance's pool. */
struct candidates {
	char numbers[STORE_ADMIT_MAX_CALLERS][33];
	enum policy_class cls[STORE_ADMIT_MAX_CALLERS];
	size_t n;
};

static int pool_add(const struct store_number *num, void *arg)
{
	struct candidates *c = arg;

	if (c->n >= STORE_ADMIT_MAX_CALLERS)
		return ECANCELED;
	snprintf(c->numbers[c->n], sizeof(c->numbers[c->n]), "%s", num->number);
	c->cls[c->n++] = num->number_class == POLICY_OWN ? POLICY_OWN : POLICY_PLATFORM;
	return 0;
}

static enum api_code candidates_find(const struct api_ctx *ctx, uint64_t sdkappid,
				     const char *cc, const json_t *callers,
				     struct candidates *out, struct api_error *e)
{
	struct store_number num;
	json_t *c;
	size_t i;
	int err;

	out->n = 0;
	if (!json_array_size(callers)) {
		err = store_numbers_outbound(ctx->st, sdkappid, pool_add, out);
		return err && err != ECANCELED ?
			api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.") : API_OK;
	}
	json_array_foreach(callers, i, c) {
		char norm[33];

		if (policy_number_normalise(json_string_value(c), cc, norm, NULL, 0))
			continue;
		err = store_number_get(ctx->st, sdkappid, norm, &num);
		if (err && err != ENOENT)
			return api_fail(e, API_INTERNAL_ERROR, "The database is unavailable.");
		if (!err && num.state == 1 && num.outbound)
			pool_add(&num, out);
	}
	return API_OK;
}

struct decision {
	const struct policy_rules *rules;
	const struct policy_static *statics;
	const struct candidates *cand;
	bool ai;
	uint32_t ai_channels;
	const struct api_hooks *hooks;
	const char *callee;
	bool no_route;
	struct policy_verdict v;
};

/* Runs inside the store's transaction, with the counts of that moment. */
static int decide(const struct store_admit_counts *c, size_t *chosen, void *arg)
{
	struct decision *d = arg;
	struct policy_caller callers[STORE_ADMIT_MAX_CALLERS];
	struct policy_counts pc = {
		.callee_interval = c->callee_interval,
		.callee_daily = c->callee_daily,
		.callers = callers,
		.n_callers = c->n_callers,
		.ai_needed = d->ai,
		.ai_licences = d->ai_channels,
		.ai_in_use = c->ai_in_use,
		.channels_live = c->channels_live,
		.seconds_today = c->seconds_today,
	};

	for (size_t i = 0; i < c->n_callers; i++) {
		callers[i].cls = d->cand->cls[i];
		callers[i].live = c->callers[i].live;
		callers[i].recent = c->callers[i].recent;
	}
	if (policy_check_counters(d->rules, d->statics, &pc, chosen, &d->v))
		return STORE_ADMIT_REFUSED + (int)d->v.result;
	/* Last (§2 step 13): a trunk outage must not hide a cap or licence refusal. The
	 * route check reads the trunks' states under their own lock and never blocks. */
	if (d->hooks->route_ok && !d->hooks->route_ok(d->callee, d->hooks->arg)) {
		d->no_route = true;
		return STORE_ADMIT_REFUSED;
	}
	return 0;
}

enum api_code api_callout_licence(const struct store_instance *inst, int64_t now,
				  struct api_error *e)
{
	struct policy_verdict v;

	if (policy_check_licence(inst->edition == STORE_EDITION_ADVANCED,
				 inst->package_expires_at, now, &v) == POLICY_OK)
		return API_OK;
	return api_fail(e, result_codes[v.result], "Instance %llu: %s.",
			(unsigned long long)inst->sdkappid, v.msg);
}

enum api_code api_callout_admit(const struct api_ctx *ctx, const json_t *p,
				struct store_session *s, const char *text,
				uint32_t ai_channels, struct api_error *e)
{
	const struct policy_rules *rules = NULL;
	struct policy_static statics;
	struct policy_windows win;
	struct candidates cand;
	struct store_admit_query q = {0};
	struct decision d = {0};
	int64_t now = ctx->now_ms / 1000;
	char why[192] = "";
	enum policy_result res;
	enum api_code rc;
	int err;

	err = policy_cache_rules(ctx->core->rules, s->sdkappid, text, &rules, why, sizeof(why));
	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "The calling rules of instance %llu do not "
				"load: %s", (unsigned long long)s->sdkappid, why);

	/* Step 1's normalisation needs the instance's country, hence here. */
	if (policy_number_normalise(json_string_value(json_object_get(p, "Callee")),
				    policy_rules_default_cc(rules), s->callee, why, sizeof(why))) {
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `Callee`: %s", why);
		goto out;
	}
	/* Still step 1: a UUI that no trunk for the callee takes can never be sent. */
	if (s->uui[0] && ctx->hooks->uui_ok && !ctx->hooks->uui_ok(s->callee, ctx->hooks->arg)) {
		rc = api_fail(e, API_INVALID_PARAMETER_VALUE, "The value of `UUI`: no trunk that "
			      "carries %s takes a UUI (uui = refuse); send the call without one.",
			      s->callee);
		goto out;
	}
	res = policy_check_static(rules, ctx->hooks->policy, s->callee, now, &statics);
	if (res) {
		rc = refuse(e, statics.cls[POLICY_PLATFORM].result == res ?
				       &statics.cls[POLICY_PLATFORM] : &statics.cls[POLICY_OWN]);
		goto out;
	}
	rc = candidates_find(ctx, s->sdkappid, policy_rules_default_cc(rules),
			     json_object_get(p, "Callers"), &cand, e);
	if (rc)
		goto out;
	if (policy_windows(rules, now, &win)) {
		rc = api_fail(e, API_INTERNAL_ERROR, "The calling rules cannot be evaluated.");
		goto out;
	}
	q.callee_interval_since = win.callee_interval_since;
	q.callee_daily_since = win.callee_daily_since;
	q.caller_since = win.caller_since;
	q.skip = (win.callee_interval_used ? 0 : STORE_ADMIT_SKIP_CALLEE_INTERVAL) |
		 (win.callee_daily_used ? 0 : STORE_ADMIT_SKIP_CALLEE_DAILY) |
		 (win.caller_live_used ? 0 : STORE_ADMIT_SKIP_CALLER_LIVE) |
		 (win.caller_recent_used ? 0 : STORE_ADMIT_SKIP_CALLER_RECENT);
	for (size_t i = 0; i < cand.n; i++)
		q.callers[i] = cand.numbers[i];
	q.n_callers = cand.n;
	q.ai = s->ai;
	q.channels = win.caps_channels_used;
	q.minutes = win.caps_minutes_used;
	q.day_since = win.caps_day_since;
	q.now = now;
	/* Each node's limiter (core.c) lets up to the limit through; the store counts the
	 * account's sessions of the last second across nodes (PostgreSQL). */
	q.rate_limit = ctx->rate_limit;
	q.rate_since_ms = ctx->now_ms - 1000;
	d.ai = s->ai;
	d.ai_channels = ai_channels;
	d.rules = rules;
	d.statics = &statics;
	d.cand = &cand;
	d.hooks = ctx->hooks;
	d.callee = s->callee;
	err = store_session_admit(ctx->st, s, &q, decide, &d);
	if (err >= STORE_ADMIT_REFUSED && (d.v.result == POLICY_TENANT_CHANNELS ||
					   d.v.result == POLICY_TENANT_MINUTES))
		refusal_note(d.v.result == POLICY_TENANT_CHANNELS ? REFUSAL_CHANNELS :
			     REFUSAL_MINUTES, "CreateIVRSession of instance %llu to %s: %s",
			     (unsigned long long)s->sdkappid, s->callee, d.v.msg);
	if (err == STORE_ADMIT_RATE_LIMITED)
		rc = api_fail(e, API_REQUEST_LIMIT_EXCEEDED, "CreateIVRSession is limited to %u "
			      "requests per second per account.", q.rate_limit);
	else if (err >= STORE_ADMIT_REFUSED && d.no_route)
		rc = api_fail(e, API_FAILED_OPERATION_CALL_OUT_FAILED, "No trunk that is up can "
			      "carry a call to %s.", s->callee);
	else if (err >= STORE_ADMIT_REFUSED)
		rc = refuse(e, &d.v);
	else if (err)
		rc = api_fail(e, API_INTERNAL_ERROR_DB_ERROR, "The session could not be stored: "
			      "%s.", strerror(err));
	else
		rc = API_OK;
out:
	policy_cache_release(ctx->core->rules, rules);
	return rc;
}
