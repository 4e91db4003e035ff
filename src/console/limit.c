/* limit: failed sign-ins counted per key (a user of an instance, a client address), so
 * that password guessing is slow: after `max` failures within `window_s` seconds of the
 * first one, the key waits until that window ends (docs/console.md §Signing in). In
 * memory and per node: a restart forgets the counts, and each node of a cluster counts
 * its own (a guesser who spreads over N nodes gets N times the tries, still a handful a
 * minute against a 19 MiB Argon2id hash each).
 *
 * A fixed table of slots, so that a flood of made-up names or addresses cannot grow it:
 * a key hashes (FNV-1a, seeded at random per process, so that nobody can pick keys that
 * collide) to a run of PROBE slots; it takes its own slot, else a free or expired one,
 * else the one whose window started first among those not blocked (a blocked one only
 * when all are). Losing a count that way needs more keys failing at once than the table
 * holds, and the address limit still counts those. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "console/console.h"

enum { SLOTS = 4096, PROBE = 8 };

struct slot {
	uint64_t key;      /* 0 = free */
	int64_t first_s;   /* the window's first failure */
	uint32_t count;
};

struct console_limit {
	pthread_mutex_t lock;
	uint64_t seed;
	uint32_t max, window_s;
	struct slot slots[SLOTS];
};

static void limit_destructor(void *arg)
{
	struct console_limit *l = arg;

	pthread_mutex_destroy(&l->lock);
}

int console_limit_alloc(struct console_limit **lp, uint32_t max, uint32_t window_s)
{
	struct console_limit *l;

	if (!lp || !max || !window_s)
		return EINVAL;
	l = mem_zalloc(sizeof(*l), limit_destructor);
	if (!l)
		return ENOMEM;
	l->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	if (ids_random(&l->seed, sizeof(l->seed))) {
		mem_deref(l);
		return EIO;
	}
	l->max = max;
	l->window_s = window_s;
	*lp = l;
	return 0;
}

static uint64_t key_hash(const struct console_limit *l, const char *key)
{
	uint64_t h = 14695981039346656037ull ^ l->seed;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

static bool expired(const struct console_limit *l, const struct slot *s, int64_t now_s)
{
	return !s->key || now_s >= s->first_s + l->window_s;
}

/* The key's slot, or NULL; with take, a slot for it (free, expired or the oldest). */
static struct slot *slot_of(struct console_limit *l, uint64_t k, int64_t now_s, bool take)
{
	struct slot *free_slot = NULL, *oldest = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct slot *s = &l->slots[(k + i) % SLOTS];

		if (s->key == k)
			return s;
		if (!free_slot && expired(l, s, now_s))
			free_slot = s;
		/* A blocked key is the last to go: it is the one being guessed at. */
		if (!oldest || (s->count < l->max && oldest->count >= l->max) ||
		    ((s->count < l->max) == (oldest->count < l->max) &&
		     s->first_s < oldest->first_s))
			oldest = s;
	}
	if (!take)
		return NULL;
	free_slot = free_slot ? free_slot : oldest;
	*free_slot = (struct slot){.key = k, .first_s = now_s};
	return free_slot;
}

uint32_t console_limit_wait(struct console_limit *l, const char *key, int64_t now_s)
{
	struct slot *s;
	uint32_t wait = 0;

	if (!l || !key)
		return 0;
	pthread_mutex_lock(&l->lock);
	s = slot_of(l, key_hash(l, key), now_s, false);
	if (s && !expired(l, s, now_s) && s->count >= l->max)
		wait = (uint32_t)(s->first_s + l->window_s - now_s);
	pthread_mutex_unlock(&l->lock);
	return wait;
}

void console_limit_fail(struct console_limit *l, const char *key, int64_t now_s)
{
	struct slot *s;

	if (!l || !key)
		return;
	pthread_mutex_lock(&l->lock);
	s = slot_of(l, key_hash(l, key), now_s, true);
	if (expired(l, s, now_s))
		*s = (struct slot){.key = s->key, .first_s = now_s};
	s->count++;
	pthread_mutex_unlock(&l->lock);
}

void console_limit_clear(struct console_limit *l, const char *key)
{
	struct slot *s;

	if (!l || !key)
		return;
	pthread_mutex_lock(&l->lock);
	s = slot_of(l, key_hash(l, key), 0, false);
	if (s)
		*s = (struct slot){0};
	pthread_mutex_unlock(&l->lock);
}
