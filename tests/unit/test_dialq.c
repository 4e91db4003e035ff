/* Unit tests of the dial queue: round robin between tenants, strict order within one,
 * placing only what the ready check allows, the cost of a blocked pass (tenants, not
 * items), expiry in arrival order, removal, the stats other threads read, and the [dial]
 * config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"
#include "dialq/dialq.h"
#include "wheel/wheel.h"

/* Items are small numbers: tenant * 1000 + position. */
struct probe {
	unsigned room;          /* calls the ready check still allows */
	uint64_t wait_ms;       /* what it says when it refuses */
	unsigned readies;       /* ready checks made */
	uintptr_t dialled[128], expired[128];
	unsigned ndialled, nexpired;
};

static int ready(void *item, uint64_t *wait_ms, void *arg)
{
	struct probe *p = arg;

	(void)item;
	p->readies++;
	if (!p->room) {
		*wait_ms = p->wait_ms;
		return EAGAIN;
	}
	return 0;
}

static void dial(void *item, void *arg)
{
	struct probe *p = arg;

	p->room--;
	p->dialled[p->ndialled++] = (uintptr_t)item;
}

static void expire(void *item, void *arg)
{
	struct probe *p = arg;

	p->expired[p->nexpired++] = (uintptr_t)item;
}

static struct dialq *queue(struct probe *p, unsigned max_wait_s, unsigned burst)
{
	const struct dialq_conf dc = {.max_wait_s = max_wait_s, .burst = burst};
	struct dialq *q = NULL;

	memset(p, 0, sizeof(*p));
	assert_int_equal(dialq_alloc(&q, &dc, ready, dial, expire, p), 0);
	return q;
}

static void push(struct dialq *q, uint64_t tenant, unsigned pos, uint64_t since)
{
	assert_int_equal(dialq_push(q, tenant, since, (void *)(uintptr_t)(tenant * 1000 + pos)),
			 0);
}

/* One instance with 30 waiting, another with 3 that came after them: the small one's
 * calls go out among the first, interleaved, not after the 30. */
static void test_fair(void **state)
{
	struct probe p;
	struct dialq *q = queue(&p, 0, 1000);

	(void)state;
	for (unsigned i = 1; i <= 30; i++)
		push(q, 1, i, 100);
	for (unsigned i = 1; i <= 3; i++)
		push(q, 2, i, 200);
	p.room = 1000;
	dialq_run(q, 300);
	assert_int_equal(p.ndialled, 33);
	assert_int_equal(p.dialled[0], 1001);
	assert_int_equal(p.dialled[1], 2001);
	assert_int_equal(p.dialled[2], 1002);
	assert_int_equal(p.dialled[3], 2002);
	assert_int_equal(p.dialled[4], 1003);
	assert_int_equal(p.dialled[5], 2003);
	for (unsigned i = 6; i < 33; i++)
		assert_int_equal(p.dialled[i], 1000 + i - 2); /* the rest of tenant 1, in order */
	assert_int_equal(dialq_count(q), 0);
	mem_deref(q);
}

/* Only what the ready check allows goes out; the rest waits in order, and a blocked pass
 * asks once per tenant, however many items wait. */
static void test_room(void **state)
{
	struct probe p;
	struct dialq *q = queue(&p, 0, 1000);

	(void)state;
	for (unsigned i = 1; i <= 100; i++)
		push(q, 7, i, 0);
	for (unsigned i = 1; i <= 100; i++)
		push(q, 8, i, 0);
	p.room = 3;
	dialq_run(q, 10);
	assert_int_equal(p.ndialled, 3);
	assert_int_equal(p.dialled[0], 7001);
	assert_int_equal(p.dialled[1], 8001);
	assert_int_equal(p.dialled[2], 7002);
	assert_int_equal(dialq_count(q), 197);

	p.readies = 0;
	dialq_run(q, 20);
	assert_int_equal(p.ndialled, 3);
	assert_int_equal(p.readies, 2); /* two tenants waiting: two checks, not 197 */

	p.room = 2;
	dialq_run(q, 30);
	assert_int_equal(p.ndialled, 5);
	assert_int_equal(p.dialled[3], 8002);
	assert_int_equal(p.dialled[4], 7003);
	mem_deref(q);
}

/* A pass places at most `burst`, then yields to the loop. */
static void test_burst(void **state)
{
	struct probe p;
	struct dialq *q = queue(&p, 0, 4);

	(void)state;
	for (unsigned i = 1; i <= 10; i++)
		push(q, 1, i, 0);
	p.room = 100;
	dialq_run(q, 0);
	assert_int_equal(p.ndialled, 4);
	dialq_run(q, 0);
	assert_int_equal(p.ndialled, 8);
	mem_deref(q);
}

/* Items expire in the order they began waiting (an item taken up after a restart keeps
 * the wait it had), never after being placed, and the expired are not placed. */
static void test_expiry(void **state)
{
	struct probe p;
	struct dialq *q = queue(&p, 10, 100);

	(void)state;
	push(q, 1, 1, 5000);
	push(q, 2, 1, 1000);   /* waited longer already (taken up after a restart) */
	push(q, 1, 2, 8000);
	dialq_run(q, 10999);
	assert_int_equal(p.nexpired, 0);
	dialq_run(q, 11000);
	assert_int_equal(p.nexpired, 1);
	assert_int_equal(p.expired[0], 2001);
	dialq_run(q, 15000);
	assert_int_equal(p.nexpired, 2);
	assert_int_equal(p.expired[1], 1001);
	p.room = 1;
	dialq_run(q, 15001);
	assert_int_equal(p.ndialled, 1);
	assert_int_equal(p.dialled[0], 1002);
	dialq_run(q, 99999);
	assert_int_equal(p.nexpired, 2);
	assert_int_equal(dialq_count(q), 0);
	mem_deref(q);
}

static void test_remove(void **state)
{
	struct probe p;
	struct dialq *q = queue(&p, 0, 100);

	(void)state;
	push(q, 1, 1, 0);
	push(q, 1, 2, 0);
	push(q, 2, 1, 0);
	assert_int_equal(dialq_remove(q, (void *)(uintptr_t)1001), 0);
	assert_int_equal(dialq_remove(q, (void *)(uintptr_t)1001), ENOENT);
	assert_int_equal(dialq_remove(q, (void *)(uintptr_t)2001), 0); /* tenant 2 leaves */
	assert_int_equal(dialq_count(q), 1);
	p.room = 10;
	dialq_run(q, 0);
	assert_int_equal(p.ndialled, 1);
	assert_int_equal(p.dialled[0], 1002);
	assert_int_equal(dialq_push(q, 1, 0, NULL), EINVAL);
	mem_deref(q);
}

struct stats_reader {
	const struct dialq *q;
	atomic_bool stop;
	size_t max_depth;
};

static void *stats_read(void *arg)
{
	struct stats_reader *r = arg;
	struct dialq_stats st;

	while (!atomic_load(&r->stop)) {
		dialq_stats(r->q, 1000000, &st);
		if (st.depth > r->max_depth)
			r->max_depth = st.depth;
	}
	return NULL;
}

/* Depth and the oldest wait follow pushes, passes and removals; another thread reads them
 * while the queue changes (the TSan build checks the reads race with nothing). */
static void test_stats(void **state)
{
	struct probe p;
	struct dialq *q = queue(&p, 0, 100);
	struct dialq_stats st;
	struct stats_reader r = {.q = q};
	pthread_t th;

	(void)state;
	dialq_stats(q, 5000, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.oldest_wait_ms, 0);
	dialq_stats(NULL, 5000, &st);
	assert_int_equal(st.depth, 0);

	push(q, 1, 1, 2000);
	push(q, 2, 1, 1000);
	push(q, 1, 2, 3000);
	dialq_stats(q, 5000, &st);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.oldest_wait_ms, 4000);   /* tenant 2's, pushed at 1000 */
	p.room = 1;
	dialq_run(q, 5000);                           /* tenant 1's first leaves */
	dialq_stats(q, 6000, &st);
	assert_int_equal(st.depth, 2);
	assert_int_equal(st.oldest_wait_ms, 5000);
	assert_int_equal(dialq_remove(q, (void *)(uintptr_t)2001), 0);
	dialq_stats(q, 6000, &st);
	assert_int_equal(st.depth, 1);
	assert_int_equal(st.oldest_wait_ms, 3000);

	assert_int_equal(pthread_create(&th, NULL, stats_read, &r), 0);
	for (unsigned i = 1; i <= 100; i++)
		push(q, 3, i, 4000 + i);
	p.room = 1000;
	dialq_run(q, 7000);   /* a burst of 100 */
	dialq_run(q, 7000);   /* the last one */
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	assert_true(r.max_depth <= 101);
	dialq_stats(q, 7000, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.oldest_wait_ms, 0);
	mem_deref(q);
}

static void test_conf(void **state)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};
	struct dialq_conf dc;
	const char *text = "[dial]\nqueue_max_wait = 45\n";

	(void)state;
	assert_int_equal(conf_parse(&cf, text, strlen(text), &err), 0);
	assert_int_equal(dialq_conf_read(cf, &dc, &err), 0);
	assert_int_equal(dc.max_wait_s, 45);
	assert_int_equal(dc.burst, 64);
	mem_deref(cf);
	text = "[dial]\nqueue_max_wait = forever\n";
	assert_int_equal(conf_parse(&cf, text, strlen(text), &err), 0);
	assert_int_equal(dialq_conf_read(cf, &dc, &err), EINVAL);
	assert_int_equal(err.line, 2);
	mem_deref(cf);
}

static int setup(void **state)
{
	(void)state;
	return libre_init();
}

static int teardown(void **state)
{
	(void)state;
	wheel_close(); /* the wheel the timers made, off the loop before it closes */
	libre_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fair),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_conf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
