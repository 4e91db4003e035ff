/* call: a trunk's calls-per-second limit as a sliding window of the last INVITE times
 * (call.h explains why not a token bucket). Pure: the caller passes the clock. */
#include <errno.h>
#include <re_types.h>
#include <re_mem.h>
#include "call/call.h"

int call_rate_init(struct call_rate *r, unsigned limit)
{
	if (!r || limit > CALL_CPS_MAX)
		return EINVAL;
	r->ts = NULL;
	r->limit = limit;
	r->n = 0;
	r->head = 0;
	if (!limit)
		return 0;
	r->ts = mem_zalloc(limit * sizeof(*r->ts), NULL);
	return r->ts ? 0 : ENOMEM;
}

void call_rate_close(struct call_rate *r)
{
	if (r)
		r->ts = mem_deref(r->ts);
}

bool call_rate_room(const struct call_rate *r, uint64_t now_ms, uint64_t *wait_ms)
{
	uint64_t oldest;

	if (!r->limit || r->n < r->limit)
		return true;
	/* `limit` events are kept: one more is allowed once the oldest of them is a whole
	 * second old, so no window of 1000 ms holds more than `limit`. */
	oldest = r->ts[r->head];
	if (now_ms >= oldest + 1000)
		return true;
	if (wait_ms)
		*wait_ms = oldest + 1000 - now_ms;
	return false;
}

void call_rate_note(struct call_rate *r, uint64_t now_ms)
{
	if (!r->limit)
		return;
	if (r->n < r->limit) {
		r->ts[(r->head + r->n) % r->limit] = now_ms;
		r->n++;
		return;
	}
	r->ts[r->head] = now_ms;
	r->head = (r->head + 1) % r->limit;
}
