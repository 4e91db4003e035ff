/* policy: the checks of callout-rules.md §3.4 steps 3-12, and the counting windows. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "tz/tz.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

const char *policy_result_code(enum policy_result r)
{
	switch (r) {

	case POLICY_OK:                    return "";
	case POLICY_PERMISSION_DENIED:     return "FailedOperation.PermissionDenied";
	case POLICY_PACKAGE_EXPIRED:       return "LimitExceeded.BasePackageExpired";
	case POLICY_CALLEE_BLACKLISTED:    return "FailedOperation.CalleeIsBlackUser";
	case POLICY_BLIND_AREA:            return "FailedOperation.CalloutRuleBlindArea";
	case POLICY_NOT_WORK_TIME:         return "FailedOperation.CalloutRuleNotWorkTime";
	case POLICY_CALLEE_INTERVAL:
		return "FailedOperation.CalloutRuleMaxCallCountCalleeIntervalTime";
	case POLICY_CALLEE_DAILY:
		return "FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID";
	case POLICY_NO_CALLER:             return "FailedOperation.NoCallOutNumber";
	case POLICY_CALLER_OVER_FREQUENCY: return "FailedOperation.CallerOverFrequency";
	case POLICY_AI_NO_PACKAGE:         return "FailedOperation.AIConcurrentNoPackage";
	case POLICY_AI_OVER_FREQUENCY:     return "FailedOperation.AIConcurrentOverFrequency";
	case POLICY_TENANT_CHANNELS:       return "LimitExceeded";
	case POLICY_TENANT_MINUTES:        return "LimitExceeded.BasePackageExpired";
	}
	return "InternalError";
}

/* ccc-actions.md §11: 108 restrictedCallee, 109 tooManyRequest, 110 restrictedArea,
 * 111 restrictedTime; 0 "error" where TCCC documents no code (cccd choice). */
int policy_result_end_status(enum policy_result r)
{
	switch (r) {

	case POLICY_CALLEE_BLACKLISTED:    return 108;
	case POLICY_CALLEE_INTERVAL:
	case POLICY_CALLEE_DAILY:
	case POLICY_CALLER_OVER_FREQUENCY: return 109;
	case POLICY_BLIND_AREA:            return 110;
	case POLICY_NOT_WORK_TIME:         return 111;
	default:                           return 0;
	}
}

static enum policy_result verdict(struct policy_verdict *v, enum policy_result r,
				  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum policy_result verdict(struct policy_verdict *v, enum policy_result r,
				  const char *fmt, ...)
{
	va_list ap;

	if (v) {
		v->result = r;
		va_start(ap, fmt);
		vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
		va_end(ap);
	}
	return r;
}

enum policy_result policy_check_licence(bool advanced, int64_t package_expires_at,
					int64_t now, struct policy_verdict *v)
{
	if (!advanced)
		return verdict(v, POLICY_PERMISSION_DENIED,
			       "the instance is not Advanced edition (needed for outbound IVR)");
	if (package_expires_at && now >= package_expires_at)
		return verdict(v, POLICY_PACKAGE_EXPIRED, "the call package expired at %lld",
			       (long long)package_expires_at);
	return verdict(v, POLICY_OK, "ok");
}

enum policy_result policy_check_blacklist(const struct policy_rules *r,
					  const struct policy_data *d, enum policy_class cls,
					  const char *callee, struct policy_verdict *v)
{
	char match[POLICY_NUM_MAX + 2];

	if (!r->cls[cls].blacklist)
		return verdict(v, POLICY_OK, "ok");
	if (blist_match(&r->blacklist, callee, match, sizeof(match)))
		return verdict(v, POLICY_CALLEE_BLACKLISTED,
			       "callee %s is on the instance blacklist (entry %s)", callee, match);
	if (d && blist_match(&d->blacklist, callee, match, sizeof(match)))
		return verdict(v, POLICY_CALLEE_BLACKLISTED,
			       "callee %s is on the global blacklist (entry %s)", callee, match);
	return verdict(v, POLICY_OK, "ok");
}

enum policy_result policy_check_blind_area(const struct policy_rules *r,
					   const struct policy_data *d, enum policy_class cls,
					   const char *callee, struct policy_verdict *v)
{
	char region[POLICY_REGION_MAX + 1];
	int err;

	if (!r->cls[cls].blind_area)
		return verdict(v, POLICY_OK, "ok");
	err = policy_data_region(d, callee, region, sizeof(region));
	if (err == ENOENT) {
		if (r->unknown_deny)
			return verdict(v, POLICY_BLIND_AREA, "the location of callee %s is unknown "
				       "and blind_area.unknown_location is deny", callee);
		return verdict(v, POLICY_OK, "ok");
	}
	if (err) {
		/* Not a normalised number: the caller skipped step 1. Refuse, never call. */
		return verdict(v, POLICY_BLIND_AREA, "callee %s is not a normalised number",
			       callee);
	}
	for (size_t i = 0; region[0] && i < r->n_regions; i++) {
		if (strcmp(region, r->regions[i]) == 0)
			return verdict(v, POLICY_BLIND_AREA, "callee %s is in blind area %s",
				       callee, region);
	}
	return verdict(v, POLICY_OK, "ok");
}

enum policy_result policy_check_work_time(const struct policy_rules *r,
					  enum policy_class cls, int64_t now,
					  struct policy_verdict *v)
{
	static const char *const wday[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	enum hours_state hs;
	struct tm tm;
	char when[48];

	if (!r->cls[cls].work_time)
		return verdict(v, POLICY_OK, "ok");
	hs = hours_at(r->zone, r->windows, r->n_windows, r->holidays, r->n_holidays, now, &tm);
	if (hs == HOURS_OPEN)
		return verdict(v, POLICY_OK, "ok");
	if (hs == HOURS_NO_TIME)
		return verdict(v, POLICY_NOT_WORK_TIME, "the time %lld cannot be placed in %s",
			       (long long)now, tz_name(r->zone));
	snprintf(when, sizeof(when), "%s %04d-%02d-%02d %02d:%02d:%02d", wday[tm.tm_wday],
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (hs == HOURS_HOLIDAY)
		return verdict(v, POLICY_NOT_WORK_TIME, "%s (%s) is a holiday in work_time.holidays",
			       when, tz_name(r->zone));
	return verdict(v, POLICY_NOT_WORK_TIME, "%s (%s) is outside work_time.windows", when,
		       tz_name(r->zone));
}

enum policy_result policy_check_static(const struct policy_rules *r,
				       const struct policy_data *d, const char *callee,
				       int64_t now, struct policy_static *st)
{
	enum policy_result best = POLICY_OK;

	for (int k = 0; k < POLICY_N_CLASSES; k++) {
		struct policy_verdict *v = &st->cls[k];
		enum policy_result res;

		res = policy_check_blacklist(r, d, (enum policy_class)k, callee, v);
		if (res == POLICY_OK)
			res = policy_check_blind_area(r, d, (enum policy_class)k, callee, v);
		if (res == POLICY_OK)
			res = policy_check_work_time(r, (enum policy_class)k, now, v);
		if (res == POLICY_OK)
			return POLICY_OK;
		if (res > best)
			best = res;
	}
	return best;
}

int policy_windows(const struct policy_rules *r, int64_t now, struct policy_windows *w)
{
	int err = 0;

	if (!r || !w)
		return EINVAL;
	/* "start_ts >= now - window + 1": a call at T counts up to T + window - 1. A window of
	 * 0 (limit off) counts nothing. */
	w->callee_interval_since = now - (int64_t)r->callee_interval_window + 1;
	w->caller_since = now - (int64_t)r->caller_freq_window + 1;
	w->callee_interval_used = w->callee_daily_used = false;
	w->caller_live_used = w->caller_recent_used = false;
	for (int k = 0; k < POLICY_N_CLASSES; k++) {
		w->callee_interval_used |= r->cls[k].callee_interval_max != 0;
		w->callee_daily_used |= r->cls[k].callee_daily_max != 0;
		w->caller_live_used |= r->cls[k].caller_concurrency != 0;
		w->caller_recent_used |= r->cls[k].caller_freq_max != 0;
	}
	if (r->daily_calendar)
		err = tz_day_start(r->zone, now, &w->callee_daily_since);
	else
		w->callee_daily_since = now - 86400 + 1;
	w->caps_channels_used = r->caps.channels || r->operator_caps.channels;
	w->caps_minutes_used = r->caps.minutes_daily || r->operator_caps.minutes_daily;
	w->caps_day_since = now;
	if (!err && w->caps_minutes_used)
		err = tz_day_start(r->zone, now, &w->caps_day_since);
	return err;
}

/* Steps 9-11 for one candidate (or, with cand NULL, for the callee alone). */
static enum policy_result check_candidate(const struct policy_rules *r,
					  const struct policy_static *st,
					  const struct policy_counts *c, enum policy_class cls,
					  const struct policy_caller *cand, size_t idx,
					  struct policy_verdict *v)
{
	const struct policy_limits *lim = &r->cls[cls];

	if (st->cls[cls].result != POLICY_OK) {
		*v = st->cls[cls];
		return v->result;
	}
	if (lim->callee_interval_max && c->callee_interval >= lim->callee_interval_max)
		return verdict(v, POLICY_CALLEE_INTERVAL, "callee called %u times in the last "
			       "%u s, limit %u", c->callee_interval, r->callee_interval_window,
			       lim->callee_interval_max);
	if (lim->callee_daily_max && c->callee_daily >= lim->callee_daily_max) {
		if (r->daily_calendar)
			return verdict(v, POLICY_CALLEE_DAILY, "callee called %u times today (%s), "
				       "limit %u", c->callee_daily, tz_name(r->zone),
				       lim->callee_daily_max);
		return verdict(v, POLICY_CALLEE_DAILY, "callee called %u times in the last "
			       "24 h, limit %u", c->callee_daily, lim->callee_daily_max);
	}
	if (!cand)
		return verdict(v, POLICY_OK, "ok");
	if (lim->caller_concurrency && cand->live >= lim->caller_concurrency)
		return verdict(v, POLICY_CALLER_OVER_FREQUENCY, "caller candidate %zu has %u live "
			       "calls, limit %u", idx + 1, cand->live, lim->caller_concurrency);
	if (lim->caller_freq_max && cand->recent >= lim->caller_freq_max)
		return verdict(v, POLICY_CALLER_OVER_FREQUENCY, "caller candidate %zu placed %u "
			       "calls in the last %u s, limit %u", idx + 1, cand->recent,
			       r->caller_freq_window, lim->caller_freq_max);
	return verdict(v, POLICY_OK, "ok");
}

/* The cap that binds (0 = none): the lower of the tenant's and the operator's; *op says
 * whether it is the operator's (a tenant cap equal to the operator's is the tenant's). */
static uint32_t cap_binding(uint32_t tenant, uint32_t operator_cap, bool *op)
{
	*op = operator_cap && (!tenant || operator_cap < tenant);
	return *op ? operator_cap : tenant;
}

enum policy_result policy_check_caps(const struct policy_rules *r, uint32_t channels_live,
				     uint32_t seconds_today, struct policy_verdict *v)
{
	bool op;
	uint32_t cap = cap_binding(r->caps.channels, r->operator_caps.channels, &op);

	if (cap && channels_live >= cap)
		return verdict(v, POLICY_TENANT_CHANNELS, "the instance has %u outbound calls "
			       "up, %s is %u", channels_live, op ? "the operator's cap ([policy] "
			       "tenant_channels_max)" : "its cap (tenant_caps.channels)", cap);
	cap = cap_binding(r->caps.minutes_daily, r->operator_caps.minutes_daily, &op);
	if (cap && seconds_today >= cap * 60ull)
		return verdict(v, POLICY_TENANT_MINUTES, "the instance's outbound calls used "
			       "%u s today, %s is %u minutes", seconds_today, op ? "the operator's "
			       "cap ([policy] tenant_minutes_daily_max)" : "its cap "
			       "(tenant_caps.minutes_daily)", cap);
	return POLICY_OK;
}

enum policy_result policy_check_counters(const struct policy_rules *r,
					 const struct policy_static *st,
					 const struct policy_counts *c, size_t *chosenp,
					 struct policy_verdict *v)
{
	struct policy_verdict worst = {POLICY_OK, ""}, cur;
	size_t i;

	/* Instance-wide, whatever the caller number: a runaway flow stops here first. */
	if (policy_check_caps(r, c->channels_live, c->seconds_today, v))
		return v->result;

	if (c->n_callers == 0) {
		if (check_candidate(r, st, c, POLICY_PLATFORM, NULL, 0, &cur) != POLICY_OK) {
			*v = cur;
			return v->result;
		}
		return verdict(v, POLICY_NO_CALLER, "no usable caller number (none of Callers "
			       "is owned and enabled, and the instance has no outbound number)");
	}

	for (i = 0; i < c->n_callers; i++) {
		const struct policy_caller *cand = &c->callers[i];
		enum policy_class cls = cand->cls == POLICY_OWN ? POLICY_OWN : POLICY_PLATFORM;

		if (check_candidate(r, st, c, cls, cand, i, &cur) == POLICY_OK)
			break;
		if (cur.result > worst.result)
			worst = cur;
	}
	if (i == c->n_callers) {
		*v = worst;
		if (worst.result == POLICY_CALLER_OVER_FREQUENCY && c->n_callers > 1) {
			char first[sizeof(v->msg)];

			snprintf(first, sizeof(first), "%s", worst.msg);
			snprintf(v->msg, sizeof(v->msg), "all %zu caller candidates are at their "
				 "limits (%.120s)", c->n_callers, first);
		}
		return v->result;
	}
	if (chosenp)
		*chosenp = i;

	if (c->ai_needed) {
		if (c->ai_licences == 0)
			return verdict(v, POLICY_AI_NO_PACKAGE, "the IVR uses AI and the instance "
				       "has no AI licence");
		if (c->ai_in_use >= c->ai_licences)
			return verdict(v, POLICY_AI_OVER_FREQUENCY, "all %u AI channels are in use",
				       c->ai_licences);
	}
	return verdict(v, POLICY_OK, "ok");
}
