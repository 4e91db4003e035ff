/* libre_tmr: libre's own timers on the control loop's wheel.
 *
 * Why: libre 1.1.0 keeps a thread's timers in one list sorted by due time and tmr_start
 * inserts by walking it from the latest (src/tmr/tmr.c). Every call leaves 32 s timers
 * there (Timer J, the RFC 6026 timers of its transactions), so at R set-ups a second ~64·R
 * of them wait, and every shorter timer — the 200 OK's 500 ms retransmission, each
 * transaction's timer A/E — walks past all of them, a cache miss each: 13 % of the loop's
 * time at 300/s, growing with the rate. A newer libre keeps the same list, and more SIP
 * loops would split the single-owner control loop, so cccd puts libre's timers on its own
 * wheel (wheel.c), O(1) whatever the count.
 *
 * How: Debian's libre.so calls tmr_start through its PLT (`readelf -r libre.so | grep
 * tmr_`), so the tmr_start defined here, in the executable, receives libre's own calls
 * too; its tmr_cancel is tmr_start(t, 0, NULL, NULL) through the same PLT, so it arrives
 * here as well. The real one is found with dlsym(RTLD_NEXT). tmr_get_expire, tmr_poll and
 * tmr_next_timeout read only struct tmr's fields and libre's list, which stay meaningful:
 * a timer on the wheel has th and arg set (tmr_isrunning), jfs its due time in
 * tmr_jiffies ms (tmr_get_expire), and is not on libre's list (tmr_poll never sees it).
 * The ThreadSanitizer build links libre statically, where a second definition would
 * clash: there the link wraps tmr_start and tmr_cancel (-Wl,--wrap, Makefile), and the
 * real one is __real_tmr_start. (tmr_cancel is wrapped because inside libre's own tmr.o
 * its call to tmr_start is not a reference the wrap can redirect.)
 *
 * Which timers: on a thread that called libre_tmr_init(true) (the control loop), those
 * with a delay. Zero delays ("run next") stay on libre's list, where they cost nothing:
 * libre inserts them from the head. Every other thread (media workers, store threads,
 * libre's own) goes to libre's list untouched. A timer moved from one to the other is
 * taken off the first (told apart by the list its element is on). Like libre's, a timer
 * belongs to the thread that started it. */
#include <dlfcn.h>
#include <pthread.h>
#include <re.h>
#include "base/base.h"
#include "metrics/metrics.h"
#include "wheel/wheel.h"
#include "wheel/libre_tmr.h"

typedef void (tmr_start_h)(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg);

static _Thread_local bool libre_tmr_here; /* this thread's libre timers go on its wheel */

#ifdef CCCD_TSAN
#define LIBRE_TMR_START __wrap_tmr_start
void __real_tmr_start(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg);
void __wrap_tmr_start(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg);
void __wrap_tmr_cancel(struct tmr *tmr);

static tmr_start_h *real_start(void)
{
	return __real_tmr_start;
}

void __wrap_tmr_cancel(struct tmr *tmr)
{
	__wrap_tmr_start(tmr, 0, NULL, NULL);
}
#else
#define LIBRE_TMR_START tmr_start
static tmr_start_h *real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void real_find(void)
{
	real = (tmr_start_h *)dlsym(RTLD_NEXT, "tmr_start");
	BASE_ASSERT(real, "libre's tmr_start is found after cccd's");
}

static tmr_start_h *real_start(void)
{
	(void)pthread_once(&real_once, real_find);
	return real;
}
#endif

void LIBRE_TMR_START(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg)
{
	if (!tmr)
		return;
	wheel_libre_cancel(tmr);
	if (th && delay && libre_tmr_here) {
		if (tmr->th)
			real_start()(tmr, 0, NULL, NULL); /* off libre's list first */
		if (!wheel_libre_start(tmr, delay, th, arg))
			return;
	}
	real_start()(tmr, delay, th, arg);
}

/* A libre function that starts a timer itself (a STUN keepalive's first request, due in
 * 1 ms) and frees it (its destructor's tmr_cancel): both must reach the wheel. */
static bool libre_reaches_wheel(void)
{
	struct stun_keepalive *ska = NULL;
	uint32_t n = wheel_count();
	bool started;

	if (stun_keepalive_alloc(&ska, IPPROTO_TCP, NULL, 0, NULL, NULL, NULL, NULL))
		return false;
	stun_keepalive_enable(ska, 60);
	started = wheel_count() == n + 1;
	mem_deref(ska);
	return started && wheel_count() == n;
}

bool libre_tmr_init(bool on_wheel)
{
	libre_tmr_here = on_wheel;
	if (on_wheel && !libre_reaches_wheel()) {
		libre_tmr_here = false;
		log_warn("libre_tmr", "libre's own timers do not reach cccd's tmr_start (a libre "
			 "built otherwise?): they stay on libre's sorted list");
	}
	log_info("libre_tmr", "libre's timers: %s", libre_tmr_here ? "wheel" : "list");
	metrics_libre_timers_set(libre_tmr_here);
	return libre_tmr_here;
}

void libre_tmr_close(void)
{
	libre_tmr_here = false;
}
