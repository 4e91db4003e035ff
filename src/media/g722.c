/* g722: ITU-T G.722 through spandsp, one encoder and one decoder per stream.
 *
 * Both run in spandsp's 8 kHz mode: the encoder takes the 8 kHz frame (its low sub-band,
 * the high one silent) and the decoder gives the low sub-band back at 8 kHz. The bit
 * stream is standard G.722 at 64 kbit/s (one byte per 8 kHz sample, 160 per 20 ms), so
 * any G.722 peer decodes it, and the QMF filters' cost (most of G.722's) is saved. Its
 * ADPCM state runs on from packet to packet, so every received packet is decoded. */
#include <errno.h>
#include <stdlib.h>
#include <spandsp.h>
#include "media/media_int.h"

struct g722 {
	struct media_coder c;      /* first: the interface */
	g722_encode_state_t *enc;  /* owned */
	g722_decode_state_t *dec;  /* owned */
};

static void g722_free(struct media_coder *c)
{
	struct g722 *g = (struct g722 *)c;

	if (g->enc)
		g722_encode_free(g->enc);
	if (g->dec)
		g722_decode_free(g->dec);
	free(g);
}

static size_t g722_enc(struct media_coder *c, const int16_t *pcm, uint8_t *out, size_t sz)
{
	struct g722 *g = (struct g722 *)c;

	if (sz < MEDIA_FRAME)
		return 0;
	return (size_t)g722_encode(g->enc, out, pcm, MEDIA_FRAME);
}

static int g722_dec(struct media_coder *c, const uint8_t *in, size_t len, int16_t *pcm,
		    size_t max)
{
	struct g722 *g = (struct g722 *)c;

	if (len > max)
		len = max;
	return g722_decode(g->dec, pcm, in, (int)len);
}

int media_g722_alloc(struct media_coder **cp)
{
	struct g722 *g = calloc(1, sizeof(*g));

	if (!g)
		return ENOMEM;
	g->c.encode = g722_enc;
	g->c.decode = g722_dec;
	g->c.free = g722_free;
	g->enc = g722_encode_init(NULL, 64000, G722_SAMPLE_RATE_8000);
	g->dec = g722_decode_init(NULL, 64000, G722_SAMPLE_RATE_8000);
	if (!g->enc || !g->dec) {
		g722_free(&g->c);
		return ENOMEM;
	}
	*cp = &g->c;
	return 0;
}
