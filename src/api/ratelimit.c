/* ratelimit: per (account, action) request rates over a sliding one-second window.
 *
 * Each key keeps the times of its last `limit` accepted requests in a ring; a request is
 * accepted when fewer than `limit` were accepted in the second before it, i.e. when the
 * oldest of the ring is at least 1 s old. This is exact (no fixed-window bursts of 2x at a
 * second boundary) and costs limit × 8 bytes per active key. Refused requests are not
 * recorded, so a client that keeps retrying gets through as soon as the window allows.
 * Keys idle for a second are swept every few seconds, so memory follows the active
 * (authenticated) accounts only. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_hash.h>
#include "api/api_int.h"

enum { WINDOW_US = 1000000, SWEEP_US = 5 * WINDOW_US };

struct rl_entry {
	struct le he;           /* in api_ratelimit.keys */
	uint64_t account_id;
	char action[64];
	unsigned cap;           /* ring size = the limit it was made for */
	unsigned count;         /* accepted requests recorded (<= cap) */
	unsigned head;          /* index of the oldest when count == cap */
	uint64_t newest_us;
	uint64_t ring[];
};

struct api_ratelimit {
	pthread_mutex_t lock;   /* guards keys and last_sweep_us */
	struct hash *keys;      /* rl_entry, owned */
	uint64_t last_sweep_us;
};

struct rl_key {
	uint64_t account_id;
	const char *action;
};

static void rl_destructor(void *arg)
{
	struct api_ratelimit *rl = arg;

	hash_flush(rl->keys);
	mem_deref(rl->keys);
	pthread_mutex_destroy(&rl->lock);
}

static void entry_destructor(void *arg)
{
	struct rl_entry *en = arg;

	hash_unlink(&en->he);
}

int api_ratelimit_alloc(struct api_ratelimit **rlp)
{
	struct api_ratelimit *rl = mem_zalloc(sizeof(*rl), rl_destructor);
	int err;

	if (!rl)
		return ENOMEM;
	pthread_mutex_init(&rl->lock, NULL);
	err = hash_alloc(&rl->keys, 256);
	if (err)
		mem_deref(rl);
	else
		*rlp = rl;
	return err;
}

/* Threads read the clock before taking the lock, so times may arrive slightly out of
 * order: compare as signed differences. */
static bool older_than_window(uint64_t now_us, uint64_t t_us)
{
	return (int64_t)(now_us - t_us) >= WINDOW_US;
}

static bool entry_match(struct le *le, void *arg)
{
	const struct rl_entry *en = le->data;
	const struct rl_key *k = arg;

	return en->account_id == k->account_id && !strcmp(en->action, k->action);
}

static bool entry_idle(struct le *le, void *arg)
{
	struct rl_entry *en = le->data;
	const uint64_t *now = arg;

	if (older_than_window(*now, en->newest_us))
		mem_deref(en);
	return false;
}

static uint32_t key_hash(const struct rl_key *k)
{
	return hash_joaat_str(k->action) ^ hash_joaat((const uint8_t *)&k->account_id,
						      sizeof(k->account_id));
}

bool api_ratelimit_take(struct api_ratelimit *rl, uint64_t account_id, const char *action,
			unsigned limit, uint64_t now_us)
{
	struct rl_key k = {account_id, action};
	uint32_t h = key_hash(&k);
	struct rl_entry *en;
	bool ok = false;

	if (!limit)
		return true;
	pthread_mutex_lock(&rl->lock);
	if ((int64_t)(now_us - rl->last_sweep_us) >= SWEEP_US) {
		hash_apply(rl->keys, entry_idle, &now_us);
		rl->last_sweep_us = now_us;
	}
	en = list_ledata(hash_lookup(rl->keys, h, entry_match, &k));
	if (en && en->cap != limit) {
		mem_deref(en);
		en = NULL;
	}
	if (!en) {
		en = mem_zalloc(sizeof(*en) + limit * sizeof(en->ring[0]), entry_destructor);
		if (!en)
			goto out; /* out of memory: refuse rather than let an unlimited flood in */
		en->account_id = account_id;
		strncpy(en->action, action, sizeof(en->action) - 1);
		en->cap = limit;
		hash_append(rl->keys, h, &en->he, en);
	}
	if (en->count < en->cap) {
		en->ring[(en->head + en->count++) % en->cap] = now_us;
		ok = true;
	}
	else if (older_than_window(now_us, en->ring[en->head])) {
		en->ring[en->head] = now_us;
		en->head = (en->head + 1) % en->cap;
		ok = true;
	}
	if (ok && (int64_t)(now_us - en->newest_us) > 0)
		en->newest_us = now_us;
out:
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

static bool count_one(struct le *le, void *arg)
{
	size_t *n = arg;

	(void)le;
	(*n)++;
	return false;
}

size_t api_ratelimit_keys(struct api_ratelimit *rl)
{
	size_t n = 0;

	pthread_mutex_lock(&rl->lock);
	hash_apply(rl->keys, count_one, &n);
	pthread_mutex_unlock(&rl->lock);
	return n;
}
