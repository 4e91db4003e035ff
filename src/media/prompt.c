/* prompt: audio files → 8 kHz G.711 (both codecs, encoded once), and the bounded LRU cache
 * that keeps them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sndfile.h>
#include <speex/speex_resampler.h>
#include "media/media_int.h"

enum {
	PROMPT_MAX_SECONDS = 3600,      /* longer is a mistake, not a prompt */
	RESAMPLE_QUALITY = 6,           /* speexdsp 0..10; 6 is clean for speech, fast enough once */
};

struct media_audio *media_audio_ref(struct media_audio *a)
{
	if (a)
		atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void media_audio_release(struct media_audio *a)
{
	if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(a->enc[0]);
	free(a->key);
	free(a);
}

static int audio_new(struct media_audio **ap, size_t n)
{
	struct media_audio *a = calloc(1, sizeof(*a));

	if (!a)
		return ENOMEM;
	/* One block: PCMU, PCMA, then the linear samples (aligned: n bytes twice is even). */
	a->enc[0] = malloc(4 * (n ? n : 1));
	if (!a->enc[0]) {
		free(a);
		return ENOMEM;
	}
	a->enc[1] = a->enc[0] + n;
	a->pcm = (int16_t *)(void *)(a->enc[0] + 2 * n);
	a->nsamples = n;
	a->bytes = sizeof(*a) + 4 * n;
	atomic_init(&a->refs, 1);
	*ap = a;
	return 0;
}

/* Mono 8 kHz from any layout: channels are averaged, other rates go through speexdsp. The
 * resampler is flushed with zeros for its input latency so the tail is not lost. */
static int pcm_to_8k(const int16_t *pcm, size_t frames, unsigned channels, unsigned rate,
		     int16_t **outp, size_t *noutp)
{
	int16_t *mono = malloc(sizeof(int16_t) * (frames ? frames : 1)), *out = NULL;
	size_t nout;
	int err = 0;

	if (!mono)
		return ENOMEM;
	for (size_t i = 0; i < frames; i++) {
		int32_t sum = 0;

		for (unsigned c = 0; c < channels; c++)
			sum += pcm[i * channels + c];
		mono[i] = (int16_t)(sum / (int32_t)channels);
	}
	if (rate == MEDIA_RATE) {
		*outp = mono;
		*noutp = frames;
		return 0;
	}
	nout = (size_t)((uint64_t)frames * MEDIA_RATE / rate);
	out = malloc(sizeof(int16_t) * (nout ? nout : 1));
	if (!out) {
		err = ENOMEM;
		goto out;
	}
	{
		int rerr = 0;
		SpeexResamplerState *rs = speex_resampler_init(1, rate, MEDIA_RATE,
							       RESAMPLE_QUALITY, &rerr);
		size_t in_done = 0, out_done = 0;
		static const int16_t zeros[256];

		if (!rs) {
			err = ENOMEM;
			goto out;
		}
		speex_resampler_skip_zeros(rs);
		while (out_done < nout) {
			spx_uint32_t in_len, out_len = (spx_uint32_t)(nout - out_done);
			const int16_t *in;

			if (in_done < frames) {
				in = mono + in_done;
				in_len = (spx_uint32_t)(frames - in_done);
			} else {
				in = zeros;
				in_len = 256;
			}
			if (out_len > 1 << 20)
				out_len = 1 << 20;
			if (in_len > 1 << 20)
				in_len = 1 << 20;
			speex_resampler_process_int(rs, 0, in, &in_len, out + out_done, &out_len);
			if (in_done < frames)
				in_done += in_len;
			out_done += out_len;
			if (!in_len && !out_len)
				break;
		}
		speex_resampler_destroy(rs);
		nout = out_done;
	}
out:
	free(mono);
	if (err) {
		free(out);
		return err;
	}
	*outp = out;
	*noutp = nout;
	return 0;
}

int media_audio_from_pcm(struct media_audio **ap, const int16_t *pcm, size_t frames,
		   unsigned channels, unsigned rate, char *why, size_t whysz)
{
	struct media_audio *a = NULL;
	int16_t *mono = NULL;
	size_t n = 0;
	int err;

	if (!channels || channels > 64 || rate < 1000 || rate > 768000) {
		snprintf(why, whysz, "unsupported audio layout (%u channels at %u Hz)", channels,
			 rate);
		return EINVAL;
	}
	if (!frames) {
		snprintf(why, whysz, "no audio in it");
		return EINVAL;
	}
	if (frames / rate > PROMPT_MAX_SECONDS) {
		snprintf(why, whysz, "longer than %d seconds", PROMPT_MAX_SECONDS);
		return EFBIG;
	}
	err = pcm_to_8k(pcm, frames, channels, rate, &mono, &n);
	if (!err)
		err = audio_new(&a, n);
	if (err) {
		snprintf(why, whysz, "out of memory");
		free(mono);
		return err;
	}
	media_g711_encode(MEDIA_PCMU, a->enc[0], mono, n);
	media_g711_encode(MEDIA_PCMA, a->enc[1], mono, n);
	memcpy(a->pcm, mono, n * sizeof(int16_t));
	free(mono);
	*ap = a;
	return 0;
}

static int audio_from_sndfile(struct media_audio **ap, SNDFILE *sf, const SF_INFO *info,
			      char *why, size_t whysz)
{
	int16_t *pcm;
	sf_count_t got;
	int err;

	if (info->channels <= 0 || info->channels > 64 || info->samplerate < 1000 ||
	    info->samplerate > 768000) {
		snprintf(why, whysz, "unsupported audio layout (%d channels at %d Hz)",
			 info->channels, info->samplerate);
		return EINVAL;
	}
	if (info->frames <= 0) {
		snprintf(why, whysz, "no audio in it");
		return EINVAL;
	}
	if (info->frames / info->samplerate > PROMPT_MAX_SECONDS) {
		snprintf(why, whysz, "longer than %d seconds", PROMPT_MAX_SECONDS);
		return EFBIG;
	}
	pcm = malloc(sizeof(int16_t) * (size_t)info->frames * (size_t)info->channels);
	if (!pcm) {
		snprintf(why, whysz, "out of memory");
		return ENOMEM;
	}
	got = sf_readf_short(sf, pcm, info->frames);
	if (got <= 0) {
		snprintf(why, whysz, "cannot read its audio: %s", sf_strerror(sf));
		free(pcm);
		return EIO;
	}
	err = media_audio_from_pcm(ap, pcm, (size_t)got, (unsigned)info->channels,
			     (unsigned)info->samplerate, why, whysz);
	free(pcm);
	return err;
}

/* libsndfile reading from memory (TTS programs write their WAV to a pipe). */
struct membuf {
	const uint8_t *p;
	sf_count_t len, pos;
};

static sf_count_t vio_len(void *u)
{
	return ((struct membuf *)u)->len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *u)
{
	struct membuf *b = u;
	sf_count_t np = whence == SEEK_SET ? off : whence == SEEK_CUR ? b->pos + off : b->len + off;

	if (np < 0 || np > b->len)
		return -1;
	b->pos = np;
	return np;
}

static sf_count_t vio_read(void *dst, sf_count_t n, void *u)
{
	struct membuf *b = u;

	if (n > b->len - b->pos)
		n = b->len - b->pos;
	memcpy(dst, b->p + b->pos, (size_t)n);
	b->pos += n;
	return n;
}

static sf_count_t vio_write(const void *src, sf_count_t n, void *u)
{
	return 0;
}

static sf_count_t vio_tell(void *u)
{
	return ((struct membuf *)u)->pos;
}

int media_audio_from_memory(struct media_audio **ap, const void *buf, size_t len, char *why,
		      size_t whysz)
{
	SF_VIRTUAL_IO vio = {vio_len, vio_seek, vio_read, vio_write, vio_tell};
	struct membuf mb = {buf, (sf_count_t)len, 0};
	SF_INFO info = {0};
	SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &info, &mb);
	int err;

	if (!sf) {
		snprintf(why, whysz, "not an audio file: %s", sf_strerror(NULL));
		return EINVAL;
	}
	/* A WAV written to a pipe cannot carry its length; libsndfile then takes the data
	 * chunk to run to the end of what it got, which is what we want. */
	err = audio_from_sndfile(ap, sf, &info, why, whysz);
	sf_close(sf);
	return err;
}

int media_pcm_file(const char *path, int16_t **pcmp, size_t *np, char *why, size_t whysz)
{
	struct media_audio *a = NULL;
	SF_INFO info = {0};
	SNDFILE *sf;
	int16_t *pcm;
	int err;

	if (!path || !pcmp || !np || !why || !whysz)
		return EINVAL;
	sf = sf_open(path, SFM_READ, &info);
	if (!sf) {
		snprintf(why, whysz, "%s: %s", path, sf_strerror(NULL));
		return ENOENT;
	}
	err = audio_from_sndfile(&a, sf, &info, why, whysz);
	sf_close(sf);
	if (err)
		return err;
	pcm = mem_alloc(sizeof(*pcm) * (a->nsamples ? a->nsamples : 1), NULL);
	if (!pcm) {
		media_audio_release(a);
		return ENOMEM;
	}
	memcpy(pcm, a->pcm, sizeof(*pcm) * a->nsamples);
	*np = a->nsamples;
	*pcmp = pcm;
	media_audio_release(a);
	return 0;
}

static void prompt_destructor(void *arg)
{
	struct media_prompt *p = arg;

	media_audio_release(p->a);
}

int media_prompt_tone(struct media_prompt **pp, unsigned hz, unsigned ms)
{
	struct media_audio *a = NULL;
	size_t n = (size_t)ms * 8;
	char why[64];
	int16_t *pcm;
	int err;

	if (!pp || !hz || hz >= 4000 || !ms || ms > 10000)
		return EINVAL;
	pcm = mem_alloc(n * sizeof(*pcm), NULL);
	if (!pcm)
		return ENOMEM;
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)lrint(8000.0 * sin(2.0 * M_PI * hz * (double)i / 8000.0));
	err = media_audio_from_pcm(&a, pcm, n, 1, 8000, why, sizeof(why));
	mem_deref(pcm);
	if (err)
		return err;
	err = media_prompt_handle(pp, a);
	media_audio_release(a);
	return err;
}

int media_prompt_handle(struct media_prompt **pp, struct media_audio *a)
{
	struct media_prompt *p = mem_zalloc(sizeof(*p), prompt_destructor);

	if (!p)
		return ENOMEM;
	p->a = media_audio_ref(a);
	*pp = p;
	return 0;
}

size_t media_prompt_samples(const struct media_prompt *p)
{
	return p && p->a ? p->a->nsamples : 0;
}

/* ---- the cache --------------------------------------------------------------------- */

void media_cache_init(struct media_cache *c, size_t max)
{
	pthread_mutex_init(&c->lock, NULL);
	list_init(&c->lru);
	c->max = max;
}

static void cache_drop(struct media_cache *c, struct media_audio *a)
{
	list_unlink(&a->le);
	a->cached = false;
	c->bytes -= a->bytes;
	media_audio_release(a);
}

void media_cache_close(struct media_cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (!list_isempty(&c->lru))
		cache_drop(c, list_ledata(list_head(&c->lru)));
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
}

struct media_audio *media_cache_get(struct media_cache *c, const char *key)
{
	struct media_audio *hit = NULL;
	struct le *le;

	pthread_mutex_lock(&c->lock);
	LIST_FOREACH(&c->lru, le) {
		struct media_audio *a = le->data;

		if (!strcmp(a->key, key)) {
			hit = media_audio_ref(a);
			list_unlink(&a->le);
			list_prepend(&c->lru, &a->le, a);
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void media_cache_put(struct media_cache *c, const char *key, struct media_audio *a)
{
	char *k;

	/* Bigger than the whole cache: it is used, not kept. */
	if (a->cached || a->bytes > c->max)
		return;
	k = strdup(key);
	if (!k)
		return;
	pthread_mutex_lock(&c->lock);
	while (c->bytes + a->bytes > c->max && !list_isempty(&c->lru)) {
		cache_drop(c, list_ledata(list_tail(&c->lru)));
		c->evicted++;
	}
	free(a->key);
	a->key = k;
	a->cached = true;
	list_prepend(&c->lru, &a->le, media_audio_ref(a));
	c->bytes += a->bytes;
	pthread_mutex_unlock(&c->lock);
}

void media_cache_stats(struct media *m, size_t *bytesp, size_t *entriesp, size_t *evictedp)
{
	pthread_mutex_lock(&m->cache.lock);
	if (bytesp)
		*bytesp = m->cache.bytes;
	if (entriesp)
		*entriesp = list_count(&m->cache.lru);
	if (evictedp)
		*evictedp = m->cache.evicted;
	pthread_mutex_unlock(&m->cache.lock);
}

int media_prompt_file(struct media *m, const char *path, struct media_prompt **pp,
		      char *why, size_t whysz)
{
	struct media_audio *a = NULL;
	struct stat st;
	SF_INFO info = {0};
	SNDFILE *sf;
	char key[1200];
	int err;

	if (!m || !path || !pp || !why || !whysz)
		return EINVAL;
	*why = '\0';
	if (stat(path, &st)) {
		err = errno;
		snprintf(why, whysz, "prompt %s: %s", path, strerror(err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "prompt %s: not a regular file", path);
		return EINVAL;
	}
	/* The key carries size and modification time: an edited file is read again. */
	snprintf(key, sizeof(key), "file:%s:%lld:%lld.%09ld", path, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	a = media_cache_get(&m->cache, key);
	if (!a) {
		char reason[200] = "";

		sf = sf_open(path, SFM_READ, &info);
		if (!sf) {
			snprintf(why, whysz, "prompt %s: not a readable audio file (%s)", path,
				 sf_strerror(NULL));
			return EINVAL;
		}
		err = audio_from_sndfile(&a, sf, &info, reason, sizeof(reason));
		sf_close(sf);
		if (err) {
			snprintf(why, whysz, "prompt %s: %s", path, reason);
			return err;
		}
		media_cache_put(&m->cache, key, a);
	}
	err = media_prompt_handle(pp, a);
	if (err)
		snprintf(why, whysz, "prompt %s: out of memory", path);
	media_audio_release(a);
	return err;
}
