/* Unit tests of the codecs with state (G.722 through spandsp, Opus through libopus): a tone
 * survives the round trip encode → decode at 8 kHz, payload sizes are as the RTP profiles
 * say, the config names them, and a damaged Opus payload is refused, not a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "media/media_int.h"

enum { FRAMES = 50 };

/* The share of the signal's power at hz (the Goertzel filter over n samples). */
static double tone_share(const int16_t *x, size_t n, double hz)
{
	double w = 2 * M_PI * hz / MEDIA_RATE, c = 2 * cos(w), s1 = 0, s2 = 0, total = 0, p;

	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
		total += (double)x[i] * x[i];
	}
	p = s1 * s1 + s2 * s2 - c * s1 * s2;
	return total > 0 ? 2 * p / ((double)n * total) : 0;
}

/* Encodes FRAMES frames of a 1 kHz tone, decodes them; checks each payload's size, then
 * that the second half (past any codec delay) is the tone at about its level. */
static void round_trip(enum media_codec codec, size_t min_len, size_t max_len)
{
	static int16_t out[FRAMES * MEDIA_FRAME];
	struct media_coder *c = NULL;
	size_t got = 0;
	double rms = 0;

	assert_int_equal(media_coder_alloc(&c, codec), 0);
	assert_non_null(c);
	for (unsigned f = 0; f < FRAMES; f++) {
		int16_t pcm[MEDIA_FRAME];
		uint8_t pay[400];
		size_t len;
		int n;

		for (unsigned i = 0; i < MEDIA_FRAME; i++)
			pcm[i] = (int16_t)(8000 * sin(2 * M_PI * 1000 * (f * MEDIA_FRAME + i) /
						      MEDIA_RATE));
		len = media_coder_encode(c, pcm, pay, sizeof(pay));
		assert_true(len >= min_len && len <= max_len);
		n = media_coder_decode(c, pay, len, out + got, sizeof(out) / 2 - got);
		assert_int_equal(n, MEDIA_FRAME);
		got += (size_t)n;
	}
	for (size_t i = got / 2; i < got; i++)
		rms += (double)out[i] * out[i];
	rms = sqrt(rms / (double)(got / 2));
	/* 8000 peak is 5657 rms: within 3 dB of it, and the power at 1 kHz. */
	assert_true(rms > 4000 && rms < 8000);
	assert_true(tone_share(out + got / 2, got / 2, 1000) > 0.9);
	media_coder_free(c);
}

static void test_g722_round_trip(void **state)
{
	(void)state;
	/* RFC 3551: 64 kbit/s, one byte per 8 kHz sample period, 160 bytes per 20 ms. */
	round_trip(MEDIA_G722, MEDIA_FRAME, MEDIA_FRAME);
}

static void test_opus_round_trip(void **state)
{
	(void)state;
	/* 24 kbit/s: about 60 bytes per 20 ms. */
	round_trip(MEDIA_OPUS, 10, 120);
}

static void test_g711_no_coder(void **state)
{
	struct media_coder *c = (struct media_coder *)1;

	(void)state;
	assert_int_equal(media_coder_alloc(&c, MEDIA_PCMU), 0);
	assert_null(c);
	assert_int_equal(media_coder_alloc(&c, MEDIA_PCMA), 0);
	assert_null(c);
	media_coder_free(NULL);
}

static void test_opus_damaged(void **state)
{
	static const uint8_t junk[] = {0xFF, 0xFF, 0xFF}; /* code 3, 63 frames: invalid */
	struct media_coder *c = NULL;
	int16_t pcm[960];

	(void)state;
	assert_int_equal(media_coder_alloc(&c, MEDIA_OPUS), 0);
	assert_int_equal(media_coder_decode(c, junk, sizeof(junk), pcm, 960), -1);
	media_coder_free(c);
}

static void test_codecs_parse(void **state)
{
	enum media_codec list[MEDIA_CODECS_MAX];
	unsigned n = 0;

	(void)state;
	assert_int_equal(media_codecs_parse("G722", list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0], MEDIA_G722);
	assert_int_equal(media_codecs_parse("OPUS,pcma", list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0], MEDIA_OPUS);
	assert_int_equal(media_codecs_parse("g729", list, &n), EINVAL);
	assert_int_equal(media_codecs_parse("opus,opus", list, &n), EINVAL);
	assert_int_equal(media_codecs_parse(" , ", list, &n), EINVAL);
	assert_int_equal(media_codecs_parse("opus,g722,pcmu,pcma,pcmu", list, &n), EINVAL);
	assert_true(media_codec_known(MEDIA_OPUS));
	assert_false(media_codec_known((enum media_codec)18));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g722_round_trip),
		cmocka_unit_test(test_opus_round_trip),
		cmocka_unit_test(test_g711_no_coder),
		cmocka_unit_test(test_opus_damaged),
		cmocka_unit_test(test_codecs_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
