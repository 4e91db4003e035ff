/* zonemap: the number-prefix → time-zone table (zonemap.h).
 *
 * A lookup walks the entries longest prefix first and stops at the first that matches.
 * The table is an operator's list (a few hundred lines at most: a country code, or the
 * area codes of the countries that span several zones), so a walk costs less than the
 * store write each attempt makes anyway; a trie would buy nothing measurable. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "tz/tz.h"
#include "zonemap/zonemap.h"

struct zone_entry {
	char prefix[ZONEMAP_PREFIX_MAX];
	size_t len;
	struct tz *tz;                /* owned */
};

struct zonemap {
	struct zone_entry *v;         /* owned, sorted by len, longest first */
	size_t n;
};

static void zonemap_destructor(void *arg)
{
	struct zonemap *z = arg;

	for (size_t i = 0; i < z->n; i++)
		mem_deref(z->v[i].tz);
	free(z->v);
}

int zonemap_alloc(struct zonemap **zp)
{
	struct zonemap *z;

	if (!zp)
		return EINVAL;
	z = mem_zalloc(sizeof(*z), zonemap_destructor);
	if (!z)
		return ENOMEM;
	*zp = z;
	return 0;
}

static bool all_digits(const char *s)
{
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

int zonemap_line_parse(const char *line, char *prefix, char *zone, char *why, size_t whysz)
{
	char p[64], zn[128], extra[2];
	const char *digits;
	struct tz *tz = NULL;
	int err;

	if (!line || sscanf(line, "%63s %127s %1s", p, zn, extra) != 2) {
		snprintf(why, whysz, "expected 'PREFIX ZONE' (such as '+81 Asia/Tokyo')");
		return EINVAL;
	}
	digits = p[0] == '+' ? p + 1 : (!strncmp(p, "00", 2) ? p + 2 : NULL);
	if (!digits || !*digits || strlen(digits) > ZONEMAP_PREFIX_MAX - 3 ||
	    !all_digits(digits)) {
		snprintf(why, whysz, "prefix '%.63s' is not an international prefix ('+' or "
			 "'00', then 1-15 digits)", p);
		return EINVAL;
	}
	if (strlen(zn) >= ZONEMAP_ZONE_MAX) {
		snprintf(why, whysz, "zone '%.127s' is too long", zn);
		return EINVAL;
	}
	err = tz_load(&tz, zn);
	mem_deref(tz);
	if (err) {
		snprintf(why, whysz, "zone '%s' is not a time zone this server has (%s/%s: %s)",
			 zn, TZ_DIR, zn, err == ENOENT ? "no such zone" : "not a zone file");
		return EINVAL;
	}
	/* Both lengths were checked above. */
	memcpy(prefix, "00", 2);
	memcpy(prefix + 2, digits, strlen(digits) + 1);
	memcpy(zone, zn, strlen(zn) + 1);
	return 0;
}

int zonemap_add(struct zonemap *z, const char *prefix, const char *zone)
{
	struct zone_entry *v, e = {0};
	size_t i;
	int err;

	if (!z || !prefix || !zone || strlen(prefix) >= sizeof(e.prefix))
		return EINVAL;
	for (i = 0; i < z->n; i++) {
		if (!strcmp(z->v[i].prefix, prefix))
			return EEXIST;
	}
	err = tz_load(&e.tz, zone);
	if (err)
		return err;
	v = realloc(z->v, (z->n + 1) * sizeof(*v));
	if (!v) {
		mem_deref(e.tz);
		return ENOMEM;
	}
	z->v = v;
	strcpy(e.prefix, prefix);
	e.len = strlen(prefix);
	/* Kept longest first: the first match of a lookup is the longest. */
	for (i = z->n; i > 0 && z->v[i - 1].len < e.len; i--)
		z->v[i] = z->v[i - 1];
	z->v[i] = e;
	z->n++;
	return 0;
}

const struct tz *zonemap_lookup(const struct zonemap *z, const char *number)
{
	if (!z || !number)
		return NULL;
	for (size_t i = 0; i < z->n; i++) {
		if (!strncmp(number, z->v[i].prefix, z->v[i].len))
			return z->v[i].tz;
	}
	return NULL;
}

size_t zonemap_count(const struct zonemap *z)
{
	return z ? z->n : 0;
}
