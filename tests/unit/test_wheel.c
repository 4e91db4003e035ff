/* Unit tests of the timer wheel: order, never early and at most a tick late, cancel and
 * restart from inside a handler, timers several turns ahead, a late loop catching up, many
 * timers, and the timerfd driving it on a real libre loop. All but the last run on a clock
 * the test moves by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "wheel/wheel.h"

static uint64_t fake_ms;

static uint64_t fake_clock(void)
{
	return fake_ms;
}

/* Moves the clock to `to` a millisecond at a time, polling the wheel at each. */
static void run_to(uint64_t to)
{
	while (fake_ms < to) {
		fake_ms++;
		wheel_poll();
	}
}

struct fired {
	char log[64];
	size_t n;
};

struct probe {
	struct wheel_tmr t;
	struct fired *f;
	char name;
	uint64_t at;        /* the clock when it fired */
	struct probe *other; /* cancelled, or restarted, by this one's handler */
	unsigned again;     /* times this one restarts itself */
};

static void note(void *arg)
{
	struct probe *p = arg;

	p->at = fake_ms;
	if (p->f->n < sizeof(p->f->log) - 1)
		p->f->log[p->f->n++] = p->name;
}

static void probe_init(struct probe *p, struct fired *f, char name)
{
	memset(p, 0, sizeof(*p));
	wheel_tmr_init(&p->t);
	p->f = f;
	p->name = name;
}

static int wheel_setup(void **state)
{
	(void)state;
	fake_ms = 1000000;
	return wheel_init(fake_clock);
}

static int wheel_teardown(void **state)
{
	(void)state;
	wheel_close();
	return 0;
}

static void test_order(void **state)
{
	struct fired f = {0};
	struct probe a, b, c, d;

	(void)state;
	probe_init(&a, &f, 'a');
	probe_init(&b, &f, 'b');
	probe_init(&c, &f, 'c');
	probe_init(&d, &f, 'd');
	wheel_start(&a.t, 100, note, &a);
	wheel_start(&b.t, 10, note, &b);
	wheel_start(&c.t, 50, note, &c);
	wheel_start(&d.t, 0, note, &d);
	assert_int_equal(wheel_count(), 4);
	assert_true(wheel_isrunning(&a.t));
	assert_int_equal(wheel_get_expire(&a.t), 100);
	run_to(fake_ms + 200);
	assert_string_equal(f.log, "dbca");
	assert_int_equal(wheel_count(), 0);
	assert_false(wheel_isrunning(&a.t));
}

/* Never before its time, never more than a tick after (the clock moves 1 ms per poll). */
static void test_bounds(void **state)
{
	struct fired f = {0};
	struct probe p[40];
	uint64_t t0 = fake_ms;

	(void)state;
	for (size_t i = 0; i < 40; i++) {
		probe_init(&p[i], &f, 'x');
		wheel_start(&p[i].t, i * 7, note, &p[i]);
	}
	run_to(t0 + 400);
	for (size_t i = 0; i < 40; i++) {
		assert_true(p[i].at >= t0 + i * 7);
		assert_true(p[i].at <= t0 + i * 7 + WHEEL_TICK_MS);
	}
}

static void cancel_other(void *arg)
{
	struct probe *p = arg;

	note(p);
	wheel_cancel(&p->other->t);
}

/* a and b are due on the same tick; a's handler cancels b, which must not fire. */
static void test_cancel_in_handler(void **state)
{
	struct fired f = {0};
	struct probe a, b, c;

	(void)state;
	probe_init(&a, &f, 'a');
	probe_init(&b, &f, 'b');
	probe_init(&c, &f, 'c');
	a.other = &b;
	wheel_start(&a.t, 20, cancel_other, &a);
	wheel_start(&b.t, 20, note, &b);
	wheel_start(&c.t, 30, note, &c);
	wheel_cancel(&c.t);
	wheel_cancel(&c.t); /* twice is harmless */
	run_to(fake_ms + 100);
	assert_string_equal(f.log, "a");
	assert_int_equal(wheel_count(), 0);
}

static void again(void *arg)
{
	struct probe *p = arg;

	note(p);
	if (p->again) {
		p->again--;
		wheel_start(&p->t, p->name == 'z' ? 0 : 25, again, p);
	}
	if (p->other)
		wheel_start(&p->other->t, 5, note, p->other);
}

/* Restarting itself with a delay, and with no delay (next tick, not this one again), and
 * restarting another timer that is due on the same tick. */
static void test_restart_in_handler(void **state)
{
	struct fired f = {0};
	struct probe r, z, o;
	uint64_t t0 = fake_ms;

	(void)state;
	probe_init(&r, &f, 'r');
	probe_init(&z, &f, 'z');
	probe_init(&o, &f, 'o');
	r.again = 3;
	wheel_start(&r.t, 10, again, &r);
	run_to(t0 + 200);
	assert_string_equal(f.log, "rrrr");
	assert_true(r.at >= t0 + 10 + 3 * 25);

	f.n = 0;
	memset(f.log, 0, sizeof(f.log));
	z.again = 5;
	z.other = &o;
	wheel_start(&z.t, 8, again, &z);
	wheel_start(&o.t, 8, note, &o);
	fake_ms += 8;
	wheel_poll(); /* one poll: z runs once (its restarts wait for the next tick) */
	assert_string_equal(f.log, "z");
	run_to(fake_ms + 100);
	/* z six times, each moving o on, which fires once, after the last */
	assert_string_equal(f.log, "zzzzzzo");
	assert_int_equal(wheel_count(), 0);
}

/* Due several turns of the wheel ahead: passed over until its turn, then fired on time. */
static void test_far_future(void **state)
{
	struct fired f = {0};
	struct probe a, b;
	uint64_t t0 = fake_ms;

	(void)state;
	probe_init(&a, &f, 'a');
	probe_init(&b, &f, 'b');
	wheel_start(&a.t, 3600 * 1000ull, note, &a);
	wheel_start(&b.t, 10000, note, &b);
	run_to(t0 + 9999);
	assert_int_equal(f.n, 0);
	run_to(t0 + 10000 + WHEEL_TICK_MS);
	assert_string_equal(f.log, "b");
	assert_true(b.at >= t0 + 10000);
	fake_ms = t0 + 3600 * 1000ull - 1;
	wheel_poll();
	assert_string_equal(f.log, "b");
	run_to(t0 + 3600 * 1000ull + WHEEL_TICK_MS);
	assert_string_equal(f.log, "ba");
	assert_true(a.at >= t0 + 3600 * 1000ull);
}

/* A loop that comes back after a long stall runs everything due, in due order. */
static void test_late_loop(void **state)
{
	struct fired f = {0};
	struct probe a, b, c, d;

	(void)state;
	probe_init(&a, &f, 'a');
	probe_init(&b, &f, 'b');
	probe_init(&c, &f, 'c');
	probe_init(&d, &f, 'd');
	wheel_start(&a.t, 7000, note, &a);
	wheel_start(&b.t, 300, note, &b);
	wheel_start(&c.t, 60000, note, &c);
	wheel_start(&d.t, 90000, note, &d);
	fake_ms += 65000; /* more than a turn late */
	wheel_poll();
	assert_string_equal(f.log, "bac");
	assert_int_equal(wheel_count(), 1);
	run_to(fake_ms + 30000);
	assert_string_equal(f.log, "bacd");
}

static unsigned many_fired;

static void count_one(void *arg)
{
	struct probe *p = arg;

	many_fired++;
	p->at = fake_ms;
}

/* 100,000 timers over ten minutes, a third cancelled: each of the others fires once, on
 * time; none of the cancelled fires. */
static void test_many(void **state)
{
	enum { N = 100000 };
	struct probe *p = calloc(N, sizeof(*p));
	uint64_t *due = calloc(N, sizeof(*due));
	uint64_t t0 = fake_ms;
	unsigned live = 0;

	(void)state;
	assert_non_null(p);
	assert_non_null(due);
	srand(19);
	many_fired = 0;
	for (size_t i = 0; i < N; i++) {
		due[i] = (uint64_t)rand() % 600000;
		wheel_tmr_init(&p[i].t);
		wheel_start(&p[i].t, due[i], count_one, &p[i]);
	}
	assert_int_equal(wheel_count(), N);
	for (size_t i = 0; i < N; i += 3)
		wheel_cancel(&p[i].t);
	for (size_t i = 0; i < N; i++)
		live += i % 3 != 0;
	assert_int_equal(wheel_count(), live);
	while (fake_ms < t0 + 600000 + WHEEL_TICK_MS) {
		fake_ms += 2;
		wheel_poll();
	}
	assert_int_equal(many_fired, live);
	assert_int_equal(wheel_count(), 0);
	for (size_t i = 0; i < N; i++) {
		if (i % 3 == 0) {
			assert_int_equal(p[i].at, 0);
			continue;
		}
		assert_true(p[i].at >= t0 + due[i]);
		assert_true(p[i].at <= t0 + due[i] + WHEEL_TICK_MS + 2);
	}
	free(p);
	free(due);
}

/* wheel_close drops what is pending; the timers say so. */
static void test_close_pending(void **state)
{
	struct fired f = {0};
	struct probe a;

	(void)state;
	probe_init(&a, &f, 'a');
	wheel_start(&a.t, 50, note, &a);
	wheel_close();
	assert_false(wheel_isrunning(&a.t));
	assert_int_equal(wheel_count(), 0);
	wheel_cancel(&a.t);
	assert_int_equal(wheel_init(fake_clock), 0);
}

static void stop_loop(void *arg)
{
	uint64_t *at = arg;

	*at = tmr_jiffies();
	re_cancel();
}

static void too_late(void *arg)
{
	(void)arg;
	re_cancel();
}

/* On the real clock and loop: the timerfd ticks, the timer fires about on time, and the
 * wheel stops ticking when empty. */
static void test_real_loop(void **state)
{
	struct wheel_tmr t;
	struct tmr safety;
	uint64_t t0, at = 0;

	(void)state;
	wheel_close(); /* the fake-clock wheel of the setup */
	wheel_tmr_init(&t);
	tmr_init(&safety);
	tmr_start(&safety, 2000, too_late, NULL);
	t0 = tmr_jiffies();
	wheel_start(&t, 30, stop_loop, &at);
	assert_int_equal(re_main(NULL), 0);
	tmr_cancel(&safety);
	assert_true(at >= t0 + 30);
	assert_true(at < t0 + 30 + 200);
	assert_int_equal(wheel_count(), 0);
	/* and again, after it went idle */
	t0 = tmr_jiffies();
	tmr_start(&safety, 2000, too_late, NULL);
	wheel_start(&t, 10, stop_loop, &at);
	assert_int_equal(re_main(NULL), 0);
	tmr_cancel(&safety);
	assert_true(at >= t0 + 10 && at < t0 + 10 + 200);
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

#define T(f) cmocka_unit_test_setup_teardown(f, wheel_setup, wheel_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_order),
		T(test_bounds),
		T(test_cancel_in_handler),
		T(test_restart_in_handler),
		T(test_far_future),
		T(test_late_loop),
		T(test_many),
		T(test_close_pending),
		T(test_real_loop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
