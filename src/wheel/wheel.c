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
 * fired on one thread (the control loop, or the CLI's loop), never shared. */
#include <errno.h>
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
	uint64_t cur;          /* the last tick run */
	uint32_t count;        /* timers pending */
	wheel_clock_h *clock;
	int fd;                /* the timerfd */
	bool armed;            /* the timerfd ticks and is on the loop */
};

static _Thread_local struct wheel *wheel_this;

static uint64_t wheel_now(const struct wheel *w)
{
	return w->clock ? w->clock() : tmr_jiffies();
}

static void wheel_destructor(void *arg)
{
	struct wheel *w = arg;

	for (size_t i = 0; i < WHEEL_SLOTS; i++) {
		struct le *le;

		while ((le = list_head(&w->slot[i]))) {
			struct wheel_tmr *t = le->data;

			list_unlink(le);
			t->h = NULL;
			t->w = NULL;
		}
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
		struct list run = LIST_INIT;
		struct le *le;

		/* First move this tick's timers aside without running anything, then run them
		 * one by one from the head: a handler may cancel, restart or free any timer,
		 * including the others due now (they unlink themselves from `run`). */
		for (le = list_head(s); le;) {
			struct wheel_tmr *t = le->data;

			le = le->next;
			if (t->tick <= w->cur) {
				list_unlink(&t->le);
				list_append(&run, &t->le, t);
			}
		}
		while ((le = list_head(&run))) {
			struct wheel_tmr *t = le->data;
			wheel_h *h = t->h;

			list_unlink(le);
			t->h = NULL;
			t->w = NULL;
			w->count--;
			h(t->arg);
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
	list_unlink(&t->le);
	t->w->count--;
	t->h = NULL;
	t->w = NULL;
}

void wheel_start(struct wheel_tmr *t, uint64_t delay_ms, wheel_h *h, void *arg)
{
	struct wheel *w;
	uint64_t now;
	int err;

	if (!t)
		return;
	wheel_cancel(t);
	if (!h)
		return;
	err = wheel_init(NULL);
	if (err) {
		log_error("wheel", "no timer wheel on this thread: %s", strerror(err));
		return;
	}
	w = wheel_this;
	now = wheel_now(w);
	if (!w->count && now / WHEEL_TICK_MS > w->cur)
		w->cur = now / WHEEL_TICK_MS; /* idle until now: nothing to catch up */
	t->due = now + delay_ms;
	t->tick = (t->due + WHEEL_TICK_MS - 1) / WHEEL_TICK_MS;
	if (t->tick <= w->cur)
		t->tick = w->cur + 1;
	t->h = h;
	t->arg = arg;
	t->w = w;
	list_append(&w->slot[t->tick & (WHEEL_SLOTS - 1)], &t->le, t);
	w->count++;
	if (!w->armed)
		wheel_arm(w);
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
