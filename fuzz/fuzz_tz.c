/* libFuzzer harness for the TZif reader and its POSIX TZ footer parser. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <re_types.h>
#include <re_mem.h>
#include "tz/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t probes[] = {INT64_MIN, -((int64_t)1 << 55), -1, 0, 1700000000,
					 4102444800, (int64_t)1 << 55, INT64_MAX};
	struct tz *tz = NULL;
	struct tm tm;
	int64_t start;
	size_t i;

	if (tz_parse(&tz, "fuzz", data, size) != 0)
		return 0;
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		(void)tz_local(tz, probes[i], &tm);
		(void)tz_day_start(tz, probes[i], &start);
	}
	mem_deref(tz);
	return 0;
}
