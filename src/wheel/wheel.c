/* wheel: a hashed timing wheel per libre loop thread, for cccd's own timers.
 *
 * Why not libre's tmr: libre 1.1.0 keeps every timer of a thread in one list sorted by due
 * time, and tmr_start finds a timer's place by walking that list from its tail (the latest
 * due) towards its head. A timer due in a few seconds therefore walks past every timer due
 * later: at 300 call set-ups a second those are thousands of 32 s SIP transaction timers,
 * plus every held call's guards (ring timeout, IVR max duration, session timer), and the
 * walk, a cache miss per element, was most of the control loop's time. (A zero delay is
 * cheap there: it walks from the head past the timers already due only, which is why
 * cccd's "run this next" deferrals stay on libre's tmr.)
 *
 * The wheel: WHEEL_SLOTS lists, one per tick of WHEEL_TICK_MS, used round-robin. A timer
 * due on tick k waits in slot k % WHEEL_SLOTS; one due after more than a turn (4.1 s) waits
 * there too and is passed over, O(1) each time, until the turn its tick comes. Starting or
 * cancelling is a list append or unlink whatever the number pending; running a tick walks
 * one slot, about pending/WHEEL_SLOTS timers. Within a tick timers fire in the order they
 * were started, not by their exact due times: the resolution is the tick.
 *
 * What drives it: a timerfd on the thread's libre loop (fd_listen), ticking every
 * WHEEL_TICK_MS while any timer is pending and stopped when none is. Not a libre tmr: that
 * one would be restarted every tick and walk libre's list each time, the cost the wheel is
 * here to remove. A loop that was late (a long handler) catches up: every tick missed is
 * run in order, so timers still fire in due order; a stall of several turns costs a walk
 * of the pending timers per turn, nothing next to the stall.
 *
 * One wheel per thread, like libre's own timer list: a timer is started, cancelled and
 * fired on one thread (the control loop, or the CLI's loop), never shared.
 *
 * libre's own timers (a struct tmr: transactions, dialogs, DNS) may wait here too, put by
 * wheel/libre_tmr.c. Their struct cannot grow a field, so a slot tells the two kinds
 * apart by the element's data: a wheel_tmr's element points to the timer (its element is
 * its first member), a libre timer's to wheel_libre_mark, and its due time is its jfs, in
 * tmr_jiffies milliseconds as libre's tmr_get_expire reads it. Both kinds share the slots,
 * so they fire in one order: by tick, and within a tick in the order they were started. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <re.h>
#include "base/base.h"
#include "wheel/wheel.h"

enum { WHEEL_SLOTS = 1024 }; /* a power of two; a turn is 4.1 s */

/* Owner: the thread that made it (thread-local wheel_this below); wheel_close frees it. */
struct wheel {
	struct list slot[WHEEL_SLOTS];
	struct list run;       /* the tick being run (a timer there is still on the wheel) */
	uint64_t cur;          /* the last tick run */
	uint32_t count;        /* timers pending */
	wheel_clock_h *clock;
	int fd;                /* the timerfd */
	bool armed;            /* the timerfd ticks and is on the loop */
};

static _Thread_local struct wheel *wheel_this;

/* The data of a libre timer's element on the wheel (see the top). */
static const char wheel_libre_mark;

static bool is_libre(const struct le *le)
{
	return le->data == &wheel_libre_mark;
}

static struct tmr *libre_of(struct le *le)
{
	return (struct tmr *)((char *)le - offsetof(struct tmr, le));
}

static uint64_t tick_of(uint64_t due)
{
	return (due + WHEEL_TICK_MS - 1) / WHEEL_TICK_MS;
}

static uint64_t le_tick(struct le *le)
{
	return is_libre(le) ? tick_of(libre_of(le)->jfs) : ((struct wheel_tmr *)le->data)->tick;
}

/* Stops what le is the element of, and tells it so (a libre timer: th NULL, as libre's
 * tmr_poll does before its handler runs). */
static void le_stop(struct wheel *w, struct le *le)
{
	list_unlink(le);
	w->count--;
	if (is_libre(le)) {
		libre_of(le)->th = NULL;
	}
	else {
		((struct wheel_tmr *)le->data)->h = NULL;
		((struct wheel_tmr *)le->data)->w = NULL;
	}
}

static uint64_t wheel_now(const struct wheel *w)
{
	return w->clock ? w->clock() : tmr_jiffies();
}

static void wheel_destructor(void *arg)
{
	struct wheel *w = arg;

	for (size_t i = 0; i < WHEEL_SLOTS; i++) {
		struct le *le;

		while ((le = list_head(&w->slot[i])))
			le_stop(w, le);
	}
	if (w->armed)
		fd_close(w->fd);
	if (w->fd >= 0)
		close(w->fd);
}

static void wheel_disarm(struct wheel *w)
{
	const struct itimerspec off = {0};

	(void)timerfd_settime(w->fd, 0, &off, NULL);
	fd_close(w->fd);
	w->armed = false;
}

static void wheel_run(struct wheel *w)
{
	uint64_t now;

	now = wheel_now(w) / WHEEL_TICK_MS;
	while (w->cur < now) {
		struct list *s = &w->slot[++w->cur & (WHEEL_SLOTS - 1)];
		struct le *le;

		/* First move this tick's timers aside (to w->run, still the wheel's) without
		 * running anything, then run them one by one from the head: a handler may
		 * cancel, restart or free any timer, including the others due now (they unlink
		 * themselves from the run list). */
		for (le = list_head(s); le;) {
			struct le *next = le->next;

			if (le_tick(le) <= w->cur) {
				list_unlink(le);
				list_append(&w->run, le, le->data);
			}
			le = next;
		}
		while ((le = list_head(&w->run))) {
			if (is_libre(le)) {
				struct tmr *t = libre_of(le);
				tmr_h *h = t->th;

				le_stop(w, le);
				h(t->arg);
			}
			else {
				struct wheel_tmr *t = le->data;
				wheel_h *h = t->h;

				le_stop(w, le);
				h(t->arg);
			}
		}
	}
}

static void wheel_tick(int flags, void *arg)
{
	struct wheel *w = arg;
	uint64_t n;

	(void)flags;
	/* the count of expirations is not needed: the clock says which ticks are due */
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("wheel", "timerfd read: %s", strerror(errno));
	wheel_run(w);
	if (!w->count && w->armed)
		wheel_disarm(w);
}

/* The timerfd goes on the loop each time the wheel wakes from empty, not once: a test that
 * runs libre_close and libre_init between its cases gets a fresh loop each time. */
static void wheel_arm(struct wheel *w)
{
	const struct itimerspec every = {
		.it_interval = {.tv_nsec = WHEEL_TICK_MS * 1000000L},
		.it_value = {.tv_nsec = WHEEL_TICK_MS * 1000000L},
	};
	int err;

	err = fd_listen(w->fd, FD_READ, wheel_tick, w);
	if (!err && timerfd_settime(w->fd, 0, &every, NULL) < 0) {
		err = errno;
		fd_close(w->fd);
	}
	if (err) {
		log_error("wheel", "cannot drive the timer wheel: %s", strerror(err));
		return;
	}
	w->armed = true;
}

int wheel_init(wheel_clock_h *clock)
{
	struct wheel *w;

	if (wheel_this)
		return 0;
	w = mem_zalloc(sizeof(*w), wheel_destructor);
	if (!w)
		return ENOMEM;
	w->clock = clock;
	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->fd < 0) {
		int err = errno;

		mem_deref(w);
		return err;
	}
	w->cur = wheel_now(w) / WHEEL_TICK_MS;
	wheel_this = w;
	return 0;
}

void wheel_close(void)
{
	wheel_this = mem_deref(wheel_this);
}

void wheel_poll(void)
{
	if (wheel_this)
		wheel_run(wheel_this);
}

void wheel_tmr_init(struct wheel_tmr *t)
{
	if (t)
		memset(t, 0, sizeof(*t));
}

void wheel_cancel(struct wheel_tmr *t)
{
	if (!t || !t->h)
		return;
	le_stop(t->w, &t->le);
}

/* This thread's wheel, made if need be, with its clock caught up if it was idle; NULL
 * (logged) if it cannot be made. */
static struct wheel *wheel_get(uint64_t *now)
{
	struct wheel *w;
	int err;

	err = wheel_init(NULL);
	if (err) {
		log_error("wheel", "no timer wheel on this thread: %s", strerror(err));
		return NULL;
	}
	w = wheel_this;
	*now = wheel_now(w);
	if (!w->count && *now / WHEEL_TICK_MS > w->cur)
		w->cur = *now / WHEEL_TICK_MS; /* idle until now: nothing to catch up */
	return w;
}

/* Puts le (data: what it stands for) in the slot of the tick due falls on, never the
 * current one or earlier; returns that tick. */
static uint64_t wheel_place(struct wheel *w, struct le *le, void *data, uint64_t due)
{
	uint64_t tick = tick_of(due);

	if (tick <= w->cur)
		tick = w->cur + 1;
	list_append(&w->slot[tick & (WHEEL_SLOTS - 1)], le, data);
	w->count++;
	if (!w->armed)
		wheel_arm(w);
	return tick;
}

void wheel_start(struct wheel_tmr *t, uint64_t delay_ms, wheel_h *h, void *arg)
{
	struct wheel *w;
	uint64_t now;

	if (!t)
		return;
	wheel_cancel(t);
	if (!h || !(w = wheel_get(&now)))
		return;
	t->due = now + delay_ms;
	t->h = h;
	t->arg = arg;
	t->w = w;
	t->tick = wheel_place(w, &t->le, t, t->due);
}

bool wheel_libre_holds(const struct tmr *t)
{
	const struct wheel *w = wheel_this;
	uintptr_t l = (uintptr_t)t->le.list;

	return w && t->th && (l == (uintptr_t)&w->run ||
			      (l >= (uintptr_t)&w->slot[0] &&
			       l < (uintptr_t)&w->slot[WHEEL_SLOTS]));
}

void wheel_libre_cancel(struct tmr *t)
{
	if (wheel_libre_holds(t))
		le_stop(wheel_this, &t->le);
}

int wheel_libre_start(struct tmr *t, uint64_t delay_ms, wheel_h *h, void *arg)
{
	struct wheel *w;
	uint64_t now;

	if (!(w = wheel_get(&now)))
		return ENOMEM;
	t->th = h;
	t->arg = arg;
	t->jfs = now + delay_ms;
	(void)wheel_place(w, &t->le, (void *)&wheel_libre_mark, t->jfs);
	return 0;
}

bool wheel_isrunning(const struct wheel_tmr *t)
{
	return t && t->h;
}

uint64_t wheel_get_expire(const struct wheel_tmr *t)
{
	uint64_t now;

	if (!t || !t->h)
		return 0;
	now = wheel_now(t->w);
	return t->due > now ? t->due - now : 0;
}

uint32_t wheel_count(void)
{
	return wheel_this ? wheel_this->count : 0;
}
