/* hours: business hours — weekly windows and holiday dates in a time zone — for the
 * calling rules' work_time (policy) and the IVR's businessHours node alike: one syntax,
 * one day numbering and one check, so a window means the same in a rule file and a flow.
 *
 * Syntax (docs/callout-rules.md §work_time, docs/flows.md §businessHours):
 *   days   "Mon".."Sun" in any case, a range "Mon-Fri" (wrapping: "Sat-Mon"), or an ISO
 *          day number 1 (Monday) .. 7 (Sunday)
 *   times  "HH:MM" or "HH:MM:SS", local; "24:00" only as a window's end; start < end
 *          (a window crossing midnight is written as two)
 *   dates  "YYYY-MM-DD", a real date (29 February only in leap years), local */
#ifndef CCCD_HOURS_H
#define CCCD_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tz;

struct hours_window {
	uint8_t days;    /* bit 0 = Monday ... bit 6 = Sunday (ISO day number - 1) */
	uint32_t start;  /* seconds since local midnight */
	uint32_t end;    /* start < end <= 86400 */
};

/* The short English name of day bit i (0 = "Mon"). */
const char *hours_day_name(unsigned i);

/* Adds the days of a name or range to *bits; EINVAL if it is neither. */
int hours_days_parse(const char *s, uint8_t *bits);
/* Adds ISO day `iso` (1 Monday .. 7 Sunday) to *bits; EINVAL out of range. */
int hours_day_iso(long long iso, uint8_t *bits);
/* "HH:MM[:SS]" into seconds since midnight; "24:00[:00]" only when is_end. EINVAL. */
int hours_time_parse(const char *s, bool is_end, uint32_t *secp);
/* "YYYY-MM-DD" (1970 on) into days since 1970-01-01. EINVAL. */
int hours_date_parse(const char *s, int64_t *daysp);
/* Sorts holiday days ascending, as hours_at needs them. */
void hours_dates_sort(int64_t *days, size_t n);

enum hours_state {
	HOURS_OPEN,
	HOURS_CLOSED,   /* outside every window */
	HOURS_HOLIDAY,  /* the local date is a holiday */
	HOURS_NO_TIME,  /* the instant cannot be placed in the zone */
};

/* Whether `now` falls inside one of the windows and off the holidays (ascending days
 * since 1970-01-01), in zone; *tm (may be NULL) gets the local time for messages.
 * Thread-safe: reads only its arguments. */
enum hours_state hours_at(const struct tz *zone, const struct hours_window *w, size_t n_w,
			  const int64_t *holidays, size_t n_h, int64_t now, struct tm *tm);

#endif
