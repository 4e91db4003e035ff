/* opus: Opus (RFC 6716, RTP per RFC 7587) through libopus, one encoder and one decoder per
 * stream.
 *
 * libopus takes and gives 8 kHz audio itself (it resamples internally), so the stream's
 * 8 kHz frames go in and out unchanged; on the wire the RTP clock is 48 kHz whatever the
 * audio bandwidth (RFC 7587), which the worker accounts for in timestamps. The encoder is
 * set for voice at 24 kbit/s with in-band FEC (the decoder hides a lost packet with it)
 * and complexity 5 — about half the CPU of the default 10 for a difference that narrowband
 * voice does not show (docs/benchmarks.md has the cost per call). A packet is one 20 ms
 * frame. The decoder is mono: a stereo stream is mixed down by libopus. */
#include <errno.h>
#include <stdlib.h>
#include <opus.h>
#include "media/media_int.h"

enum { OPUS_BITRATE = 24000, OPUS_COMPLEXITY = 5 };

struct opus {
	struct media_coder c;      /* first: the interface */
	OpusEncoder *enc;          /* owned */
	OpusDecoder *dec;          /* owned */
};

static void opus_free(struct media_coder *c)
{
	struct opus *o = (struct opus *)c;

	if (o->enc)
		opus_encoder_destroy(o->enc);
	if (o->dec)
		opus_decoder_destroy(o->dec);
	free(o);
}

static size_t opus_enc(struct media_coder *c, const int16_t *pcm, uint8_t *out, size_t sz)
{
	struct opus *o = (struct opus *)c;
	opus_int32 n = opus_encode(o->enc, pcm, MEDIA_FRAME, out, (opus_int32)sz);

	return n > 0 ? (size_t)n : 0;
}

static int opus_dec(struct media_coder *c, const uint8_t *in, size_t len, int16_t *pcm,
		    size_t max)
{
	struct opus *o = (struct opus *)c;
	int n = opus_decode(o->dec, in, (opus_int32)len, pcm, (int)max, 0);

	return n < 0 ? -1 : n;
}

int media_opus_alloc(struct media_coder **cp)
{
	struct opus *o = calloc(1, sizeof(*o));
	int err = 0;

	if (!o)
		return ENOMEM;
	o->c.encode = opus_enc;
	o->c.decode = opus_dec;
	o->c.free = opus_free;
	o->enc = opus_encoder_create(MEDIA_RATE, 1, OPUS_APPLICATION_VOIP, &err);
	if (!err)
		o->dec = opus_decoder_create(MEDIA_RATE, 1, &err);
	if (err || !o->enc || !o->dec) {
		opus_free(&o->c);
		return err == OPUS_ALLOC_FAIL ? ENOMEM : EINVAL;
	}
	opus_encoder_ctl(o->enc, OPUS_SET_BITRATE(OPUS_BITRATE));
	opus_encoder_ctl(o->enc, OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY));
	opus_encoder_ctl(o->enc, OPUS_SET_INBAND_FEC(1));
	opus_encoder_ctl(o->enc, OPUS_SET_PACKET_LOSS_PERC(5));
	opus_encoder_ctl(o->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	*cp = &o->c;
	return 0;
}
