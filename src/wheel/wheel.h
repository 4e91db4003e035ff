/* wheel: cccd's own timers (ring timeout, IVR guards, session and trunk timers, retries)
 * on a hashed timing wheel, one per libre loop thread, so that starting or cancelling one
 * costs the same whatever the number of timers pending (libre 1.1.0's tmr_start walks one
 * sorted list; see wheel.c for the figures and the design). */
#ifndef CCCD_WHEEL_H
#define CCCD_WHEEL_H

#include <stdbool.h>
#include <stdint.h>
/* after libre's re_types.h and re_list.h (or re.h): libre's headers have no guards */

/* The wheel's resolution: a timer fires on the first tick at or after its due time, so up
 * to WHEEL_TICK_MS late and never early. */
#define WHEEL_TICK_MS 4

typedef void (wheel_h)(void *arg);

/* The wheel's clock in milliseconds; NULL means libre's tmr_jiffies (monotonic). A test
 * gives its own to run time forward without waiting. */
typedef uint64_t (wheel_clock_h)(void);

/* A timer, embedded in the object it guards (like libre's struct tmr). Owner: that object,
 * which cancels it in its destructor. Fields are the wheel's. */
struct wheel_tmr {
	struct le le;
	uint64_t tick;   /* the tick it is due on */
	uint64_t due;    /* due time, ms on the wheel's clock */
	wheel_h *h;      /* NULL when not running */
	void *arg;
	struct wheel *w; /* the wheel it waits on, while running */
};

/* This thread's wheel: made on first use (or here, to see the error at start-up), driven by
 * a timerfd on this thread's libre loop. wheel_close releases it (before libre_close, never
 * from a timer's handler); timers still pending are dropped, as libre_close drops libre's. */
int  wheel_init(wheel_clock_h *clock);
void wheel_close(void);

/* Runs every timer of this thread's wheel that is due by its clock. The loop calls it on
 * each tick; tests call it after moving their clock. */
void wheel_poll(void);

void     wheel_tmr_init(struct wheel_tmr *t);
/* (Re)starts t on this thread's wheel: h(arg) runs in delay_ms (0: on the next tick).
 * Restarting a running timer moves it. */
void     wheel_start(struct wheel_tmr *t, uint64_t delay_ms, wheel_h *h, void *arg);
void     wheel_cancel(struct wheel_tmr *t);
bool     wheel_isrunning(const struct wheel_tmr *t);
uint64_t wheel_get_expire(const struct wheel_tmr *t); /* ms left, 0 when not running */
uint32_t wheel_count(void);                           /* timers pending on this thread */

/* libre's own timers (struct tmr) on this thread's wheel, for wheel/libre_tmr.c only
 * (wheel_h is libre's tmr_h). wheel_libre_start puts a timer that is on no list on the
 * wheel, due in delay_ms > 0, with th, arg and jfs set as libre's tmr_start sets them, so
 * that tmr_isrunning and tmr_get_expire read it right; ENOMEM if this thread has no wheel.
 * wheel_libre_holds: t waits on this thread's wheel (told by the list its element is on).
 * wheel_libre_cancel takes it off if so. */
struct tmr;
int  wheel_libre_start(struct tmr *t, uint64_t delay_ms, wheel_h *h, void *arg);
bool wheel_libre_holds(const struct tmr *t);
void wheel_libre_cancel(struct tmr *t);

#endif
