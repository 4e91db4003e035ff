/* drain: the node's draining switch — one atomic, set by CccdDrainNode or a signal. */
#include <stdatomic.h>
#include "base/base.h"

static atomic_bool draining;

/* Lock-free on every platform cccd builds for, so the signal handlers may store it. */
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "a signal handler sets the drain flag");

bool drain_set(bool on)
{
	return atomic_exchange_explicit(&draining, on, memory_order_relaxed);
}

bool drain_active(void)
{
	return atomic_load_explicit(&draining, memory_order_relaxed);
}
