/* replay: v1 replay protection — each signed (SecretId, Timestamp, Nonce, Signature) is
 * accepted once while its timestamp is inside the ±300 s window (spec §6.6).
 *
 * The Node SDK draws Nonce from 0..65535, so two different requests of one second share a
 * nonce about once per 3,000 pairs; keying on the signature as well means only a true
 * copy (same parameters, same nonce, same second) is refused. Entries are 64-bit
 * fingerprints (SHA-256 prefix) in one open-addressing set per timestamp second; a whole
 * second is dropped at once when it leaves the window, so expiry costs nothing per entry. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <openssl/sha.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"

/* A power of two above the 601 seconds a valid timestamp can take. */
enum { SLOTS = 1024, WINDOW_S = 300 };

struct replay_second {
	int64_t second;      /* the timestamp these fingerprints belong to */
	uint64_t *fp;        /* open addressing, 0 = empty; owned (mem) */
	size_t cap, n;
};

struct api_replay {
	pthread_mutex_t lock;          /* guards everything below */
	size_t max_entries, n_entries;
	struct replay_second sec[SLOTS];
};

static void replay_destructor(void *arg)
{
	struct api_replay *rp = arg;

	for (size_t i = 0; i < SLOTS; i++)
		mem_deref(rp->sec[i].fp);
	pthread_mutex_destroy(&rp->lock);
}

int api_replay_alloc(struct api_replay **rpp, size_t max_entries)
{
	struct api_replay *rp = mem_zalloc(sizeof(*rp), replay_destructor);

	if (!rp)
		return ENOMEM;
	pthread_mutex_init(&rp->lock, NULL);
	rp->max_entries = max_entries;
	for (size_t i = 0; i < SLOTS; i++)
		rp->sec[i].second = -1;
	*rpp = rp;
	return 0;
}

static uint64_t fingerprint(const char *secret_id, int64_t ts, const char *nonce,
			    const char *signature)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char buf[400];
	uint64_t fp;
	/* Every part is bounded once the request is verified (the signature is ours). */
	int n = snprintf(buf, sizeof(buf), "%s\n%lld\n%s\n%s", secret_id, (long long)ts,
			 nonce, signature);

	SHA256((const uint8_t *)buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n :
	       sizeof(buf) - 1, md);
	memcpy(&fp, md, sizeof(fp));
	return fp ? fp : 1;
}

/* Finds fp's slot: the slot holding it, or the empty one where it goes. */
static size_t probe(const struct replay_second *s, uint64_t fp)
{
	size_t i = (size_t)(fp & (s->cap - 1));

	while (s->fp[i] && s->fp[i] != fp)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(struct replay_second *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64;
	uint64_t *old = s->fp, *nfp = mem_zalloc(ncap * sizeof(*nfp), NULL);
	size_t ocap = s->cap;

	if (!nfp)
		return ENOMEM;
	s->fp = nfp;
	s->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i])
			s->fp[probe(s, old[i])] = old[i];
	}
	mem_deref(old);
	return 0;
}

int api_replay_check(struct api_replay *rp, const char *secret_id, int64_t timestamp,
		     const char *nonce, const char *signature, int64_t now_s)
{
	uint64_t fp = fingerprint(secret_id, timestamp, nonce, signature);
	struct replay_second *s;
	size_t i;
	int err = 0;

	if (timestamp < now_s - WINDOW_S || timestamp > now_s + WINDOW_S)
		return 0; /* refused as expired before ever getting here */
	pthread_mutex_lock(&rp->lock);
	s = &rp->sec[(uint64_t)timestamp & (SLOTS - 1)];
	if (s->second != timestamp) {
		/* The slot held a second that has left the window (the window is narrower
		 * than the ring): forget it whole. */
		rp->n_entries -= s->n;
		s->n = 0;
		s->second = timestamp;
		if (s->fp)
			memset(s->fp, 0, s->cap * sizeof(*s->fp));
	}
	if (s->cap && s->fp[probe(s, fp)] == fp) {
		err = EALREADY;
		goto out;
	}
	if (rp->n_entries >= rp->max_entries) {
		err = ENOSPC;
		goto out;
	}
	if ((s->n + 1) * 2 > s->cap && (err = grow(s)))
		goto out;
	i = probe(s, fp);
	s->fp[i] = fp;
	s->n++;
	rp->n_entries++;
out:
	pthread_mutex_unlock(&rp->lock);
	return err;
}
