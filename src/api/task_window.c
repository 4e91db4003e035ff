/* task_window: a task's AvailableTime windows read in a zone (api_int.h) — whether one
 * is open, and when the next one opens (a callee outside its window is due again then,
 * docs/tasks.md §Callee-local windows). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "api/api_int.h"
#include "tz/tz.h"

/* Local seconds of the day of `t`, -1 on a zone error. */
static long day_second(const struct tz *tz, int64_t t)
{
	struct tm lt;

	if (tz) {
		if (tz_local(tz, t, &lt))
			return -1;
		return lt.tm_hour * 3600L + lt.tm_min * 60L + lt.tm_sec;
	}
	return (long)(((t % 86400) + 86400) % 86400);
}

/* The next window "a-b" of the list from p: 0, or -1 at the end. */
static int window_next_of(const char **p, long *a, long *b)
{
	char *end;

	if (!**p)
		return -1;
	*a = strtol(*p, &end, 10);
	if (*end != '-')
		return -1;
	*b = strtol(end + 1, &end, 10);
	*p = *end == ',' ? end + 1 : end;
	return 0;
}

bool api_window_open(const char *windows, const struct tz *tz, int64_t now)
{
	long sod, a, b;

	if (!windows || !windows[0])
		return true;
	sod = day_second(tz, now);
	if (sod < 0)
		return false;
	for (const char *p = windows; !window_next_of(&p, &a, &b); ) {
		if (a < b ? (sod >= a && sod < b) : (sod >= a || sod < b))
			return true;
	}
	return false;
}

/* The local day's first instant (UTC days without a zone). */
static int day_start(const struct tz *tz, int64_t t, int64_t *startp)
{
	if (tz)
		return tz_day_start(tz, t, startp);
	*startp = t - (((t % 86400) + 86400) % 86400);
	return 0;
}

int api_window_next(const char *windows, const struct tz *tz, int64_t now, int64_t *nextp)
{
	int64_t day[2], best = INT64_MAX;
	long a, b;

	if (!windows || !windows[0])
		return EINVAL;
	if (api_window_open(windows, tz, now)) {
		*nextp = now;
		return 0;
	}
	/* Today's start, and the next day's: 28 h after today's start lies in the next day
	 * whatever DST does (days are 23-25 h). */
	if (day_start(tz, now, &day[0]) || day_start(tz, day[0] + 28 * 3600, &day[1]))
		return EINVAL;
	for (int d = 0; d < 2; d++) {
		for (const char *p = windows; !window_next_of(&p, &a, &b); ) {
			/* Seconds after midnight are not the wall clock on a day whose clocks
			 * change before `a`: correct by what the clock reads there. */
			int64_t t = day[d] + a;
			long sod = day_second(tz, t);

			if (sod < 0)
				return EINVAL;
			if (labs(a - sod) <= 7200)
				t += a - sod;
			if (t > now && t < best)
				best = t;
		}
	}
	if (best == INT64_MAX)
		return EINVAL;
	*nextp = best;
	return 0;
}
