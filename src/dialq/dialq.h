/* dialq: the dial queue between admitting a session and sending its INVITE — places
 * calls as fast as the trunks allow (their channels and cps, asked through a handler),
 * in arrival order within a tenant and round robin between tenants, and gives up on an
 * item that waited longer than the configured time. Where CreateIVRSession (and, later,
 * auto-callout tasks) meet the trunks.
 *
 * It holds items it does not own (the caller's pointers) and runs on the control loop
 * with its own timer: one per queue, not per item. The cost of one pass is the number of
 * tenants with waiting items at most, never the number of items: per-tenant FIFOs, a ring
 * of tenants, one list in arrival order for expiry. */
#ifndef CCCD_DIALQ_H
#define CCCD_DIALQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_err;
struct dialq;

struct dialq_conf {
	unsigned max_wait_s;     /* an item not placed within this is expired ([dial]
				    queue_max_wait); 0 = it waits as long as it takes */
	unsigned burst;          /* items placed in one pass before the loop serves others */
};

int dialq_conf_read(const struct conf *cf, struct dialq_conf *dc, struct conf_err *err);

/* May this item be placed now? THE single check before a call leaves the queue (trunk
 * room today; other limits join here). 0: place it (the queue then calls dial_h);
 * EAGAIN: not yet — *wait_ms how long until it may (0: until dialq_kick). */
typedef int (dialq_ready_h)(void *item, uint64_t *wait_ms, void *arg);
/* The item leaves the queue to be placed. */
typedef void (dialq_dial_h)(void *item, void *arg);
/* The item waited max_wait_s and leaves the queue unplaced. */
typedef void (dialq_expire_h)(void *item, void *arg);

/* Owner: the caller (mem_deref drops waiting items without a handler). */
int dialq_alloc(struct dialq **qp, const struct dialq_conf *dc, dialq_ready_h *readyh,
		dialq_dial_h *dialh, dialq_expire_h *expireh, void *arg);

/* Adds an item of `tenant` that has waited since since_ms (clock_mono_ms; earlier than
 * now for an item taken up after a restart). Items keep their order: within a tenant
 * by push order, for expiry by since_ms. A pass follows from the loop (never from inside
 * this call). */
int dialq_push(struct dialq *q, uint64_t tenant, uint64_t since_ms, void *item);

/* Removes a waiting item (e.g. hung up before it was placed); ENOENT if it is not
 * waiting. */
int dialq_remove(struct dialq *q, void *item);

/* Room may have appeared (a trunk's channel was freed): a pass follows from the loop. */
void dialq_kick(struct dialq *q);

/* One pass now: expires what waited too long, then places items while the ready handler
 * allows, round robin between tenants. The timer runs it; public for tests. */
void dialq_run(struct dialq *q, uint64_t now_ms);

size_t dialq_count(const struct dialq *q);
/* The since_ms of the oldest waiting item (the clock dialq_push was given), 0 when none. */
uint64_t dialq_oldest_since_ms(const struct dialq *q);

#endif
