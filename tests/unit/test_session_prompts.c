/* Unit tests of the session module's prompt table: the control loop's lookup never waits
 * on a file being decoded by another thread, and a file decoded twice at once is kept
 * once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "session/session_int.h"
#include "media/media.h"

/* A decoder that, for "slow.wav", says it started and then blocks until released. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool decoding;        /* a decode of slow.wav has begun */
	bool release;         /* slow.wav's decodes may finish */
	unsigned decodes;
	struct session_prompts *t;
	bool lookup_done;     /* the lookup thread returned */
	struct media_prompt *found;
};

static int gate_decode(const char *path, struct media_prompt **pp, void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->lock);
	g->decodes++;
	if (!strcmp(path, "slow.wav")) {
		g->decoding = true;
		pthread_cond_broadcast(&g->cond);
		while (!g->release)
			pthread_cond_wait(&g->cond, &g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	return media_prompt_tone(pp, 1000, 20);
}

/* Waits (generously bounded) until *flag is set; true if it was. */
static bool gate_wait(struct gate *g, const bool *flag)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&g->lock);
	while (!*flag && pthread_cond_timedwait(&g->cond, &g->lock, &until) != ETIMEDOUT)
		;
	ok = *flag;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

static void gate_set(struct gate *g, bool *flag)
{
	pthread_mutex_lock(&g->lock);
	*flag = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void *load_slow(void *arg)
{
	struct gate *g = arg;

	return (void *)(intptr_t)session_prompts_load(g->t, "slow.wav");
}

static void *lookup_fast(void *arg)
{
	struct gate *g = arg;
	struct media_prompt *p = session_prompts_get(g->t, "fast.wav");

	pthread_mutex_lock(&g->lock);
	g->found = p;
	g->lookup_done = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void gate_init(struct gate *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	assert_int_equal(session_prompts_alloc(&g->t, gate_decode, g), 0);
}

static void gate_close(struct gate *g)
{
	mem_deref(g->t);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

static void test_lookup_does_not_wait_on_decoding(void **state)
{
	pthread_t loader, looker;
	struct gate g;
	bool returned;
	void *rc;

	(void)state;
	gate_init(&g);
	assert_int_equal(session_prompts_load(g.t, "fast.wav"), 0);

	/* One thread decodes slow.wav and stays in the decoder; the lookup of another file,
	 * as the control loop makes it, must return meanwhile. */
	assert_int_equal(pthread_create(&loader, NULL, load_slow, &g), 0);
	assert_true(gate_wait(&g, &g.decoding));
	assert_int_equal(pthread_create(&looker, NULL, lookup_fast, &g), 0);
	returned = gate_wait(&g, &g.lookup_done);
	gate_set(&g, &g.release);
	pthread_join(looker, NULL);
	pthread_join(loader, &rc);
	assert_true(returned);
	assert_non_null(g.found);
	assert_int_equal((intptr_t)rc, 0);
	assert_non_null(session_prompts_get(g.t, "slow.wav"));
	assert_null(session_prompts_get(g.t, "missing.wav"));
	gate_close(&g);
}

static void test_same_file_decoded_twice_kept_once(void **state)
{
	pthread_t a, b;
	struct media_prompt *p;
	struct gate g;

	(void)state;
	gate_init(&g);
	/* Both threads miss the table, both decode; the first to insert wins and the second
	 * drops its copy (a leak or a second entry would show in the counts). */
	assert_int_equal(pthread_create(&a, NULL, load_slow, &g), 0);
	assert_true(gate_wait(&g, &g.decoding));
	assert_int_equal(pthread_create(&b, NULL, load_slow, &g), 0);
	for (int i = 0; i < 1000; i++) { /* until b is in the decoder too (bounded) */
		unsigned n;

		pthread_mutex_lock(&g.lock);
		n = g.decodes;
		pthread_mutex_unlock(&g.lock);
		if (n == 2)
			break;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	gate_set(&g, &g.release);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(g.decodes, 2);
	p = session_prompts_get(g.t, "slow.wav");
	assert_non_null(p);
	/* Loading it again finds it: no third decode, the same prompt. */
	assert_int_equal(session_prompts_load(g.t, "slow.wav"), 0);
	assert_int_equal(g.decodes, 2);
	assert_ptr_equal(session_prompts_get(g.t, "slow.wav"), p);
	gate_close(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_does_not_wait_on_decoding),
		cmocka_unit_test(test_same_file_decoded_twice_kept_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
