/* tz: IANA time zones from the system's TZif files, without global TZ state.
 *
 * glibc's localtime_r() answers for ONE process-wide zone (the TZ variable); cccd needs
 * many zones at once (every instance has its own work-time zone), from several threads.
 * So we read the compiled zone files ourselves (RFC 8536, versions 1-4) and convert
 * instants with a per-zone object that is immutable after loading: any thread may use a
 * loaded zone concurrently. */
#ifndef CCCD_TZ_H
#define CCCD_TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tz;

/* The folder tz_load reads (Debian package tzdata). */
#define TZ_DIR "/usr/share/zoneinfo"

/* IANA name ("Asia/Shanghai", "UTC", "Europe/London") read from the TZif file under
 * TZ_DIR. ENOENT unknown zone, EINVAL malformed file or name (no "..", no absolute paths,
 * only [A-Za-z0-9_+-./]). Files with leap-second records (the "right/" zones) are refused
 * with EINVAL: their instants are not POSIX time. Blocking (disk): load at config or
 * rule-load time. mem_deref frees. */
int tz_load(struct tz **tzp, const char *name);

/* The same from a TZif image in memory (tests, fuzzing); `name` is only remembered. */
int tz_parse(struct tz **tzp, const char *name, const uint8_t *buf, size_t len);

/* The name the zone was loaded under. */
const char *tz_name(const struct tz *tz);

/* Local broken-down time of a Unix instant, with tm_wday, tm_yday, tm_isdst, tm_gmtoff and
 * tm_zone filled (tm_zone points into tz: valid while tz lives). Thread-safe, no global TZ
 * state. Past the last transition the file's POSIX TZ footer rule applies. EOVERFLOW when
 * the year does not fit in struct tm (|unix_s| > 2^55). */
int tz_local(const struct tz *tz, int64_t unix_s, struct tm *out);

/* The first instant of the local calendar day that contains unix_s (local midnight, or
 * the end of a DST gap when midnight does not exist that day). */
int tz_day_start(const struct tz *tz, int64_t unix_s, int64_t *startp);

#endif
