/* The recorder's WAV (RIFF, WAVE, "fmt " PCM 16-bit mono 8 kHz, then "data") read without
 * a copy: the speech node hands its samples to the recogniser's queue, which copies them. */

#include <errno.h>
#include <string.h>
#include "asr/asr.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int asr_wav_pcm(const uint8_t *wav, size_t len, const uint8_t **pcmp, size_t *np)
{
	bool fmt_ok = false;
	size_t pos = 12;

	if (!wav || !pcmp || !np || len < 12 || memcmp(wav, "RIFF", 4) ||
	    memcmp(wav + 8, "WAVE", 4))
		return EINVAL;
	while (pos + 8 <= len) {
		const uint8_t *c = wav + pos;
		size_t size = le32(c + 4), body = pos + 8;

		if (size > len - body)
			size = len - body;   /* a recorder killed mid-file: take what is there */
		if (!memcmp(c, "fmt ", 4)) {
			if (size < 16)
				return EINVAL;
			fmt_ok = le16(c + 8) == 1 && le16(c + 10) == 1 && le32(c + 12) == 8000 &&
				 le16(c + 22) == 16;
			if (!fmt_ok)
				return EINVAL;
		}
		else if (!memcmp(c, "data", 4)) {
			if (!fmt_ok)
				return EINVAL;
			*pcmp = c + 8;
			*np = size / 2;
			return 0;
		}
		pos = body + size + (size & 1);
	}
	return EINVAL;
}
