/* refusal: the toll-fraud refusal counters (one per reason) and their rate-limited log. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include "base/base.h"

static _Atomic uint64_t totals[REFUSAL_N];
static _Atomic uint64_t logged_ms[REFUSAL_N]; /* clock_mono_ms of the last line, per reason */

const char *refusal_name(enum refusal_reason r)
{
	switch (r) {
	case REFUSAL_INBOUND_SOURCE: return "inbound_source";
	case REFUSAL_INBOUND_AUTH:   return "inbound_auth";
	case REFUSAL_DESTINATION:    return "destination";
	case REFUSAL_CHANNELS:       return "channels";
	case REFUSAL_MINUTES:        return "minutes";
	case REFUSAL_N:              break;
	}
	return "unknown";
}

/* A flood of refusals (a scanner spraying INVITEs) must not become a flood of log lines:
 * one line a second per reason says the latest and the running total. The compare-and-swap
 * picks one writer when threads race for the same second. */
void refusal_note(enum refusal_reason r, const char *fmt, ...)
{
	uint64_t total, now = clock_mono_ms(), last;
	char detail[256];
	va_list ap;

	BASE_ASSERT(r < REFUSAL_N, "a refusal reason is one of the enum's");
	total = atomic_fetch_add_explicit(&totals[r], 1, memory_order_relaxed) + 1;
	last = atomic_load_explicit(&logged_ms[r], memory_order_relaxed);
	if (last && now - last < 1000)
		return;
	if (!atomic_compare_exchange_strong_explicit(&logged_ms[r], &last, now,
						     memory_order_relaxed, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_warn("fraud", "refused (%s, %llu so far): %s", refusal_name(r),
		 (unsigned long long)total, detail);
}

uint64_t refusal_total(enum refusal_reason r)
{
	return r < REFUSAL_N ? atomic_load_explicit(&totals[r], memory_order_relaxed) : 0;
}
