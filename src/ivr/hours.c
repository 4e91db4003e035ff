/* ivr business hours: is an instant inside a node's weekly windows and off its holidays,
 * in the node's time zone. */
#include <time.h>
#include "tz/tz.h"
#include "ivr/ivr_int.h"

bool hours_open(const struct node *n, int64_t unix_s)
{
	struct tm tm;
	int sec;

	/* A zone that fails to convert was refused at load; if it fails now, closed is the
	 * safe answer (an out-of-hours branch, not a caller sent to an empty office). */
	if (!n->tz || tz_local(n->tz, unix_s, &tm))
		return false;
	for (size_t i = 0; i < n->n_holidays; i++) {
		const struct hours_date *d = &n->holidays[i];
		if (d->year == tm.tm_year + 1900 && d->mon == tm.tm_mon + 1 && d->mday == tm.tm_mday)
			return false;
	}
	sec = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	for (size_t i = 0; i < n->n_windows; i++) {
		const struct hours_window *w = &n->windows[i];
		if ((w->days & (1u << tm.tm_wday)) && sec >= w->start_s && sec < w->end_s)
			return true;
	}
	return false;
}
