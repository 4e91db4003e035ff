/* tz internals shared by the TZif reader, the POSIX TZ rule and the conversions. */
#ifndef CCCD_TZ_INT_H
#define CCCD_TZ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* POSIX allows TZNAME_MAX >= 6; zic writes at most 6 ("<+0530>" is 5 inside the <>).
 * A generous bound keeps the struct fixed-size. */
enum { TZ_ABBR_MAX = 15 };

/* One local time type of a TZif file. */
struct tz_ttype {
	int32_t utoff;  /* seconds east of UTC */
	bool isdst;
	uint32_t abbr;  /* index into tz.abbrs */
};

/* A date of a POSIX TZ rule: "Jn" (1-365, Feb 29 never counted), "n" (0-365, counting
 * Feb 29), or "Mm.w.d" (day d of week w of month m, w = 5 meaning the last). */
struct tz_rule_date {
	char kind;     /* 'J', 'n' or 'M' */
	int n;         /* J and n forms */
	int m, w, d;   /* M form */
	int32_t time;  /* seconds after local midnight, -167h..167h (RFC 8536 extension) */
};

/* "STD offset [DST [offset] [,start[/time],end[/time]]]" */
struct tz_rule {
	char std_name[TZ_ABBR_MAX + 1];
	char dst_name[TZ_ABBR_MAX + 1];
	int32_t std_utoff;  /* seconds east of UTC (the sign POSIX writes is the opposite) */
	int32_t dst_utoff;
	bool has_dst;
	struct tz_rule_date start, end;
};

/* A loaded zone: immutable after tz_parse, so threads may share it. Owns every array. */
struct tz {
	char *name;
	int64_t *trans;        /* transition instants, strictly ascending */
	uint8_t *trans_type;   /* type index of each transition */
	size_t n_trans;
	struct tz_ttype *types;
	size_t n_types;
	char *abbrs;           /* designations, NUL-terminated strings; n_abbrs + 1 bytes */
	size_t n_abbrs;
	bool has_rule;         /* a non-empty footer: applies after the last transition */
	struct tz_rule rule;
};

/* Parses a POSIX TZ string (the TZif footer, without its newlines). 0 or EINVAL. */
int tz_rule_parse(struct tz_rule *r, const char *s, size_t len);

/* The offset, DST flag and designation the rule gives at a Unix instant. */
void tz_rule_at(const struct tz_rule *r, int64_t t, int32_t *utoffp, bool *isdstp,
		const char **abbrp);

/* Proleptic Gregorian calendar arithmetic on days since 1970-01-01. */
int64_t tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void tz_civil_from_days(int64_t days, int64_t *yp, unsigned *mp, unsigned *dp);
bool tz_is_leap(int64_t y);

#endif
