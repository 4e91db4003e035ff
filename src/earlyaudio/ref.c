/* earlyaudio: reference recordings' fingerprints, and the process-wide registry of those
 * the configuration names.
 *
 * Why a registry and not the trunk: [trunk] settings are plain values copied between the
 * configuration, the user agent and its trunks (and compared byte for byte on a reload),
 * and the files must be read where blocking is allowed (at start, and on the reload
 * thread), never on the loop where trunks are made. So the configuration keeps paths,
 * earlyaudio_ref_load reads them there, and a call looks its trunk's paths up here when
 * its early media starts. Entries are never freed: a reload that finds a file edited
 * (size or modification time) loads it again into a new entry and leaves the old one to
 * the calls that may still hold it; the cost is a few kilobytes per edit. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "earlyaudio/earlyaudio_int.h"
#include "media/media.h"

/* A reference must give this many landmarks: about a second of speech. */
enum { EA_REF_MIN_HASHES = 100 };

static void ref_destructor(void *arg)
{
	struct earlyaudio_ref *r = arg;

	mem_deref(r->h);
}

static int hash_cmp(const void *a, const void *b)
{
	const struct ea_hash *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

int earlyaudio_ref_alloc(struct earlyaudio_ref **rp, const int16_t *pcm, size_t n,
			 const char *name)
{
	struct earlyaudio_ref *r;
	struct ea_print *pr;
	struct ea_hash out[EA_HASH_OUT_MAX];
	int16_t win[EA_WIN] = {0};
	size_t cap = 0;

	if (!rp || (!pcm && n))
		return EINVAL;
	r = mem_zalloc(sizeof(*r), ref_destructor);
	pr = mem_zalloc(sizeof(*pr), NULL);
	if (!r || !pr) {
		mem_deref(r);
		mem_deref(pr);
		return ENOMEM;
	}
	str_ncpy(r->name, name ? name : "", sizeof(r->name));
	for (size_t off = 0; off + EA_HOP <= n; off += EA_HOP) {
		struct ea_spec s;
		unsigned k;

		memmove(win, win + EA_HOP, sizeof(int16_t) * (EA_WIN - EA_HOP));
		memcpy(win + EA_WIN - EA_HOP, pcm + off, sizeof(int16_t) * EA_HOP);
		earlyaudio_spectrum(win, win + EA_WIN - EA_HOP, &s);
		k = earlyaudio_print_hop(pr, &s, out, EA_HASH_OUT_MAX);
		if (r->n + k > cap) {
			struct ea_hash *h;

			cap = (r->n + k) * 2 + 256;
			h = r->h ? mem_realloc(r->h, cap * sizeof(*h)) :
				   mem_alloc(cap * sizeof(*h), NULL);
			if (!h) {
				mem_deref(pr);
				mem_deref(r);
				return ENOMEM;
			}
			r->h = h;
		}
		r->hops++;
		if (!k)
			continue;
		memcpy(r->h + r->n, out, k * sizeof(*out));
		r->n += k;
	}
	mem_deref(pr);
	if (r->n)
		qsort(r->h, r->n, sizeof(*r->h), hash_cmp);
	*rp = r;
	return 0;
}

size_t earlyaudio_ref_lookup(const struct earlyaudio_ref *r, uint32_t hash,
			     const struct ea_hash **first)
{
	size_t lo = 0, hi = r->n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->h[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < r->n && r->h[end].hash == hash; end++)
		;
	*first = r->h + lo;
	return end - lo;
}

const char *earlyaudio_ref_name(const struct earlyaudio_ref *r)
{
	return r ? r->name : "";
}

size_t earlyaudio_ref_hashes(const struct earlyaudio_ref *r)
{
	return r ? r->n : 0;
}

/* ---- the registry ------------------------------------------------------------------ */

struct reg_entry {
	struct reg_entry *next;
	char *path;
	off_t size;
	struct timespec mtime;
	struct earlyaudio_ref *ref;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg_head;   /* newest first: a lookup finds the latest load */

static struct reg_entry *reg_find(const char *path)
{
	for (struct reg_entry *e = reg_head; e; e = e->next) {
		if (!strcmp(e->path, path))
			return e;
	}
	return NULL;
}

int earlyaudio_ref_load(const char *path, char *why, size_t whysz)
{
	struct reg_entry *e;
	struct earlyaudio_ref *r = NULL;
	struct stat st;
	int16_t *pcm = NULL;
	size_t n = 0;
	const char *base;
	bool same;
	int err;

	if (!path || !why || !whysz)
		return EINVAL;
	if (stat(path, &st)) {
		err = errno;
		snprintf(why, whysz, "%s: %s", path, strerror(err));
		return err;
	}
	pthread_mutex_lock(&reg_lock);
	e = reg_find(path);
	same = e && e->size == st.st_size && e->mtime.tv_sec == st.st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st.st_mtim.tv_nsec;
	pthread_mutex_unlock(&reg_lock);
	if (same)
		return 0;
	err = media_pcm_file(path, &pcm, &n, why, whysz);
	if (err)
		return err;
	base = strrchr(path, '/');
	err = earlyaudio_ref_alloc(&r, pcm, n, base ? base + 1 : path);
	mem_deref(pcm);
	if (err) {
		snprintf(why, whysz, "%s: %s", path, strerror(err));
		return err;
	}
	if (r->n < EA_REF_MIN_HASHES) {
		snprintf(why, whysz, "%s: too little sound to recognise (%zu landmarks, at least "
			 "%d needed: a second or more of speech)", path, r->n, EA_REF_MIN_HASHES);
		mem_deref(r);
		return EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (e)
		e->path = strdup(path);
	if (!e || !e->path) {
		free(e);
		mem_deref(r);
		snprintf(why, whysz, "%s: out of memory", path);
		return ENOMEM;
	}
	e->size = st.st_size;
	e->mtime = st.st_mtim;
	e->ref = r;
	pthread_mutex_lock(&reg_lock);
	e->next = reg_head;
	reg_head = e;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

const struct earlyaudio_ref *earlyaudio_ref_find(const char *path)
{
	struct reg_entry *e;

	if (!path)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	e = reg_find(path);
	pthread_mutex_unlock(&reg_lock);
	return e ? e->ref : NULL;
}
