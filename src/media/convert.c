/* convert: an uploaded WAV or MP3 file → the prompt format (8 kHz mono 16-bit WAV), once,
 * so that loading it for a call is a plain read (UploadIvrAudio). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mpg123.h>
#include <sndfile.h>
#include "media/media_int.h"

/* The type by the first bytes, not by the URL's name or Content-Type, which lie. */
static bool is_wav(const uint8_t *b, size_t len)
{
	return len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WAVE", 4);
}

/* An ID3v2 tag, or an MPEG audio frame sync (11 bits set) of layer III. */
static bool is_mp3(const uint8_t *b, size_t len)
{
	if (len >= 3 && !memcmp(b, "ID3", 3))
		return true;
	return len >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0 && (b[1] & 0x06) == 0x02;
}

/* The whole file through libmpg123's feed reader into 16-bit PCM. Every rate the library
 * knows is allowed at 16 bits, so it never resamples: media_audio_from_pcm does that. */
static int mp3_decode(struct media_audio **ap, const uint8_t *buf, size_t len, char *why,
		      size_t whysz)
{
	mpg123_handle *mh = mpg123_new(NULL, NULL);
	const long *rates;
	size_t n_rates, cap = 0, used = 0, got;
	uint8_t *pcm = NULL, *grown;
	long rate = 0;
	int channels = 0, enc, rc, err = 0;

	if (!mh) {
		snprintf(why, whysz, "out of memory");
		return ENOMEM;
	}
	mpg123_param(mh, MPG123_ADD_FLAGS, MPG123_QUIET, 0);
	mpg123_format_none(mh);
	mpg123_rates(&rates, &n_rates);
	for (size_t i = 0; i < n_rates; i++)
		mpg123_format(mh, rates[i], MPG123_MONO | MPG123_STEREO, MPG123_ENC_SIGNED_16);
	if (mpg123_open_feed(mh) != MPG123_OK || mpg123_feed(mh, buf, len) != MPG123_OK) {
		snprintf(why, whysz, "the MP3 decoder refused it");
		err = EINVAL;
		goto out;
	}
	for (;;) {
		if (cap - used < 65536) {
			cap = cap ? 2 * cap : 1u << 20;
			grown = realloc(pcm, cap);
			if (!grown) {
				snprintf(why, whysz, "out of memory");
				err = ENOMEM;
				goto out;
			}
			pcm = grown;
		}
		rc = mpg123_read(mh, pcm + used, cap - used, &got);
		used += got;
		if (rc == MPG123_NEW_FORMAT)
			mpg123_getformat(mh, &rate, &channels, &enc);
		else if (rc == MPG123_NEED_MORE || rc == MPG123_DONE)
			break;
		else if (rc != MPG123_OK) {
			snprintf(why, whysz, "not a valid MP3 file: %s", mpg123_strerror(mh));
			err = EINVAL;
			goto out;
		}
	}
	if (!rate || !channels || !used) {
		snprintf(why, whysz, "no MP3 audio in it");
		err = EINVAL;
		goto out;
	}
	err = media_audio_from_pcm(ap, (const int16_t *)(void *)pcm,
				   used / (2 * (size_t)channels), (unsigned)channels,
				   (unsigned)rate, why, whysz);
out:
	free(pcm);
	mpg123_delete(mh);
	return err;
}

/* Written next to its place and renamed: a reader never sees half a file. */
static int wav_write(const struct media_audio *a, const char *path, char *why, size_t whysz)
{
	SF_INFO info = {.samplerate = 8000, .channels = 1,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	char tmp[1024];
	SNDFILE *sf;
	sf_count_t put;

	if (snprintf(tmp, sizeof(tmp), "%s.part", path) >= (int)sizeof(tmp)) {
		snprintf(why, whysz, "path too long");
		return ENAMETOOLONG;
	}
	sf = sf_open(tmp, SFM_WRITE, &info);
	if (!sf) {
		snprintf(why, whysz, "cannot write %s: %s", tmp, sf_strerror(NULL));
		return EIO;
	}
	put = sf_write_short(sf, a->pcm, (sf_count_t)a->nsamples);
	if (sf_close(sf) || put != (sf_count_t)a->nsamples || rename(tmp, path)) {
		snprintf(why, whysz, "cannot write %s", path);
		unlink(tmp);
		return EIO;
	}
	return 0;
}

int media_prompt_convert(const void *buf, size_t len, const char *path, char *why,
			 size_t whysz)
{
	struct media_audio *a = NULL;
	int err;

	if (!buf || !path || !why)
		return EINVAL;
	if (is_wav(buf, len))
		err = media_audio_from_memory(&a, buf, len, why, whysz);
	else if (is_mp3(buf, len))
		err = mp3_decode(&a, buf, len, why, whysz);
	else {
		snprintf(why, whysz, "not a WAV or MP3 file");
		return EPROTO;
	}
	if (!err)
		err = wav_write(a, path, why, whysz);
	media_audio_release(a);
	return err;
}
