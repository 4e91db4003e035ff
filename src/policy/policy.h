/* policy: the callout rules (docs/callout-rules.md) as pure functions of rules, counters
 * and a clock — number normalisation, the per-instance rule set and its JSON form,
 * blind-area location tables, and the checks of steps 6-12 in their documented order.
 *
 * Nothing here does I/O except the loaders (rule parse loads the work-time zone; the
 * location and blacklist loaders read files), which are blocking and run at start or
 * rule-load time. Loaded objects are immutable, so any thread may check against them
 * concurrently (the store's writer thread runs policy_check_counters inside the
 * transaction that inserts the session). */
#ifndef CCCD_POLICY_H
#define CCCD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "numbering/numbering.h"

struct policy_rules;
struct policy_data;

/* ---- results ------------------------------------------------------------------- */

/* A refusal, in the order the checks run (docs/callout-rules.md); each maps to exactly
 * one TCCC error code. A larger value is a check further down the pipeline. */
enum policy_result {
	POLICY_OK = 0,
	POLICY_PERMISSION_DENIED,     /* FailedOperation.PermissionDenied (step 3) */
	POLICY_PACKAGE_EXPIRED,       /* LimitExceeded.BasePackageExpired (step 4) */
	POLICY_CALLEE_BLACKLISTED,    /* FailedOperation.CalleeIsBlackUser (6) */
	POLICY_BLIND_AREA,            /* FailedOperation.CalloutRuleBlindArea (7) */
	POLICY_NOT_WORK_TIME,         /* FailedOperation.CalloutRuleNotWorkTime (8) */
	POLICY_CALLEE_INTERVAL,       /* FailedOperation.CalloutRuleMaxCallCountCalleeIntervalTime (9) */
	POLICY_CALLEE_DAILY,          /* FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID (10) */
	POLICY_NO_CALLER,             /* FailedOperation.NoCallOutNumber (11) */
	POLICY_CALLER_OVER_FREQUENCY, /* FailedOperation.CallerOverFrequency (11) */
	POLICY_AI_NO_PACKAGE,         /* FailedOperation.AIConcurrentNoPackage (12) */
	POLICY_AI_OVER_FREQUENCY,     /* FailedOperation.AIConcurrentOverFrequency (12) */
	POLICY_TENANT_CHANNELS,       /* LimitExceeded: tenant_caps.channels (toll fraud) */
	POLICY_TENANT_MINUTES,        /* LimitExceeded.BasePackageExpired: tenant_caps.minutes_daily */
};

/* The TCCC error code ("FailedOperation.CalleeIsBlackUser"); "" for POLICY_OK. */
const char *policy_result_code(enum policy_result r);

/* The EndStatus a blocked auto-callout task call gets (108-111; 0 "error" where TCCC
 * documents none). */
int policy_result_end_status(enum policy_result r);

/* Which rule refused and why, for the API's error message and the logs. */
struct policy_verdict {
	enum policy_result result;
	char msg[192];
};

/* ---- number normalisation (docs/callout-rules.md §3.2) ---------------------------- */

/* `in` as "00" + country code + national significant number, digits only
 * ("+86 138-0013-8000" -> "008613800138000"); a national number is read in country
 * `default_cc` (digits, "86" when NULL or ""). EINVAL with the reason in why (may be
 * NULL) when the number is malformed: that is InvalidParameterValue. */
int policy_number_normalise(const char *in, const char *default_cc, char out[33],
			    char *why, size_t whysz);

/* Steps 1-2 alone, the syntax every number has before any country's rules apply: digits
 * with separators (space - . ( )), an optional leading "+" or "00", 3 to 20 digits. out
 * gets the digits, "+" written "00" — a string with nothing else in it, so nothing else
 * ever reaches a dial string. The API checks numbers with this before it knows the
 * instance's country; EINVAL with the reason in why. */
int policy_number_syntax(const char *in, char out[33], char *why, size_t whysz);

/* What a normalised number reaches, for the rules that depend on it (the destination
 * allow-list's premium and international blocks, blind areas): its type by its country's
 * plan — China's by the TCCC rules above (160 and 168 premium, 1 + 10 digits mobile, 400
 * shared cost, 800 toll free, else fixed line) — whether it leaves the instance's country
 * default_cc ("86" when NULL or ""), and whether it is billed above an ordinary call.
 *
 * `premium` is the one answer to "is this a premium-rate or fraud-prone number" (the
 * destination allow-list asks nothing else): the type NUMBERING_PREMIUM (libphonenumber's
 * PREMIUM_RATE where it knows the country; China's 160/168 by the rules above, which
 * libphonenumber does not list), NUMBERING_PERSONAL (follow-me numbers such as the UK's
 * 070, billed like premium ones and a favourite of fraud), and NANP numbers of a region
 * outside the United States, Canada and the US territories (libphonenumber's region of
 * the number: Jamaica's 876, the Bahamas' 242 — dialled like domestic numbers, billed as
 * international). EINVAL when number is not in the normalised "00" form. */
struct policy_number_kind {
	enum numbering_type type;
	bool international;
	bool premium;
};

int policy_number_kind(const char *number, const char *default_cc,
		       struct policy_number_kind *kind);

/* ---- the instance rule set --------------------------------------------------------- */

/* Every setting of §3.1. Top-level settings apply to platform numbers; the "own" object
 * overrides the switches and limits (never zones, windows, lists or counting windows,
 * so that every counter has one window per instance) for customer-owned numbers:
 *
 * {"default_cc": "86",
 *  "work_time": {"enabled": true, "zone": "Asia/Shanghai",
 *                "windows": [{"days": ["Mon-Fri", "Sun"], "start": "08:00", "end": "21:00"}],
 *                "holidays": ["2026-10-01"]},
 *  "blind_area": {"enabled": true, "regions": ["CN-XJ", "CN-XZ"], "unknown_location": "allow"},
 *  "callee_interval": {"max": 3, "window_s": 300},
 *  "callee_daily": {"max": 5, "mode": "rolling24h"},
 *  "caller_freq": {"max": 0, "window_s": 0},
 *  "caller_concurrency": 1,
 *  "blacklist": {"enabled": true, "entries": ["008613800138000", "+86170*"]},
 *  "own": {"work_time": {"enabled": false}, "blind_area": {"enabled": false},
 *          "callee_interval": {"max": 0}, "callee_daily": {"max": 0},
 *          "caller_freq": {"max": 0}, "caller_concurrency": 0,
 *          "blacklist": {"enabled": true}}}
 *
 * Absent settings take the defaults above (max 0 = no limit, caller_concurrency 0 =
 * unlimited). Licence facts (edition, package expiry, AI channels) live in the instance
 * row (store_instance) and are passed to the checks, not kept here. */
enum policy_class {
	POLICY_PLATFORM = 0,  /* numbers obtained through the platform (carrier rules) */
	POLICY_OWN = 1,       /* customer-owned (BYO) numbers */
	POLICY_N_CLASSES
};

/* Parses the JSON text of a rule set. EINVAL with why naming the field
 * ("work_time.windows[1].start: '25:00' is not HH:MM[:SS]"); ENOMEM. Blocking: loads the
 * work-time zone from disk (tz_load). mem_deref frees. */
int policy_rules_parse(struct policy_rules **rp, const char *json, size_t len, char *why,
		       size_t whysz);

/* The defaults (every setting absent), and the "demo" set: calls at any hour, no
 * per-callee or per-caller limit; blacklist and blind areas as the defaults. Blocking. */
int policy_rules_default(struct policy_rules **rp);
int policy_rules_demo(struct policy_rules **rp);

/* The complete JSON text (every setting explicit; parse gives the same rules back), as a
 * NUL-terminated string owned by the caller (mem_deref). */
int policy_rules_json(const struct policy_rules *r, char **jsonp);

/* The same rule set without loading its work-time zone, so nothing blocks: for the
 * destination checks and caps only (the control loop asks them during a call); the
 * work-time checks must not be asked of it. */
int policy_rules_parse_dest(struct policy_rules **rp, const char *json, size_t len,
			    char *why, size_t whysz);

/* ---- destinations and tenant caps (toll fraud) --------------------------------------
 *
 * {"destinations": {"allow": ["+44*", "0012125550100", "*"], "international": false,
 *                   "premium": false},
 *  "tenant_caps": {"channels": 0, "minutes_daily": 0}}
 *
 * A destination matching an "allow" entry (a number or a prefix ending in '*', read in
 * default_cc like the blacklist's; "*" alone: every number; digits the numbering plan
 * cannot read — an extension, a short code such as "7001" — by exactly that name, and
 * only so) may be dialled; otherwise a
 * number in another country than default_cc is refused unless "international", and a
 * premium-rate number (policy_number_kind's premium) unless "premium". Caps: 0 = none. */

/* 0 when a transfer (or a number built from caller input) may dial `number`; EACCES with
 * the reason in why when the allow-list refuses it; EINVAL when it is not a number. What
 * is premium-rate is policy_number_kind's `premium`, nothing else. */
int policy_dest_check(const struct policy_rules *r, const char *number, char *why,
		      size_t whysz);
uint32_t policy_caps_channels(const struct policy_rules *r);
uint32_t policy_caps_minutes_daily(const struct policy_rules *r);

/* The operator's caps ([policy] tenant_channels_max, tenant_minutes_daily_max in
 * cccd.conf) bound every tenant's: r's tenant_caps may lower them, never raise them (a
 * tenant cap of 0 or above the operator's leaves the operator's). Called once on a rule
 * set just parsed, before anything else reads it; d may be NULL (no operator caps). The
 * rule set's JSON (policy_rules_json) stays the tenant's own. */
void policy_rules_operator_caps(struct policy_rules *r, const struct policy_data *d);

/* Parsed rule sets per instance (cache.c), keyed by the instance and the rule set's text
 * as read from the store, so that a changed text is a miss wherever it was changed: no
 * invalidation. policy_cache_rules gives the rules of `text` ("" = the defaults), with
 * d's operator caps applied, parsing them only when the instance's cached text differs
 * (errors as policy_rules_parse; blocking then: the zone's file); every rule set it gives
 * goes back through policy_cache_release. Thread-safe; d is not owned. */
struct policy_cache;
int policy_cache_alloc(struct policy_cache **cp, const struct policy_data *d);
int policy_cache_rules(struct policy_cache *c, uint64_t sdkappid, const char *text,
		       const struct policy_rules **rp, char *why, size_t whysz);
void policy_cache_release(struct policy_cache *c, const struct policy_rules *r);

/* The instance's default country code for national numbers ("86"). */
const char *policy_rules_default_cc(const struct policy_rules *r);

/* ---- system-wide data: location tables and the global blacklist --------------------- */

/* Holds prefix -> region tables (blind areas) and the global (operator-wide) blacklist.
 * Empty when allocated; filled by the loaders at start. Blocking loaders. */
int policy_data_alloc(struct policy_data **dp);

/* A location table: a file, or every "*.txt" file in a folder (data/blind-areas/).
 * Lines: "prefix [region]" where prefix is the start of a normalised number ("0086891",
 * "+861390991") and region a code like "CN-XJ"; without a region the file's name
 * ("CN-XJ.txt") is the region. '#' starts a comment; blank lines are ignored. EINVAL
 * with "file:line: reason" in why; a prefix given twice with different regions is an
 * error. */
int policy_data_load_locations(struct policy_data *d, const char *path, char *why,
			       size_t whysz);

/* The operator's caps on every tenant (0 = none): concurrent outbound channels and
 * answered outbound minutes a day; see policy_rules_operator_caps. */
void policy_data_caps(struct policy_data *d, uint32_t channels, uint32_t minutes_daily);

/* The global blacklist: a file of entries as in blacklist.entries, one per line. */
int policy_data_load_blacklist(struct policy_data *d, const char *path, char *why,
			       size_t whysz);

/* The region of a normalised number into region (16 bytes suffice): the longest matching
 * table prefix; otherwise "CC-<country code>" for non-Chinese numbers and "" (location
 * known, no region) for Chinese fixed lines and 400/800 numbers. ENOENT when the location
 * is unknown: a Chinese mobile number no table covers. d may be NULL (no tables). */
int policy_data_region(const struct policy_data *d, const char *number, char *region,
		       size_t regionsz);

/* ---- the checks --------------------------------------------------------------------- */

/* Steps 3-4 from the instance row: CreateIVRSession needs the advanced edition; the
 * package must not have expired (expires_at 0 = never). */
enum policy_result policy_check_licence(bool advanced, int64_t package_expires_at,
					int64_t now, struct policy_verdict *v);

/* Steps 6-8, one at a time, for a normalised callee (v may be NULL). The global
 * blacklist of d counts as well as the instance's. */
enum policy_result policy_check_blacklist(const struct policy_rules *r,
					  const struct policy_data *d, enum policy_class cls,
					  const char *callee, struct policy_verdict *v);
enum policy_result policy_check_blind_area(const struct policy_rules *r,
					   const struct policy_data *d, enum policy_class cls,
					   const char *callee, struct policy_verdict *v);
enum policy_result policy_check_work_time(const struct policy_rules *r,
					  enum policy_class cls, int64_t now,
					  struct policy_verdict *v);

/* Steps 6-8 for every number class at once, before any counting. Returns POLICY_OK if
 * some class passes (the counters decide), else the refusal (the same for all classes
 * when the classes agree; otherwise the one further down the pipeline). */
struct policy_static {
	struct policy_verdict cls[POLICY_N_CLASSES];
};

enum policy_result policy_check_static(const struct policy_rules *r,
				       const struct policy_data *d, const char *callee,
				       int64_t now, struct policy_static *st);

/* What the store must count, as "start_ts >= since" over the instance's sessions that
 * placed or will place a call: rolling windows are (now - window, now], so a call drops
 * out exactly window seconds after it started; the calendar day starts at local midnight
 * of the work-time zone. */
struct policy_windows {
	int64_t callee_interval_since;
	int64_t callee_daily_since;
	int64_t caller_since;
	/* Which counts some class's limits read; the others need not be made. */
	bool callee_interval_used;
	bool callee_daily_used;
	bool caller_live_used;
	bool caller_recent_used;
	/* tenant_caps: the instance's live outbound calls and its answered outbound seconds
	 * of the calendar day (zone's) that started at caps_day_since */
	int64_t caps_day_since;
	bool caps_channels_used;
	bool caps_minutes_used;
};

int policy_windows(const struct policy_rules *r, int64_t now, struct policy_windows *w);

/* The counts, as plain numbers, over the windows above. Candidates are the caller
 * numbers left after the caller's own filtering (owned, enabled), in preference order. */
struct policy_caller {
	enum policy_class cls;
	uint32_t live;    /* unfinished calls using the number, inbound and outbound */
	uint32_t recent;  /* calls placed from it since caller_since */
};

struct policy_counts {
	uint32_t callee_interval;  /* calls to the callee since callee_interval_since */
	uint32_t callee_daily;     /* ... since callee_daily_since */
	const struct policy_caller *callers;
	size_t n_callers;
	bool ai_needed;            /* the IVR has an AI/speech node */
	uint32_t ai_licences;      /* store_instance.ai_channels */
	uint32_t ai_in_use;        /* AI sessions live now */
	uint32_t channels_live;    /* the instance's unfinished outbound sessions */
	uint32_t seconds_today;    /* its answered outbound seconds since caps_day_since */
};

/* The per-tenant caps alone: POLICY_TENANT_CHANNELS when `channels_live` calls are
 * already up against the channel cap, POLICY_TENANT_MINUTES when the day's answered
 * seconds reached the minute cap; POLICY_OK otherwise. The cap that binds is the lower of
 * the tenant's (tenant_caps) and the operator's (policy_rules_operator_caps), and the
 * verdict's message names which refused. Checked first by policy_check_counters, and
 * callable on its own (a dial queue, a transfer's leg). */
enum policy_result policy_check_caps(const struct policy_rules *r, uint32_t channels_live,
				     uint32_t seconds_today, struct policy_verdict *v);

/* Steps 9-12: for each candidate in order, its class's static verdict, the callee caps,
 * then the number's own concurrency and frequency; the first candidate that passes is
 * chosen (*chosenp). No candidate -> the platform class's verdict, else NoCallOutNumber.
 * When every candidate is refused the answer is the refusal furthest down the pipeline
 * (all over their limits -> CallerOverFrequency). Then the AI licences.
 *
 * Counts only ever make the answer worse: called with all counts zero before the
 * transaction, it gives every refusal that does not depend on counting. */
enum policy_result policy_check_counters(const struct policy_rules *r,
					 const struct policy_static *st,
					 const struct policy_counts *c, size_t *chosenp,
					 struct policy_verdict *v);

#endif
