/* codec: what a stream needs of its codec — names, RTP clock rates, and the per-stream
 * coder state (G.722 and Opus; G.711 is stateless tables, g711.c).
 *
 * Inside cccd audio is 8 kHz linear: prompts, text-to-speech (flite is 8 kHz native),
 * in-band DTMF detection, recordings and bridges all work on 160-sample frames. A stream
 * in a wideband codec encodes those frames and decodes what it receives back to them, so
 * G.722 and Opus carry narrowband audio: they are here for peers that offer only them
 * (softphones, WebRTC gateways) and for Opus's robustness, not for HD voice. Keeping one
 * internal rate keeps the prompt cache, the recorder and the bridge as they were and a
 * G.711 call's cost unchanged; a 16 kHz path would need all of them twice. */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <stdio.h>
#include "media/media_int.h"

const char *media_codec_name(enum media_codec codec)
{
	switch (codec) {
	case MEDIA_PCMA: return "PCMA";
	case MEDIA_G722: return "G722";
	case MEDIA_OPUS: return "opus";
	default:         return "PCMU";
	}
}

unsigned media_codec_clock(enum media_codec codec)
{
	return codec == MEDIA_OPUS ? 48000 : 8000;
}

bool media_codec_known(enum media_codec codec)
{
	return codec == MEDIA_PCMU || codec == MEDIA_PCMA || codec == MEDIA_G722 ||
	       codec == MEDIA_OPUS;
}

int media_codecs_parse(const char *s, enum media_codec *list, unsigned *np)
{
	static const enum media_codec all[] = {MEDIA_PCMU, MEDIA_PCMA, MEDIA_G722, MEDIA_OPUS};
	char buf[128], *save = NULL, *tok;
	unsigned n = 0;

	if (!s || !list || !np || strlen(s) >= sizeof(buf))
		return EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		enum media_codec c = MEDIA_PCMU;
		bool found = false;

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			if (!strcasecmp(tok, media_codec_name(all[i]))) {
				c = all[i];
				found = true;
			}
		}
		if (!found || n == MEDIA_CODECS_MAX)
			return EINVAL;
		for (unsigned i = 0; i < n; i++) {
			if (list[i] == c)
				return EINVAL;
		}
		list[n++] = c;
	}
	if (!n)
		return EINVAL;
	*np = n;
	return 0;
}

int media_coder_alloc(struct media_coder **cp, enum media_codec codec)
{
	switch (codec) {
	case MEDIA_G722: return media_g722_alloc(cp);
	case MEDIA_OPUS: return media_opus_alloc(cp);
	default:         *cp = NULL; return 0; /* G.711 needs no state */
	}
}

void media_coder_free(struct media_coder *c)
{
	if (c)
		c->free(c);
}

size_t media_coder_encode(struct media_coder *c, const int16_t *pcm, uint8_t *out, size_t sz)
{
	return c->encode(c, pcm, out, sz);
}

int media_coder_decode(struct media_coder *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t max)
{
	return c->decode(c, in, len, pcm, max);
}
