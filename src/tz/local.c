/* tz: Unix instant -> local broken-down time, and the start of a local day. */
#include <errno.h>
#include <string.h>
#include "tz/tz.h"
#include "tz/tz_int.h"

/* Beyond this the year no longer fits struct tm's int (2^55 s is about 1.1e9 years). */
#define TZ_T_LIMIT ((int64_t)1 << 55)

/* The offset in force at t, per RFC 8536 §3.2: type 0 before the first transition, the
 * last transition's type until the footer takes over, the footer rule after it. */
static void offset_at(const struct tz *tz, int64_t t, int32_t *utoffp, bool *isdstp,
		      const char **abbrp)
{
	const struct tz_ttype *tt;
	size_t lo, hi;

	if (tz->has_rule && (tz->n_trans == 0 || t >= tz->trans[tz->n_trans - 1])) {
		tz_rule_at(&tz->rule, t, utoffp, isdstp, abbrp);
		return;
	}
	if (tz->n_trans == 0 || t < tz->trans[0]) {
		tt = &tz->types[0];
	}
	else {
		/* Largest i with trans[i] <= t. */
		lo = 0;
		hi = tz->n_trans;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (tz->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		tt = &tz->types[tz->trans_type[lo]];
	}
	*utoffp = tt->utoff;
	*isdstp = tt->isdst;
	*abbrp = tz->abbrs + tt->abbr;
}

int tz_local(const struct tz *tz, int64_t unix_s, struct tm *out)
{
	int64_t local, days, secs, y;
	unsigned m, d;
	int32_t utoff;
	bool isdst;
	const char *abbr;

	if (!tz || !out)
		return EINVAL;
	if (unix_s > TZ_T_LIMIT || unix_s < -TZ_T_LIMIT)
		return EOVERFLOW;

	offset_at(tz, unix_s, &utoff, &isdst, &abbr);
	local = unix_s + utoff;
	days = local / 86400 - (local % 86400 < 0);
	secs = local - days * 86400;
	tz_civil_from_days(days, &y, &m, &d);

	memset(out, 0, sizeof(*out));
	out->tm_sec = (int)(secs % 60);
	out->tm_min = (int)(secs / 60 % 60);
	out->tm_hour = (int)(secs / 3600);
	out->tm_mday = (int)d;
	out->tm_mon = (int)m - 1;
	out->tm_year = (int)(y - 1900);
	out->tm_wday = (int)(((days + 4) % 7 + 7) % 7);  /* 1970-01-01 was a Thursday */
	out->tm_yday = (int)(days - tz_days_from_civil(y, 1, 1));
	out->tm_isdst = isdst;
	out->tm_gmtoff = utoff;
	out->tm_zone = abbr;
	return 0;
}

/* Local wall-clock seconds (since 1970-01-01 00:00 local) at instant t. */
static int64_t wall(const struct tz *tz, int64_t t)
{
	int32_t utoff;
	bool isdst;
	const char *abbr;

	offset_at(tz, t, &utoff, &isdst, &abbr);
	return t + utoff;
}

/* Local midnight M of the day containing t is easy in wall-clock terms; the instant is
 * not, because the offset may change between midnight and t, and midnight may not exist
 * at all when DST starts at 00:00 (several zones do that). The fast path assumes the
 * offset at t held at midnight and checks it. Otherwise search: the first instant whose
 * wall clock is >= M lies between M - 26 h (no offset is larger) and t. Wall time grows
 * across that range unless clocks go back across midnight itself; then the search finds
 * one of the instants at which the day begins. About 20 lookups. */
int tz_day_start(const struct tz *tz, int64_t unix_s, int64_t *startp)
{
	int64_t w, mid, lo, hi;

	if (!tz || !startp)
		return EINVAL;
	if (unix_s > TZ_T_LIMIT || unix_s < -TZ_T_LIMIT)
		return EOVERFLOW;

	w = wall(tz, unix_s);
	mid = (w / 86400 - (w % 86400 < 0)) * 86400;

	/* Fast path: the offset now is the offset at midnight. */
	lo = mid - (w - unix_s);
	if (wall(tz, lo) == mid && wall(tz, lo - 1) < mid) {
		*startp = lo;
		return 0;
	}

	lo = mid - 93600 - 1;  /* wall(lo) < mid */
	hi = unix_s;           /* wall(hi) >= mid */
	while (hi - lo > 1) {
		int64_t m = lo + (hi - lo) / 2;

		if (wall(tz, m) >= mid)
			hi = m;
		else
			lo = m;
	}
	*startp = hi;
	return 0;
}
