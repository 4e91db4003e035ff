/* policy: digit-string sets, blacklists, and the system-wide location tables (blind areas). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <re_types.h>
#include <re_mem.h>
#include "policy/policy.h"
#include "policy/policy_int.h"
#include "numbering/numbering.h"

/* Bounds that keep a broken file from costing much (a full mobile H-code table has about
 * 500 000 segments). */
enum { DATA_MAX_ENTRIES = 4000000, DATA_MAX_REGIONS = 4096, DATA_MAX_FILES = 1024 };

/* ---- pset ------------------------------------------------------------------------- */

void pset_reset(struct pset *s)
{
	s->v = mem_deref(s->v);
	s->n = s->cap = s->maxlen = 0;
}

int pset_add(struct pset *s, const char *key, uint16_t val)
{
	size_t len = strlen(key);

	if (len == 0 || len > POLICY_NUM_MAX)
		return EINVAL;
	if (s->n >= DATA_MAX_ENTRIES)
		return E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct pset_entry *v = mem_reallocarray(s->v, cap, sizeof(*v), NULL);

		if (!v)
			return ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v[s->n].key, key, len + 1);
	s->v[s->n].val = val;
	s->n++;
	if (len > s->maxlen)
		s->maxlen = len;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pset_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->val > y->val) - (x->val < y->val);
}

int pset_finish(struct pset *s, const char **dupp, uint16_t *v1, uint16_t *v2)
{
	size_t i, o = 0;

	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	for (i = 0; i < s->n; i++) {
		if (o > 0 && strcmp(s->v[o - 1].key, s->v[i].key) == 0) {
			if (s->v[o - 1].val != s->v[i].val) {
				if (dupp) {
					*dupp = s->v[i].key;
					*v1 = s->v[o - 1].val;
					*v2 = s->v[i].val;
				}
				return EEXIST;
			}
			continue;
		}
		if (o != i)
			s->v[o] = s->v[i];
		o++;
	}
	s->n = o;
	return 0;
}

const struct pset_entry *pset_find(const struct pset *s, const char *key, size_t len)
{
	size_t lo = 0, hi = s->n;

	if (len > POLICY_NUM_MAX)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(s->v[mid].key, key, len);

		if (c == 0 && s->v[mid].key[len] != '\0')
			c = 1;  /* the entry is longer than the key */
		if (c == 0)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct pset_entry *pset_longest(const struct pset *s, const char *digits,
				      size_t minlen)
{
	size_t len = strlen(digits);

	if (len > s->maxlen)
		len = s->maxlen;
	for (; len >= minlen && len > 0; len--) {
		const struct pset_entry *e = pset_find(s, digits, len);

		if (e)
			return e;
	}
	return NULL;
}

/* ---- blacklists ------------------------------------------------------------------- */

void blist_reset(struct blist *b)
{
	pset_reset(&b->exact);
	pset_reset(&b->prefix);
}

int blist_add(struct blist *b, const char *entry, const char *cc, char *why, size_t whysz)
{
	char norm[33];
	size_t len = strlen(entry);
	int err;

	while (len && (entry[len - 1] == ' ' || entry[len - 1] == '\t'))
		len--;
	if (len && entry[len - 1] == '*') {
		err = policy_prefix_normalise(entry, cc, norm, why, whysz);
		return err ? err : pset_add(&b->prefix, norm, 0);
	}
	err = policy_number_normalise(entry, cc, norm, why, whysz);
	return err ? err : pset_add(&b->exact, norm, 0);
}

int blist_finish(struct blist *b)
{
	int err = pset_finish(&b->exact, NULL, NULL, NULL);

	return err ? err : pset_finish(&b->prefix, NULL, NULL, NULL);
}

bool blist_match(const struct blist *b, const char *number, char *match, size_t matchsz)
{
	const struct pset_entry *e = pset_find(&b->exact, number, strlen(number));

	if (e) {
		snprintf(match, matchsz, "%s", e->key);
		return true;
	}
	e = pset_longest(&b->prefix, number, 1);
	if (e) {
		snprintf(match, matchsz, "%s*", e->key);
		return true;
	}
	return false;
}

/* ---- policy_data ------------------------------------------------------------------ */

static void data_destructor(void *arg)
{
	struct policy_data *d = arg;

	pset_reset(&d->loc);
	mem_deref(d->regions);
	blist_reset(&d->blacklist);
}

int policy_data_alloc(struct policy_data **dp)
{
	struct policy_data *d;

	if (!dp)
		return EINVAL;
	d = mem_zalloc(sizeof(*d), data_destructor);
	if (!d)
		return ENOMEM;
	*dp = d;
	return 0;
}

static int region_index(struct policy_data *d, const char *region, uint16_t *idxp)
{
	size_t i;
	char (*v)[POLICY_REGION_MAX + 1];

	for (i = 0; i < d->n_regions; i++) {
		if (strcmp(d->regions[i], region) == 0) {
			*idxp = (uint16_t)i;
			return 0;
		}
	}
	if (d->n_regions >= DATA_MAX_REGIONS)
		return E2BIG;
	v = mem_reallocarray(d->regions, d->n_regions + 1, sizeof(*v), NULL);
	if (!v)
		return ENOMEM;
	d->regions = v;
	snprintf(d->regions[d->n_regions], sizeof(d->regions[0]), "%s", region);
	*idxp = (uint16_t)d->n_regions++;
	return 0;
}

/* Cuts a line's comment and surrounding blanks; "" when nothing is left. */
static char *strip(char *line)
{
	char *p = strchr(line, '#'), *end;

	if (p)
		*p = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			      end[-1] == '\n'))
		*--end = '\0';
	return line;
}

/* Splits a stripped line into words; 3 means "more than two". */
static size_t words(char *line, char **w)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 2)
			return 3;
		w[n++] = tok;
	}
	return n;
}

/* The region a file's name gives ("CN-XJ.txt" -> "CN-XJ"), or "" when it gives none. */
static void file_region(const char *path, char *out, size_t outsz)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 4 && strcmp(base + len - 4, ".txt") == 0)
		len -= 4;
	out[0] = '\0';
	if (len < outsz) {
		memcpy(out, base, len);
		out[len] = '\0';
		if (!policy_region_ok(out))
			out[0] = '\0';
	}
}

typedef int (line_h)(struct policy_data *d, const char *path, unsigned lineno, char *line,
		     const char *def_region, char *why, size_t whysz);

static int read_lines(struct policy_data *d, const char *path, line_h *h, char *why,
		      size_t whysz)
{
	char def_region[POLICY_REGION_MAX + 1];
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t got;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f) {
		err = errno;
		policy_why(why, whysz, "%s: %s", path, strerror(err));
		return err;
	}
	file_region(path, def_region, sizeof(def_region));
	while ((got = getline(&line, &cap, f)) >= 0) {
		char *text;

		lineno++;
		if (got > 1024) {
			err = policy_why(why, whysz, "%s:%u: line too long", path, lineno);
			break;
		}
		text = strip(line);
		if (!*text)
			continue;
		err = h(d, path, lineno, text, def_region, why, whysz);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = policy_why(why, whysz, "%s: read error", path);
	free(line);
	fclose(f);
	return err;
}

static int location_line(struct policy_data *d, const char *path, unsigned lineno,
			 char *line, const char *def_region, char *why, size_t whysz)
{
	char prefix[33], reason[128], *w[2] = {"", ""};
	const char *region;
	size_t n = words(line, w);
	uint16_t idx;
	int err;

	if (n > 2)
		return policy_why(why, whysz, "%s:%u: expected 'prefix [region]'", path, lineno);
	region = n == 2 ? w[1] : def_region;
	if (!*region)
		return policy_why(why, whysz, "%s:%u: no region (write 'prefix REGION' or name the "
			    "file REGION.txt)", path, lineno);
	if (!policy_region_ok(region))
		return policy_why(why, whysz, "%s:%u: '%s' is not a region code like CN-XJ", path,
			    lineno, region);
	if (w[0][0] != '+' && strncmp(w[0], "00", 2) != 0)
		return policy_why(why, whysz, "%s:%u: '%s': prefixes are international ('+' or "
			    "'00' first)", path, lineno, w[0]);
	if (policy_prefix_normalise(w[0], "86", prefix, reason, sizeof(reason)) ||
	    strchr(w[0], '*'))
		return policy_why(why, whysz, "%s:%u: bad prefix: %s", path, lineno,
			    strchr(w[0], '*') ? "no '*' in location tables" : reason);
	err = region_index(d, region, &idx);
	if (!err)
		err = pset_add(&d->loc, prefix, idx);
	if (err == E2BIG)
		return policy_why(why, whysz, "%s:%u: too many entries or regions", path, lineno);
	return err;
}

static int load_location_file(struct policy_data *d, const char *path, char *why,
			      size_t whysz)
{
	const char *dup = NULL;
	uint16_t v1 = 0, v2 = 0;
	int err = read_lines(d, path, location_line, why, whysz);

	if (err)
		return err;
	err = pset_finish(&d->loc, &dup, &v1, &v2);
	if (err == EEXIST)
		return policy_why(why, whysz, "%s: prefix %s is both %s and %s", path, dup,
			    d->regions[v1], d->regions[v2]);
	return err;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_data_load_locations(struct policy_data *d, const char *path, char *why,
			       size_t whysz)
{
	char *names[DATA_MAX_FILES];
	size_t n = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int err = 0;

	if (!d || !path)
		return EINVAL;
	if (stat(path, &st) != 0) {
		err = errno;
		policy_why(why, whysz, "%s: %s", path, strerror(err));
		return err;
	}
	if (!S_ISDIR(st.st_mode))
		return load_location_file(d, path, why, whysz);

	/* A folder: its *.txt files in name order, so the result never depends on readdir. */
	dir = opendir(path);
	if (!dir) {
		err = errno;
		policy_why(why, whysz, "%s: %s", path, strerror(err));
		return err;
	}
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".txt") != 0)
			continue;
		if (n == DATA_MAX_FILES) {
			err = policy_why(why, whysz, "%s: more than %d files", path, DATA_MAX_FILES);
			break;
		}
		names[n] = mem_alloc(strlen(path) + len + 2, NULL);
		if (!names[n]) {
			err = ENOMEM;
			break;
		}
		sprintf(names[n], "%s/%s", path, de->d_name);
		n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		if (!err)
			err = load_location_file(d, names[i], why, whysz);
		mem_deref(names[i]);
	}
	return err;
}

/* A whole line is one entry: numbers may be written with spaces ("+86 138 0013 8000"). */
static int blacklist_line(struct policy_data *d, const char *path, unsigned lineno,
			  char *line, const char *def_region, char *why, size_t whysz)
{
	char reason[160];
	int err;

	(void)def_region;
	err = blist_add(&d->blacklist, line, "86", reason, sizeof(reason));
	if (err == EINVAL)
		return policy_why(why, whysz, "%s:%u: %s", path, lineno, reason);
	return err;
}

void policy_data_caps(struct policy_data *d, uint32_t channels, uint32_t minutes_daily)
{
	d->operator_caps.channels = channels;
	d->operator_caps.minutes_daily = minutes_daily;
}

int policy_data_load_blacklist(struct policy_data *d, const char *path, char *why,
			       size_t whysz)
{
	int err;

	if (!d || !path)
		return EINVAL;
	err = read_lines(d, path, blacklist_line, why, whysz);
	return err ? err : blist_finish(&d->blacklist);
}

int policy_data_region(const struct policy_data *d, const char *number, char *region,
		       size_t regionsz)
{
	const struct pset_entry *e = NULL;
	size_t len, ccl;

	if (!number || !region || !regionsz)
		return EINVAL;
	region[0] = '\0';
	len = strlen(number);
	if (len < 4 || number[0] != '0' || number[1] != '0')
		return EINVAL;
	ccl = numbering_cc_len(number + 2);
	if (ccl == 0)
		return EINVAL;

	if (d)
		e = pset_longest(&d->loc, number, 3);
	if (e) {
		snprintf(region, regionsz, "%s", d->regions[e->val]);
		return 0;
	}
	if (strncmp(number + 2, "86", 2) != 0) {
		snprintf(region, regionsz, "CC-%.*s", (int)ccl, number + 2);
		return 0;
	}
	/* China: fixed lines are located by area code, which the tables cover for the
	 * regions they list; service numbers have no area; mobiles need a segment table. */
	if (number[4] == '1' && number[5] != '0')
		return ENOENT;
	return 0;
}
