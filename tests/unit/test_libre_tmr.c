/* Unit tests of libre's own timers on the wheel (wheel/libre_tmr.c): the self-check,
 * start, cancel (libre's tmr_cancel, which reaches cccd's tmr_start through libre's PLT),
 * a re-arm from the handler, tmr_get_expire and tmr_isrunning, the order of expiry beside
 * cccd's own wheel timers, a timer moved between the wheel and libre's list, a zero delay
 * and another thread's timer left on libre's list, and one firing on a real libre loop.
 * All but the last run the wheel on a clock the test moves by hand, started at libre's
 * tmr_jiffies so that tmr_get_expire reads it right until the clock moves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "wheel/wheel.h"
#include "wheel/libre_tmr.h"

extern struct list *tmrl_get(void); /* libre's: this thread's sorted list */

static uint64_t fake_ms;

static uint64_t fake_clock(void)
{
	return fake_ms;
}

static void run_to(uint64_t to)
{
	while (fake_ms < to) {
		fake_ms++;
		wheel_poll();
	}
}

struct probe {
	struct tmr t;        /* libre's kind */
	struct wheel_tmr w;  /* or cccd's */
	char *log;
	char name;
	uint64_t at;
	unsigned again;      /* times it restarts itself from its handler */
};

static void note(void *arg)
{
	struct probe *p = arg;
	size_t n = strlen(p->log);

	p->at = fake_ms;
	p->log[n] = p->name;
	p->log[n + 1] = '\0';
	if (p->again) {
		p->again--;
		tmr_start(&p->t, 10, note, p);
	}
}

static void probe_init(struct probe *p, char *log, char name)
{
	memset(p, 0, sizeof(*p));
	tmr_init(&p->t);
	wheel_tmr_init(&p->w);
	p->log = log;
	p->name = name;
}

static int setup(void **state)
{
	(void)state;
	fake_ms = tmr_jiffies();
	if (wheel_init(fake_clock))
		return -1;
	return libre_tmr_init(true) ? 0 : -1; /* the self-check passed */
}

static int teardown(void **state)
{
	(void)state;
	libre_tmr_close();
	wheel_close();
	return 0;
}

static void test_start_fires_once(void **state)
{
	char log[8] = "";
	struct probe p;
	uint64_t t0 = fake_ms, left;

	(void)state;
	probe_init(&p, log, 'a');
	tmr_start(&p.t, 100, note, &p);
	assert_int_equal(wheel_count(), 1);
	assert_true(list_isempty(tmrl_get()));
	assert_true(tmr_isrunning(&p.t));
	left = tmr_get_expire(&p.t);
	assert_true(left > 50 && left <= 100);
	run_to(t0 + 99);
	assert_string_equal(log, "");
	run_to(t0 + 100 + WHEEL_TICK_MS);
	assert_string_equal(log, "a");
	assert_true(p.at >= t0 + 100);
	assert_false(tmr_isrunning(&p.t));
	assert_int_equal(tmr_get_expire(&p.t), 0);
	assert_int_equal(wheel_count(), 0);
}

static void test_cancel(void **state)
{
	char log[8] = "";
	struct probe p, q;
	uint64_t t0 = fake_ms;

	(void)state;
	probe_init(&p, log, 'a');
	probe_init(&q, log, 'b');
	tmr_start(&p.t, 20, note, &p);
	tmr_start(&q.t, 20, note, &q);
	tmr_cancel(&p.t); /* libre's tmr_cancel: tmr_start(t, 0, NULL, NULL) via its PLT */
	assert_false(tmr_isrunning(&p.t));
	assert_int_equal(wheel_count(), 1);
	run_to(t0 + 40);
	assert_string_equal(log, "b");
	tmr_cancel(&p.t); /* not running: nothing */
	assert_int_equal(wheel_count(), 0);
}

static void test_rearm_in_handler(void **state)
{
	char log[8] = "";
	struct probe p;
	uint64_t t0 = fake_ms;

	(void)state;
	probe_init(&p, log, 'a');
	p.again = 2;
	tmr_start(&p.t, 10, note, &p);
	run_to(t0 + 100);
	assert_string_equal(log, "aaa");
	assert_false(tmr_isrunning(&p.t));
	assert_int_equal(wheel_count(), 0);
}

/* libre's and cccd's timers wait in the same slots and fire in one order. */
static void test_order_with_wheel_timers(void **state)
{
	char log[8] = "";
	struct probe a, b, c, d;
	uint64_t t0 = fake_ms;

	(void)state;
	probe_init(&a, log, 'a');
	probe_init(&b, log, 'b');
	probe_init(&c, log, 'c');
	probe_init(&d, log, 'd');
	wheel_start(&c.w, 300, note, &c);
	tmr_start(&a.t, 10, note, &a);
	tmr_start(&d.t, 5000, note, &d); /* more than a turn ahead */
	wheel_start(&b.w, 200, note, &b);
	assert_int_equal(wheel_count(), 4);
	run_to(t0 + 6000);
	assert_string_equal(log, "abcd");
	assert_true(d.at >= t0 + 5000 && d.at <= t0 + 5000 + WHEEL_TICK_MS);
}

/* A zero delay stays on libre's list; a restart with a delay moves it to the wheel (off
 * libre's list first), and back. */
static void test_zero_delay_and_moves(void **state)
{
	char log[8] = "";
	struct probe p;

	(void)state;
	probe_init(&p, log, 'a');
	tmr_start(&p.t, 0, note, &p);
	assert_int_equal(wheel_count(), 0);
	assert_int_equal(list_count(tmrl_get()), 1);
	assert_true(tmr_isrunning(&p.t));
	tmr_start(&p.t, 50, note, &p);
	assert_int_equal(wheel_count(), 1);
	assert_true(list_isempty(tmrl_get()));
	tmr_start(&p.t, 0, note, &p);
	assert_int_equal(wheel_count(), 0);
	assert_int_equal(list_count(tmrl_get()), 1);
	tmr_cancel(&p.t);
	assert_true(list_isempty(tmrl_get()));
	assert_false(tmr_isrunning(&p.t));
}

static void test_list_mode(void **state)
{
	char log[8] = "";
	struct probe p;

	(void)state;
	assert_false(libre_tmr_init(false));
	probe_init(&p, log, 'a');
	tmr_start(&p.t, 50, note, &p);
	assert_int_equal(wheel_count(), 0);
	assert_int_equal(list_count(tmrl_get()), 1);
	tmr_cancel(&p.t);
	assert_true(list_isempty(tmrl_get()));
}

struct other {
	struct tmr t;
	uint32_t wheel_count;
	uint32_t list_count;
	bool running;
	uint64_t left;
};

static void nothing(void *arg)
{
	(void)arg;
}

static void *other_thread(void *arg)
{
	struct other *o = arg;

	if (re_thread_init())
		return NULL;
	tmr_init(&o->t);
	tmr_start(&o->t, 1000, nothing, o);
	o->wheel_count = wheel_count();
	o->list_count = list_count(tmrl_get());
	o->running = tmr_isrunning(&o->t);
	o->left = tmr_get_expire(&o->t);
	tmr_cancel(&o->t);
	re_thread_close();
	return NULL;
}

/* Only the thread that asked for it (the control loop) puts libre's timers on a wheel. */
static void test_other_thread_on_list(void **state)
{
	struct other o;
	pthread_t th;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(pthread_create(&th, NULL, other_thread, &o), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(o.wheel_count, 0);
	assert_int_equal(o.list_count, 1);
	assert_true(o.running);
	assert_true(o.left > 900 && o.left <= 1000);
	assert_int_equal(wheel_count(), 0);
}

static void stop_loop(void *arg)
{
	unsigned *n = arg;

	(*n)++;
	re_cancel();
}

/* On the real clock and loop: the wheel's timerfd runs libre's timer. */
static void test_real_loop(void **state)
{
	struct tmr t;
	unsigned n = 0;

	(void)state;
	libre_tmr_close();
	wheel_close(); /* the fake-clock wheel of the setup */
	assert_int_equal(wheel_init(NULL), 0);
	assert_true(libre_tmr_init(true));
	tmr_init(&t);
	tmr_start(&t, 20, stop_loop, &n);
	assert_true(list_isempty(tmrl_get()));
	assert_int_equal(re_main(NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(wheel_count(), 0);
}

static int group_setup(void **state)
{
	(void)state;
	return libre_init();
}

static int group_teardown(void **state)
{
	(void)state;
	libre_close();
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_start_fires_once),
		T(test_cancel),
		T(test_rearm_in_handler),
		T(test_order_with_wheel_timers),
		T(test_zero_delay_and_moves),
		T(test_list_mode),
		T(test_other_thread_on_list),
		T(test_real_loop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
