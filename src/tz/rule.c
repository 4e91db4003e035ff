/* tz: the POSIX TZ rule of a TZif footer ("CET-1CEST,M3.5.0,M10.5.0/3") and calendar maths. */
#include <errno.h>
#include <string.h>
#include "tz/tz_int.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * era-based algorithm: exact for any year that fits, no tables, no loops). */
int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * ((int64_t)m + (m > 2 ? -3 : 9)) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *yp, unsigned *mp, unsigned *dp)
{
	int64_t era, doe, yoe, y, doy, mp_;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp_ = (5 * doy + 2) / 153;
	*dp = (unsigned)(doy - (153 * mp_ + 2) / 5 + 1);
	*mp = (unsigned)(mp_ < 10 ? mp_ + 3 : mp_ - 9);
	*yp = y + (*mp <= 2);
}

bool tz_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A small cursor over the TZ string. */
struct cur {
	const char *p, *end;
};

static bool at(const struct cur *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* Unsigned decimal of at most `maxdig` digits, value <= max. */
static int num(struct cur *c, int maxdig, int max, int *vp)
{
	int v = 0, n = 0;

	while (c->p < c->end && is_digit(*c->p) && n < maxdig) {
		v = v * 10 + (*c->p - '0');
		c->p++;
		n++;
	}
	if (n == 0 || v > max)
		return EINVAL;
	*vp = v;
	return 0;
}

/* "std"/"dst": three or more letters, or "<...>" of letters, digits, '+' and '-'. */
static int name(struct cur *c, char *out)
{
	size_t n = 0;

	if (at(c, '<')) {
		c->p++;
		while (c->p < c->end && *c->p != '>') {
			char ch = *c->p;

			if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '-')
				return EINVAL;
			if (n >= TZ_ABBR_MAX)
				return EINVAL;
			out[n++] = ch;
			c->p++;
		}
		if (!at(c, '>'))
			return EINVAL;
		c->p++;
	}
	else {
		while (c->p < c->end && is_alpha(*c->p)) {
			if (n >= TZ_ABBR_MAX)
				return EINVAL;
			out[n++] = *c->p++;
		}
	}
	if (n < 3)
		return EINVAL;
	out[n] = '\0';
	return 0;
}

/* "[+-]hh[:mm[:ss]]" in seconds, |hh| <= maxh. */
static int hms(struct cur *c, int maxh, int32_t *vp)
{
	int h, m = 0, s = 0, sign = 1, err;

	if (at(c, '+')) {
		c->p++;
	}
	else if (at(c, '-')) {
		sign = -1;
		c->p++;
	}
	err = num(c, 3, maxh, &h);
	if (err)
		return err;
	if (at(c, ':')) {
		c->p++;
		err = num(c, 2, 59, &m);
		if (!err && at(c, ':')) {
			c->p++;
			err = num(c, 2, 59, &s);
		}
		if (err)
			return err;
	}
	*vp = sign * (h * 3600 + m * 60 + s);
	return 0;
}

static int date(struct cur *c, struct tz_rule_date *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	if (at(c, 'J')) {
		c->p++;
		d->kind = 'J';
		err = num(c, 3, 365, &d->n);
		if (!err && d->n < 1)
			err = EINVAL;
	}
	else if (at(c, 'M')) {
		c->p++;
		d->kind = 'M';
		err = num(c, 2, 12, &d->m);
		if (!err && (d->m < 1 || !at(c, '.')))
			err = EINVAL;
		if (!err) {
			c->p++;
			err = num(c, 1, 5, &d->w);
		}
		if (!err && (d->w < 1 || !at(c, '.')))
			err = EINVAL;
		if (!err) {
			c->p++;
			err = num(c, 1, 6, &d->d);
		}
	}
	else {
		d->kind = 'n';
		err = num(c, 3, 365, &d->n);
	}
	if (err)
		return err;

	d->time = 2 * 3600;  /* POSIX default: 02:00:00 */
	if (at(c, '/')) {
		c->p++;
		err = hms(c, 167, &d->time);  /* RFC 8536 §3.3.1 extension */
	}
	return err;
}

int tz_rule_parse(struct tz_rule *r, const char *s, size_t len)
{
	struct cur c = {s, s + len};
	int32_t off;
	int err;

	memset(r, 0, sizeof(*r));
	err = name(&c, r->std_name);
	if (!err)
		err = hms(&c, 24, &off);
	if (err)
		return err;
	r->std_utoff = -off;
	if (c.p == c.end)
		return 0;

	err = name(&c, r->dst_name);
	if (err)
		return err;
	r->has_dst = true;
	r->dst_utoff = r->std_utoff + 3600;
	if (c.p < c.end && !at(&c, ',')) {
		err = hms(&c, 24, &off);
		if (err)
			return err;
		r->dst_utoff = -off;
	}
	if (c.p == c.end) {
		/* No dates: the US rules POSIX implementations have always assumed. */
		r->start = (struct tz_rule_date){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
		r->end = (struct tz_rule_date){.kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
		return 0;
	}
	if (!at(&c, ','))
		return EINVAL;
	c.p++;
	err = date(&c, &r->start);
	if (err || !at(&c, ','))
		return EINVAL;
	c.p++;
	err = date(&c, &r->end);
	if (err || c.p != c.end)
		return EINVAL;
	return 0;
}

/* Local seconds (since 1970-01-01 00:00 local) at which rule date d happens in year y. */
static int64_t date_local(const struct tz_rule_date *d, int64_t y)
{
	int64_t jan1 = tz_days_from_civil(y, 1, 1), day;

	switch (d->kind) {

	case 'J':
		day = jan1 + d->n - 1 + (tz_is_leap(y) && d->n >= 60);
		break;

	case 'n':
		day = jan1 + d->n;
		break;

	default: {
		static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int64_t first = tz_days_from_civil(y, (unsigned)d->m, 1);
		int wday1 = (int)(((first + 4) % 7 + 7) % 7);  /* 1970-01-01 was a Thursday */
		int dom = 1 + (d->d - wday1 + 7) % 7 + 7 * (d->w - 1);
		int last = (int)mdays[d->m - 1] + (d->m == 2 && tz_is_leap(y));

		while (dom > last)
			dom -= 7;
		day = first + dom - 1;
		break;
	}
	}
	return day * 86400 + d->time;
}

void tz_rule_at(const struct tz_rule *r, int64_t t, int32_t *utoffp, bool *isdstp,
		const char **abbrp)
{
	int64_t y, start, end, days;
	unsigned m, d;
	bool dst;

	if (!r->has_dst) {
		*utoffp = r->std_utoff;
		*isdstp = false;
		*abbrp = r->std_name;
		return;
	}

	/* The year is taken in standard local time; DST starts at a time written in standard
	 * time and ends at a time written in DST. When start comes after end in the year the
	 * zone is southern: DST spans the new year. */
	days = (t + r->std_utoff) / 86400 - ((t + r->std_utoff) % 86400 < 0);
	tz_civil_from_days(days, &y, &m, &d);
	start = date_local(&r->start, y) - r->std_utoff;
	end = date_local(&r->end, y) - r->dst_utoff;
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start);

	*utoffp = dst ? r->dst_utoff : r->std_utoff;
	*isdstp = dst;
	*abbrp = dst ? r->dst_name : r->std_name;
}
