/* policy: the per-instance rule set — defaults, JSON parse with field-naming errors, JSON out. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include "tz/tz.h"
#include "policy/policy.h"
#include "policy/policy_int.h"
#include "numbering/numbering.h"

/* Bounds on what one instance may configure: large enough for any real use, small
 * enough that a hostile rule set cannot cost much. */
enum {
	RULES_JSON_MAX = 8 << 20,
	RULES_MAX_WINDOWS = 32,
	RULES_MAX_HOLIDAYS = 2000,
	RULES_MAX_REGIONS = 64,
	RULES_MAX_BLACKLIST = 200000,
	RULES_MAX_COUNT = 1000000,
	RULES_MAX_WINDOW_S = 31 * 86400,
	RULES_ZONE_MAX = 64,
};


/* Parse state: the JSON path of the value being read, for error messages. */
struct pctx {
	char path[160];
	char *why;
	size_t whysz;
};

static int perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct pctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->why && c->whysz)
		snprintf(c->why, c->whysz, "%s%s%s", c->path, c->path[0] ? ": " : "", msg);
	return EINVAL;
}

static size_t push_key(struct pctx *c, const char *key)
{
	size_t mark = strlen(c->path);

	snprintf(c->path + mark, sizeof(c->path) - mark, "%s%s", mark ? "." : "", key);
	return mark;
}

static size_t push_idx(struct pctx *c, size_t i)
{
	size_t mark = strlen(c->path);

	snprintf(c->path + mark, sizeof(c->path) - mark, "[%zu]", i);
	return mark;
}

static void pop(struct pctx *c, size_t mark)
{
	c->path[mark] = '\0';
}

static bool in_list(const char *const *list, const char *key)
{
	for (; list && *list; list++) {
		if (strcmp(*list, key) == 0)
			return true;
	}
	return false;
}

/* Every key of o must be in `allowed`; keys in `shared` get a clearer refusal. */
static int check_keys(struct pctx *c, json_t *o, const char *const *allowed,
		      const char *const *shared)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		if (in_list(allowed, key))
			continue;
		push_key(c, key);
		if (in_list(shared, key))
			return perr(c, "cannot be set per number class (only switches and limits)");
		return perr(c, "unknown setting");
	}
	return 0;
}

/* Sub-object `key` of o; NULL when absent. */
static int get_obj(struct pctx *c, json_t *o, const char *key, json_t **subp)
{
	json_t *v = json_object_get(o, key);

	*subp = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v)) {
		size_t mark = push_key(c, key);
		int err = perr(c, "must be an object");

		pop(c, mark);
		return err;
	}
	*subp = v;
	return 0;
}

static int get_bool(struct pctx *c, json_t *o, const char *key, bool *vp)
{
	json_t *v = json_object_get(o, key);
	size_t mark;

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		mark = push_key(c, key);
		perr(c, "must be true or false");
		pop(c, mark);
		return EINVAL;
	}
	*vp = json_is_true(v);
	return 0;
}

static int get_uint(struct pctx *c, json_t *o, const char *key, uint32_t max, uint32_t *vp)
{
	json_t *v = json_object_get(o, key);
	size_t mark;

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)max) {
		mark = push_key(c, key);
		perr(c, "must be an integer from 0 to %u", max);
		pop(c, mark);
		return EINVAL;
	}
	*vp = (uint32_t)json_integer_value(v);
	return 0;
}

/* One of `choices`; *idxp its index. */
static int get_choice(struct pctx *c, json_t *o, const char *key, const char *const *choices,
		      int *idxp)
{
	json_t *v = json_object_get(o, key);
	size_t mark;
	int i;

	if (!v)
		return 0;
	for (i = 0; json_is_string(v) && choices[i]; i++) {
		if (strcmp(json_string_value(v), choices[i]) == 0) {
			*idxp = i;
			return 0;
		}
	}
	mark = push_key(c, key);
	perr(c, "must be \"%s\" or \"%s\"", choices[0], choices[1]);
	pop(c, mark);
	return EINVAL;
}

/* An array under key (NULL when absent) of at most max items. */
static int get_array(struct pctx *c, json_t *o, const char *key, size_t max, json_t **ap)
{
	json_t *v = json_object_get(o, key);
	size_t mark;

	*ap = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > max) {
		mark = push_key(c, key);
		perr(c, "must be an array of at most %zu items", max);
		pop(c, mark);
		return EINVAL;
	}
	*ap = v;
	return 0;
}

static int parse_window(struct pctx *c, json_t *o, struct hours_window *w)
{
	static const char *const keys[] = {"days", "start", "end", NULL};
	json_t *days, *v;
	size_t mark, i;
	char a[16], b[16];
	int err;

	if (!json_is_object(o))
		return perr(c, "must be an object {days, start, end}");
	err = check_keys(c, o, keys, NULL);
	if (err)
		return err;

	err = get_array(c, o, "days", 7, &days);
	if (err)
		return err;
	w->days = days ? 0 : 0x7f;
	if (days) {
		mark = push_key(c, "days");
		if (json_array_size(days) == 0)
			return perr(c, "empty (leave it out for every day)");
		json_array_foreach(days, i, v) {
			size_t base = push_idx(c, i);

			if (json_is_integer(v) ? hours_day_iso(json_integer_value(v), &w->days) :
			    !json_is_string(v) || hours_days_parse(json_string_value(v), &w->days))
				return perr(c, "must be a day Mon..Sun, a range like \"Mon-Fri\" "
					    "or an ISO day number 1 (Monday)..7");
			pop(c, base);
		}
		pop(c, mark);
	}

	for (i = 0; i < 2; i++) {
		const char *key = i ? "end" : "start";
		uint32_t *dst = i ? &w->end : &w->start;

		v = json_object_get(o, key);
		mark = push_key(c, key);
		if (!v)
			return perr(c, "missing");
		if (!json_is_string(v) || hours_time_parse(json_string_value(v), i == 1, dst)) {
			if (json_is_string(v))
				return perr(c, "'%.32s' is not HH:MM[:SS]", json_string_value(v));
			return perr(c, "must be a string HH:MM[:SS]");
		}
		pop(c, mark);
	}
	if (w->start >= w->end) {
		snprintf(a, sizeof(a), "%02u:%02u:%02u", w->start / 3600, w->start / 60 % 60,
			 w->start % 60);
		snprintf(b, sizeof(b), "%02u:%02u:%02u", w->end / 3600, w->end / 60 % 60,
			 w->end % 60);
		return perr(c, "start %s is not before end %s (a window may not cross midnight: "
			    "write two)", a, b);
	}
	return 0;
}

static int parse_work_time(struct pctx *c, json_t *o, struct policy_rules *r,
			   struct policy_limits *lim, bool own, char *zone)
{
	static const char *const all[] = {"enabled", "zone", "windows", "holidays", NULL};
	static const char *const own_keys[] = {"enabled", NULL};
	json_t *a, *v;
	size_t mark, i;
	int err;

	err = check_keys(c, o, own ? own_keys : all, all);
	if (!err)
		err = get_bool(c, o, "enabled", &lim->work_time);
	if (err || own)
		return err;

	v = json_object_get(o, "zone");
	if (v) {
		mark = push_key(c, "zone");
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= RULES_ZONE_MAX)
			return perr(c, "must be an IANA time zone name like \"Asia/Shanghai\"");
		snprintf(zone, RULES_ZONE_MAX, "%s", json_string_value(v));
		pop(c, mark);
	}

	err = get_array(c, o, "windows", RULES_MAX_WINDOWS, &a);
	if (err)
		return err;
	if (a) {
		mark = push_key(c, "windows");
		if (json_array_size(a) == 0)
			return perr(c, "empty (set work_time.enabled to false to allow any time)");
		r->windows = mem_reallocarray(NULL, json_array_size(a), sizeof(*r->windows), NULL);
		if (!r->windows)
			return ENOMEM;
		json_array_foreach(a, i, v) {
			size_t base = push_idx(c, i);

			err = parse_window(c, v, &r->windows[i]);
			if (err)
				return err;
			pop(c, base);
		}
		r->n_windows = json_array_size(a);
		pop(c, mark);
	}

	err = get_array(c, o, "holidays", RULES_MAX_HOLIDAYS, &a);
	if (err || !a)
		return err;
	mark = push_key(c, "holidays");
	r->holidays = mem_reallocarray(NULL, json_array_size(a) + 1, sizeof(*r->holidays), NULL);
	if (!r->holidays)
		return ENOMEM;
	json_array_foreach(a, i, v) {
		size_t base = push_idx(c, i);

		if (!json_is_string(v) || hours_date_parse(json_string_value(v), &r->holidays[i])) {
			if (json_is_string(v))
				return perr(c, "'%.32s' is not a date YYYY-MM-DD", json_string_value(v));
			return perr(c, "must be a date string YYYY-MM-DD");
		}
		pop(c, base);
	}
	r->n_holidays = json_array_size(a);
	hours_dates_sort(r->holidays, r->n_holidays);
	pop(c, mark);
	return 0;
}

static int parse_blind_area(struct pctx *c, json_t *o, struct policy_rules *r,
			    struct policy_limits *lim, bool own)
{
	static const char *const all[] = {"enabled", "regions", "unknown_location", NULL};
	static const char *const own_keys[] = {"enabled", NULL};
	static const char *const unknown[] = {"allow", "deny", NULL};
	json_t *a, *v;
	size_t mark, i, j;
	int idx = r->unknown_deny, err;

	err = check_keys(c, o, own ? own_keys : all, all);
	if (!err)
		err = get_bool(c, o, "enabled", &lim->blind_area);
	if (err || own)
		return err;
	err = get_choice(c, o, "unknown_location", unknown, &idx);
	if (err)
		return err;
	r->unknown_deny = idx == 1;

	err = get_array(c, o, "regions", RULES_MAX_REGIONS, &a);
	if (err || !a)
		return err;
	mark = push_key(c, "regions");
	r->regions = mem_reallocarray(r->regions, json_array_size(a) + 1, sizeof(*r->regions),
				      NULL);
	if (!r->regions)
		return ENOMEM;
	r->n_regions = 0;
	json_array_foreach(a, i, v) {
		bool dup = false;
		size_t base = push_idx(c, i);

		if (!json_is_string(v) || !policy_region_ok(json_string_value(v)))
			return perr(c, "must be a region code like \"CN-XJ\" or \"CC-44\"");
		for (j = 0; j < r->n_regions; j++)
			dup = dup || strcmp(r->regions[j], json_string_value(v)) == 0;
		if (!dup)
			snprintf(r->regions[r->n_regions++], sizeof(r->regions[0]), "%s",
				 json_string_value(v));
		pop(c, base);
	}
	pop(c, mark);
	return 0;
}

static int parse_counter(struct pctx *c, json_t *o, bool own, uint32_t *maxp,
			 uint32_t *windowp, int *modep)
{
	static const char *const interval[] = {"max", "window_s", NULL};
	static const char *const daily[] = {"max", "mode", NULL};
	static const char *const own_keys[] = {"max", NULL};
	static const char *const modes[] = {"rolling24h", "calendar", NULL};
	const char *const *all = modep ? daily : interval;
	int err;

	err = check_keys(c, o, own ? own_keys : all, all);
	if (!err)
		err = get_uint(c, o, "max", RULES_MAX_COUNT, maxp);
	if (err || own)
		return err;
	if (modep)
		return get_choice(c, o, "mode", modes, modep);
	return get_uint(c, o, "window_s", RULES_MAX_WINDOW_S, windowp);
}

static int parse_blacklist(struct pctx *c, json_t *o, struct policy_rules *r,
			   struct policy_limits *lim, bool own)
{
	static const char *const all[] = {"enabled", "entries", NULL};
	static const char *const own_keys[] = {"enabled", NULL};
	char reason[160];
	json_t *a, *v;
	size_t mark, i;
	int err;

	err = check_keys(c, o, own ? own_keys : all, all);
	if (!err)
		err = get_bool(c, o, "enabled", &lim->blacklist);
	if (err || own)
		return err;
	err = get_array(c, o, "entries", RULES_MAX_BLACKLIST, &a);
	if (err || !a)
		return err;
	mark = push_key(c, "entries");
	json_array_foreach(a, i, v) {
		size_t base = push_idx(c, i);

		if (!json_is_string(v))
			return perr(c, "must be a number or a prefix ending in '*'");
		err = blist_add(&r->blacklist, json_string_value(v), r->default_cc, reason,
				sizeof(reason));
		if (err == EINVAL)
			return perr(c, "%s", reason);
		if (err)
			return err;
		pop(c, base);
	}
	pop(c, mark);
	return blist_finish(&r->blacklist);
}

static int parse_destinations(struct pctx *c, json_t *o, struct policy_rules *r)
{
	static const char *const keys[] = {"allow", "international", "premium", NULL};
	char reason[160];
	json_t *a, *v;
	size_t mark, i;
	int err;

	err = check_keys(c, o, keys, NULL);
	err = err ? err : get_bool(c, o, "international", &r->dest.international);
	err = err ? err : get_bool(c, o, "premium", &r->dest.premium);
	err = err ? err : get_array(c, o, "allow", RULES_MAX_BLACKLIST, &a);
	if (err || !a)
		return err;
	mark = push_key(c, "allow");
	json_array_foreach(a, i, v) {
		size_t base = push_idx(c, i);

		if (!json_is_string(v))
			return perr(c, "must be a number, a prefix ending in '*', or '*'");
		if (!strcmp(json_string_value(v), "*"))
			r->dest.allow_all = true;
		else {
			err = blist_add(&r->dest.allow, json_string_value(v), r->default_cc,
					reason, sizeof(reason));
			if (err == EINVAL && policy_dest_named_ok(json_string_value(v)))
				err = pset_add(&r->dest.named, json_string_value(v), 0);
			if (err == EINVAL)
				return perr(c, "%s", reason);
			if (err)
				return err;
		}
		pop(c, base);
	}
	pop(c, mark);
	err = blist_finish(&r->dest.allow);
	return err ? err : pset_finish(&r->dest.named, NULL, NULL, NULL);
}

static int parse_caps(struct pctx *c, json_t *o, struct policy_rules *r)
{
	static const char *const keys[] = {"channels", "minutes_daily", NULL};
	int err = check_keys(c, o, keys, NULL);

	err = err ? err : get_uint(c, o, "channels", RULES_MAX_COUNT, &r->caps.channels);
	return err ? err : get_uint(c, o, "minutes_daily", RULES_MAX_COUNT,
				    &r->caps.minutes_daily);
}

/* The settings of one class: the top level (platform, with the shared settings) or the
 * "own" object (switches and limits only). */
static int parse_level(struct pctx *c, json_t *o, struct policy_rules *r, bool own,
		       char *zone, int *daily_mode)
{
	static const char *const top[] = {
		"default_cc", "work_time", "blind_area", "callee_interval", "callee_daily",
		"caller_freq", "caller_concurrency", "blacklist", "own", "destinations",
		"tenant_caps", NULL};
	static const char *const own_keys[] = {
		"work_time", "blind_area", "callee_interval", "callee_daily", "caller_freq",
		"caller_concurrency", "blacklist", NULL};
	struct policy_limits *lim = &r->cls[own ? POLICY_OWN : POLICY_PLATFORM];
	json_t *sub, *v;
	size_t mark;
	int err;

	err = check_keys(c, o, own ? own_keys : top, top);
	if (err)
		return err;

	v = json_object_get(o, "default_cc");
	if (v && !own) {
		mark = push_key(c, "default_cc");
		if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 3 ||
		    strspn(json_string_value(v), "0123456789") != json_string_length(v) ||
		    numbering_cc_len(json_string_value(v)) != json_string_length(v))
			return perr(c, "must be a country calling code like \"86\"");
		snprintf(r->default_cc, sizeof(r->default_cc), "%s", json_string_value(v));
		pop(c, mark);
	}

#define SECTION(key, call)                                   \
	do {                                                 \
		err = get_obj(c, o, key, &sub);              \
		if (err)                                     \
			return err;                          \
		if (sub) {                                   \
			mark = push_key(c, key);             \
			err = (call);                        \
			if (err)                             \
				return err;                  \
			pop(c, mark);                        \
		}                                            \
	} while (0)

	SECTION("work_time", parse_work_time(c, sub, r, lim, own, zone));
	SECTION("blind_area", parse_blind_area(c, sub, r, lim, own));
	SECTION("callee_interval", parse_counter(c, sub, own, &lim->callee_interval_max,
						 &r->callee_interval_window, NULL));
	SECTION("callee_daily", parse_counter(c, sub, own, &lim->callee_daily_max, NULL,
					      daily_mode));
	SECTION("caller_freq", parse_counter(c, sub, own, &lim->caller_freq_max,
					     &r->caller_freq_window, NULL));
	SECTION("blacklist", parse_blacklist(c, sub, r, lim, own));
	if (!own) {
		SECTION("destinations", parse_destinations(c, sub, r));
		SECTION("tenant_caps", parse_caps(c, sub, r));
	}
#undef SECTION

	err = get_uint(c, o, "caller_concurrency", RULES_MAX_COUNT, &lim->caller_concurrency);
	if (err || own)
		return err;

	err = get_obj(c, o, "own", &sub);
	if (err || !sub)
		return err;
	mark = push_key(c, "own");
	err = parse_level(c, sub, r, true, zone, daily_mode);
	if (!err)
		pop(c, mark);
	return err;
}

static void rules_destructor(void *arg)
{
	struct policy_rules *r = arg;

	mem_deref(r->zone);
	mem_deref(r->windows);
	mem_deref(r->holidays);
	mem_deref(r->regions);
	blist_reset(&r->blacklist);
	blist_reset(&r->dest.allow);
	pset_reset(&r->dest.named);
}

/* The defaults of callout-rules.md §3.1: TCCC's rules for platform numbers, everything
 * but the blacklist off for own numbers. */
static void set_defaults(struct policy_rules *r)
{
	snprintf(r->default_cc, sizeof(r->default_cc), "86");
	r->cls[POLICY_PLATFORM] = (struct policy_limits){
		.work_time = true, .blind_area = true, .blacklist = true,
		.callee_interval_max = 3, .callee_daily_max = 5, .caller_freq_max = 0,
		.caller_concurrency = 1,
	};
	r->cls[POLICY_OWN] = (struct policy_limits){
		.work_time = false, .blind_area = false, .blacklist = true,
		.callee_interval_max = 0, .callee_daily_max = 0, .caller_freq_max = 0,
		.caller_concurrency = 0,
	};
	r->callee_interval_window = 300;
	r->caller_freq_window = 0;
	r->daily_calendar = false;
	r->unknown_deny = false;
}

static int set_default_lists(struct policy_rules *r)
{
	if (!r->windows) {
		r->windows = mem_zalloc(sizeof(*r->windows), NULL);
		if (!r->windows)
			return ENOMEM;
		r->windows[0] = (struct hours_window){.days = 0x7f, .start = 8 * 3600,
						       .end = 21 * 3600};
		r->n_windows = 1;
	}
	if (!r->regions) {
		r->regions = mem_zalloc(2 * sizeof(*r->regions), NULL);
		if (!r->regions)
			return ENOMEM;
		snprintf(r->regions[0], sizeof(r->regions[0]), "CN-XJ");
		snprintf(r->regions[1], sizeof(r->regions[1]), "CN-XZ");
		r->n_regions = 2;
	}
	return 0;
}

static int rules_parse(struct policy_rules **rp, const char *json, size_t len, char *why,
		       size_t whysz, bool load_zone)
{
	struct pctx c = {.why = why, .whysz = whysz};
	char zone[RULES_ZONE_MAX] = "Asia/Shanghai";
	struct policy_rules *r;
	json_error_t jerr;
	json_t *root = NULL;
	int daily_mode = 0, err;

	if (why && whysz)
		why[0] = '\0';
	if (!rp || (!json && len))
		return EINVAL;
	if (len > RULES_JSON_MAX)
		return perr(&c, "rule set longer than %d bytes", RULES_JSON_MAX);

	r = mem_zalloc(sizeof(*r), rules_destructor);
	if (!r)
		return ENOMEM;
	set_defaults(r);

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		err = perr(&c, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			   jerr.column);
		goto out;
	}
	if (!json_is_object(root)) {
		err = perr(&c, "the rule set must be a JSON object");
		goto out;
	}

	err = parse_level(&c, root, r, false, zone, &daily_mode);
	if (err)
		goto out;
	r->daily_calendar = daily_mode == 1;

	for (int k = 0; k < POLICY_N_CLASSES; k++) {
		if (r->cls[k].callee_interval_max && !r->callee_interval_window) {
			err = perr(&c, "callee_interval.window_s: must be above 0 when a max is set");
			goto out;
		}
		if (r->cls[k].caller_freq_max && !r->caller_freq_window) {
			err = perr(&c, "caller_freq.window_s: must be above 0 when a max is set");
			goto out;
		}
	}

	err = set_default_lists(r);
	if (err)
		goto out;

	err = load_zone ? tz_load(&r->zone, zone) : 0;
	if (err == ENOENT || err == EINVAL)
		err = perr(&c, "work_time.zone: '%s' is not a known time zone", zone);
	else if (err)
		perr(&c, "work_time.zone: cannot load '%s': %s", zone, strerror(err));

out:
	json_decref(root);
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}

int policy_rules_parse(struct policy_rules **rp, const char *json, size_t len, char *why,
		       size_t whysz)
{
	return rules_parse(rp, json, len, why, whysz, true);
}

int policy_rules_parse_dest(struct policy_rules **rp, const char *json, size_t len,
			    char *why, size_t whysz)
{
	return rules_parse(rp, json, len, why, whysz, false);
}

int policy_rules_default(struct policy_rules **rp)
{
	return policy_rules_parse(rp, "{}", 2, NULL, 0);
}

int policy_rules_demo(struct policy_rules **rp)
{
	static const char demo[] =
		"{\"work_time\": {\"enabled\": false},"
		" \"callee_interval\": {\"max\": 0}, \"callee_daily\": {\"max\": 0},"
		" \"caller_freq\": {\"max\": 0}, \"caller_concurrency\": 0,"
		" \"own\": {\"work_time\": {\"enabled\": false}, \"callee_interval\": {\"max\": 0},"
		"  \"callee_daily\": {\"max\": 0}, \"caller_freq\": {\"max\": 0},"
		"  \"caller_concurrency\": 0}}";

	return policy_rules_parse(rp, demo, sizeof(demo) - 1, NULL, 0);
}

const char *policy_rules_default_cc(const struct policy_rules *r)
{
	return r ? r->default_cc : "86";
}

/* ---- JSON out ------------------------------------------------------------------- */

static json_t *hms_json(uint32_t s)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%02u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
	return json_string(buf);
}

static json_t *windows_json(const struct policy_rules *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_windows; i++) {
		json_t *days = json_array();

		for (int d = 0; days && d < 7; d++) {
			if (r->windows[i].days & (1u << d))
				json_array_append_new(days, json_string(hours_day_name((unsigned)d)));
		}
		json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "days", days,
						   "start", hms_json(r->windows[i].start),
						   "end", hms_json(r->windows[i].end)));
	}
	return a;
}

static json_t *holidays_json(const struct policy_rules *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_holidays; i++) {
		time_t t = (time_t)(r->holidays[i] * 86400);
		struct tm tm;
		char buf[16];

		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

static json_t *strings_json(const char (*v)[POLICY_REGION_MAX + 1], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *blacklist_json(const struct blist *b)
{
	json_t *a = json_array();
	char buf[POLICY_NUM_MAX + 2];

	for (size_t i = 0; a && i < b->exact.n; i++)
		json_array_append_new(a, json_string(b->exact.v[i].key));
	for (size_t i = 0; a && i < b->prefix.n; i++) {
		snprintf(buf, sizeof(buf), "%s*", b->prefix.v[i].key);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

static json_t *allow_json(const struct policy_dest *d)
{
	json_t *a = blacklist_json(&d->allow);

	for (size_t i = 0; a && i < d->named.n; i++)
		json_array_append_new(a, json_string(d->named.v[i].key));
	if (a && d->allow_all)
		json_array_append_new(a, json_string("*"));
	return a;
}

static json_t *own_json(const struct policy_limits *l)
{
	return json_pack("{s:{s:b}, s:{s:b}, s:{s:i}, s:{s:i}, s:{s:i}, s:i, s:{s:b}}",
			 "work_time", "enabled", l->work_time,
			 "blind_area", "enabled", l->blind_area,
			 "callee_interval", "max", (int)l->callee_interval_max,
			 "callee_daily", "max", (int)l->callee_daily_max,
			 "caller_freq", "max", (int)l->caller_freq_max,
			 "caller_concurrency", (int)l->caller_concurrency,
			 "blacklist", "enabled", l->blacklist);
}

int policy_rules_json(const struct policy_rules *r, char **jsonp)
{
	const struct policy_limits *p;
	json_t *root;
	char *text;
	int err;

	if (!r || !jsonp)
		return EINVAL;
	p = &r->cls[POLICY_PLATFORM];
	root = json_pack("{s:s, s:{s:b, s:s, s:o, s:o}, s:{s:b, s:o, s:s},"
			 " s:{s:i, s:i}, s:{s:i, s:s}, s:{s:i, s:i}, s:i, s:{s:b, s:o}, s:o,"
			 " s:{s:o, s:b, s:b}, s:{s:i, s:i}}",
			 "default_cc", r->default_cc,
			 "work_time", "enabled", p->work_time, "zone", tz_name(r->zone),
			 "windows", windows_json(r), "holidays", holidays_json(r),
			 "blind_area", "enabled", p->blind_area,
			 "regions", strings_json((const char (*)[POLICY_REGION_MAX + 1])r->regions,
						 r->n_regions),
			 "unknown_location", r->unknown_deny ? "deny" : "allow",
			 "callee_interval", "max", (int)p->callee_interval_max,
			 "window_s", (int)r->callee_interval_window,
			 "callee_daily", "max", (int)p->callee_daily_max,
			 "mode", r->daily_calendar ? "calendar" : "rolling24h",
			 "caller_freq", "max", (int)p->caller_freq_max,
			 "window_s", (int)r->caller_freq_window,
			 "caller_concurrency", (int)p->caller_concurrency,
			 "blacklist", "enabled", p->blacklist,
			 "entries", blacklist_json(&r->blacklist),
			 "own", own_json(&r->cls[POLICY_OWN]),
			 "destinations", "allow", allow_json(&r->dest),
			 "international", r->dest.international, "premium", r->dest.premium,
			 "tenant_caps", "channels", (int)r->caps.channels,
			 "minutes_daily", (int)r->caps.minutes_daily);
	if (!root)
		return ENOMEM;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return ENOMEM;
	err = str_dup(jsonp, text);
	free(text);
	return err;
}
