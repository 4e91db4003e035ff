/* hours: the one parser and check of business hours (hours.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tz/tz.h"
#include "hours/hours.h"

static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

const char *hours_day_name(unsigned i)
{
	return i < 7 ? day_names[i] : "?";
}

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++) {
		if (len == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	}
	return -1;
}

int hours_days_parse(const char *s, uint8_t *bits)
{
	const char *dash = strchr(s, '-');
	int a, b;

	if (!dash) {
		a = day_index(s, strlen(s));
		if (a < 0)
			return EINVAL;
		*bits |= (uint8_t)(1u << a);
		return 0;
	}
	a = day_index(s, (size_t)(dash - s));
	b = day_index(dash + 1, strlen(dash + 1));
	if (a < 0 || b < 0)
		return EINVAL;
	for (int i = a;; i = (i + 1) % 7) {
		*bits |= (uint8_t)(1u << i);
		if (i == b)
			break;
	}
	return 0;
}

int hours_day_iso(long long iso, uint8_t *bits)
{
	if (iso < 1 || iso > 7)
		return EINVAL;
	*bits |= (uint8_t)(1u << (iso - 1));
	return 0;
}

int hours_time_parse(const char *s, bool is_end, uint32_t *secp)
{
	unsigned h, m, sec = 0;
	size_t len = strlen(s);

	if (len != 5 && len != 8)
		return EINVAL;
	for (size_t i = 0; i < len; i++) {
		bool colon = i == 2 || i == 5;

		if (colon ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
			return EINVAL;
	}
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (len == 8)
		sec = (unsigned)(s[6] - '0') * 10 + (unsigned)(s[7] - '0');
	if (m > 59 || sec > 59 || h > 24 || (h == 24 && (!is_end || m || sec)))
		return EINVAL;
	*secp = h * 3600 + m * 60 + sec;
	return 0;
}

int hours_date_parse(const char *s, int64_t *daysp)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y = 0, m, d;
	struct tm tm = {0};

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return EINVAL;
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return EINVAL;
	}
	for (int i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return EINVAL;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return EINVAL;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	*daysp = (int64_t)timegm(&tm) / 86400;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void hours_dates_sort(int64_t *days, size_t n)
{
	if (n)
		qsort(days, n, sizeof(*days), cmp_i64);
}

static bool is_holiday(const int64_t *h, size_t n, int64_t day)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h[mid] == day)
			return true;
		if (h[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

enum hours_state hours_at(const struct tz *zone, const struct hours_window *w, size_t n_w,
			  const int64_t *holidays, size_t n_h, int64_t now, struct tm *tmp)
{
	struct tm tm;
	int64_t local, day;
	uint32_t sec;
	unsigned bit;

	if (!zone || tz_local(zone, now, &tm))
		return HOURS_NO_TIME;
	if (tmp)
		*tmp = tm;
	local = now + tm.tm_gmtoff;
	day = local / 86400 - (local % 86400 < 0);
	if (is_holiday(holidays, n_h, day))
		return HOURS_HOLIDAY;
	sec = (uint32_t)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	bit = 1u << ((tm.tm_wday + 6) % 7);  /* tm_wday 0 = Sunday → bit 6 */
	for (size_t i = 0; i < n_w; i++) {
		if ((w[i].days & bit) && sec >= w[i].start && sec < w[i].end)
			return HOURS_OPEN;
	}
	return HOURS_CLOSED;
}
