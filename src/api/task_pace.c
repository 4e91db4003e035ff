/* task_pace: the auto-callout scheduler's rate arithmetic (api_int.h, docs/tasks.md
 * §Pacing) — a token bucket per instance, and each task's share of it.
 *
 * Credit is earned for the time that really passed, not for tick_ms: a tick that ran late
 * (a busy store, a loaded machine) earns the difference, so the rate over a minute is
 * calls_per_second whatever the ticks did. What a tick did not place stays in the bucket.
 * The bucket holds at most max(1 s, 2 ticks) of credit: enough to cover one tick that
 * took twice its time, small enough that an instance whose tasks had nothing due for an
 * hour does not start with an hour's calls in one burst. */
#include <stdbool.h>
#include <stdint.h>
#include "api/api_int.h"

unsigned api_pace_earn(struct api_pace_bucket *b, unsigned per_s, unsigned tick_ms,
		       uint64_t now_ms)
{
	uint64_t elapsed = b->last_ms && now_ms > b->last_ms ? now_ms - b->last_ms :
			   (b->last_ms ? 0 : tick_ms);
	uint64_t cap_ms = tick_ms * 2 > 1000 ? (uint64_t)tick_ms * 2 : 1000;
	uint64_t cap = (uint64_t)per_s * cap_ms;

	b->credit += (uint64_t)per_s * (elapsed < cap_ms ? elapsed : cap_ms);
	if (b->credit > cap)
		b->credit = cap;
	b->last_ms = now_ms;
	return (unsigned)(b->credit / 1000);
}

void api_pace_spend(struct api_pace_bucket *b, unsigned used)
{
	uint64_t t = (uint64_t)used * 1000;

	b->credit = b->credit > t ? b->credit - t : 0;
}

unsigned api_pace_share(unsigned left, unsigned tasks)
{
	return tasks ? (left + tasks - 1) / tasks : left;
}
