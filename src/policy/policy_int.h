/* policy internals shared by the module's files: digit-string sets, the rule-set struct. */
#ifndef CCCD_POLICY_INT_H
#define CCCD_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hours/hours.h"
#include "policy/policy.h"

/* Writes the reason of a refusal into why (when given) and returns EINVAL. */
int policy_why(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct tz;

/* Longest normalised number: "00" + 15 digits (E.164), plus room for a prefix pattern. */
enum { POLICY_NUM_MAX = 17 };
enum { POLICY_REGION_MAX = 15 };

/* A sorted array of digit strings (numbers or prefixes) with a small value each, for
 * exact and longest-prefix lookups by binary search. Owned by its container. */
struct pset_entry {
	char key[POLICY_NUM_MAX + 1];
	uint16_t val;
};

struct pset {
	struct pset_entry *v;
	size_t n, cap;
	size_t maxlen;  /* longest key */
};

void pset_reset(struct pset *s);
int pset_add(struct pset *s, const char *key, uint16_t val);
/* Sorts and removes duplicates; EEXIST (and *dupp = the key) when one key has two values. */
int pset_finish(struct pset *s, const char **dupp, uint16_t *v1, uint16_t *v2);
const struct pset_entry *pset_find(const struct pset *s, const char *key, size_t len);
/* The entry whose key is the longest prefix of `digits` (at least minlen long). */
const struct pset_entry *pset_longest(const struct pset *s, const char *digits,
				      size_t minlen);

/* A blacklist: exact normalised numbers and prefixes (stored without the '*'). */
struct blist {
	struct pset exact;
	struct pset prefix;
};

void blist_reset(struct blist *b);
/* Adds one entry as configured ("+86138*", "13800138000"), normalised in country cc. */
int blist_add(struct blist *b, const char *entry, const char *cc, char *why, size_t whysz);
int blist_finish(struct blist *b);
/* The matching entry (prefixes with a trailing '*') into match, or false. */
bool blist_match(const struct blist *b, const char *number, char *match, size_t matchsz);

/* A prefix pattern's digits (without '*') in the normalised "00..." form. */
int policy_prefix_normalise(const char *in, const char *default_cc, char out[33], char *why,
			    size_t whysz);

bool policy_region_ok(const char *s);

/* An allow-list entry the numbering plan cannot read but a trunk may dial: 1 to
 * POLICY_NUM_MAX digits (an extension, a short code), allowed by exactly that name. */
bool policy_dest_named_ok(const char *entry);

/* Switches and limits that may differ per number class. */
struct policy_limits {
	bool work_time;
	bool blind_area;
	bool blacklist;
	uint32_t callee_interval_max;  /* 0 = no limit */
	uint32_t callee_daily_max;
	uint32_t caller_freq_max;
	uint32_t caller_concurrency;   /* 0 = unlimited */
};

/* One calling window: days as bits (bit 0 Monday ... bit 6 Sunday), seconds of the day,
 * start inclusive, end exclusive (end may be 86400). */

/* Where transfers and numbers built from caller input may go (dest.c): numbers matching
 * `allow` always; otherwise domestic (the rule set's default_cc) numbers that are not
 * premium-rate, unless the switches open international or premium destinations. */
struct policy_dest {
	struct blist allow;
	struct pset named;                /* extensions and short codes allowed by name: what
					   * the numbering plan cannot read ("7001") */
	bool allow_all;                   /* "*" among the entries */
	bool international;
	bool premium;
};

/* Per-tenant caps that stop a runaway flow (0 = no cap). */
struct policy_caps {
	uint32_t channels;                /* concurrent outbound calls */
	uint32_t minutes_daily;           /* answered minutes per calendar day (zone's) */
};

/* A rule set. Owns zone, the arrays and the blacklist; immutable once parsed. */
struct policy_rules {
	char default_cc[4];
	struct policy_limits cls[POLICY_N_CLASSES];
	struct tz *zone;
	struct hours_window *windows;  /* work_time (hours.h) */
	size_t n_windows;
	int64_t *holidays;  /* local dates as days since 1970-01-01, ascending */
	size_t n_holidays;
	char (*regions)[POLICY_REGION_MAX + 1];
	size_t n_regions;
	bool unknown_deny;
	uint32_t callee_interval_window;  /* seconds */
	bool daily_calendar;              /* else rolling 24 h */
	uint32_t caller_freq_window;      /* seconds */
	struct blist blacklist;
	struct policy_dest dest;
	struct policy_caps caps;          /* the tenant's own (tenant_caps) */
	struct policy_caps operator_caps; /* the operator's ([policy] tenant_*_max), set by
					   * policy_rules_operator_caps; never in the JSON */
};

/* System-wide data. Owns its tables. */
struct policy_data {
	struct pset loc;  /* prefix -> index into regions */
	char (*regions)[POLICY_REGION_MAX + 1];
	size_t n_regions;
	struct blist blacklist;
	struct policy_caps operator_caps; /* caps no tenant's rules can raise (0 = none) */
};

#endif
