/* zonemap: the operator's number-prefix → time-zone table ([tasks] zone_prefix lines,
 * docs/tasks.md §Callee-local windows): the IANA zone a callee's local time is read in,
 * by the longest prefix of its number.
 *
 * Numbers and prefixes are in cccd's international form ("00" + country code + national
 * number, as src/numbering normalises them); a prefix may be written "+81" or "0081".
 * The zones are loaded once, when the table is built; afterwards the table is immutable
 * and any thread may look numbers up in it. */
#ifndef CCCD_ZONEMAP_H
#define CCCD_ZONEMAP_H

#include <stddef.h>

struct tz;
struct zonemap;

/* Prefixes are "00" + 1-15 digits. */
enum { ZONEMAP_PREFIX_MAX = 18, ZONEMAP_ZONE_MAX = 48 };

/* One "PREFIX ZONE" line: prefix ("+" or "00", then 1-15 digits) into prefix as "00...",
 * the zone's name into zone after checking this server has it (TZ_DIR). EINVAL with the
 * reason in why (naming the part that is wrong) otherwise. Blocking (reads the zone). */
int zonemap_line_parse(const char *line, char *prefix, char *zone, char *why, size_t whysz);

/* An empty table. mem_deref frees it with its zones. */
int zonemap_alloc(struct zonemap **zp);

/* Adds prefix (as zonemap_line_parse gives it) → zone, loading the zone. EEXIST when the
 * prefix is there already, ENOENT / EINVAL as tz_load. Blocking. */
int zonemap_add(struct zonemap *z, const char *prefix, const char *zone);

/* The zone of the longest prefix of number, NULL when none matches (or z is NULL). */
const struct tz *zonemap_lookup(const struct zonemap *z, const char *number);

/* How many prefixes the table has. */
size_t zonemap_count(const struct zonemap *z);

#endif
