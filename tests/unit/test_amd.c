/* Unit tests of the answering-machine detector: the [amd] config and its errors, the
 * DESA-2 estimator on pure tones, the beep finder (at several frequencies, and not for a
 * tone too short or too long), the verdicts on synthetic speech bursts and steady noise,
 * amd_finish, and bad input (no samples, pieces shorter and longer than a frame, NULLs).
 * The quality bar on the labelled recordings is tests/amd/amd_eval.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "amd/amd.h"
#include "conf/conf.h"

#define RATE 8000

static int read_conf(const char *text, struct amd_conf *c, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	assert_int_equal(rc, 0);
	rc = amd_conf_read(cf, c, err);
	mem_deref(cf);
	return rc;
}

static void test_conf_defaults(void **state)
{
	struct amd_conf c, d;
	struct conf_err err = {0};

	(void)state;
	amd_conf_default(&d);
	assert_int_equal(read_conf("", &c, &err), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_int_equal(read_conf("[amd]\ngreeting_max_ms = 3000\nvoice_min_dbfs = -40\n"
				   "beep_hz_min = 500\n", &c, &err), 0);
	assert_int_equal(c.greeting_max_ms, 3000);
	assert_int_equal(c.voice_min_dbfs, -40);
	assert_int_equal(c.beep_hz_min, 500);
	assert_int_equal(c.after_greeting_ms, d.after_greeting_ms);
}

static void conf_refused(const char *text, const char *key, unsigned line)
{
	struct amd_conf c;
	struct conf_err err = {0};

	assert_int_equal(read_conf(text, &c, &err), EINVAL);
	assert_non_null(strstr(err.msg, key));
	assert_int_equal(err.line, line);
}

static void test_conf_errors(void **state)
{
	(void)state;
	conf_refused("[amd]\ngreeting_max_ms = soon\n", "'greeting_max_ms'", 2);
	conf_refused("[amd]\nmax_words = -3\n", "'max_words'", 2);
	conf_refused("[amd]\n\nvoice_min_dbfs = 3\n", "'voice_min_dbfs'", 3);
	conf_refused("[amd]\nbeep_min_dbfs = -40dB\n", "'beep_min_dbfs'", 2);
	conf_refused("[amd]\nbeep_hz_max = 4000\n", "'beep_hz_max'", 2);
	conf_refused("[amd]\nfloor_window_ms = 5000\n", "'floor_window_ms'", 2);
	conf_refused("[amd]\ntotal_ms =\n", "'total_ms'", 2);
	conf_refused("[amd]\nbeep_hz_min = 1500\nbeep_hz_max = 1000\n", "'beep_hz_min'", 2);
	conf_refused("[amd]\nbeep_max_ms = 100\nbeep_min_ms = 200\n", "'beep_min_ms'", 3);
	conf_refused("[amd]\nmin_word_ms = 100\nmin_word_ms = 120\n", "'min_word_ms'", 3);
}

static void tone(int16_t *pcm, size_t n, double hz, double amp, size_t from)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)lround(amp * sin(2 * M_PI * hz * (double)(from + i) / RATE + 0.3));
}

static void test_desa2_tones(void **state)
{
	static const double freqs[] = {300, 400, 523, 700, 1000, 1400, 1750, 1950};
	int16_t pcm[160];
	double hz;

	(void)state;
	for (size_t k = 0; k < sizeof(freqs) / sizeof(freqs[0]); k++) {
		tone(pcm, 160, freqs[k], 12000, 0);
		assert_true(amd_desa2_hz(pcm, 160, &hz));
		assert_true(fabs(hz - freqs[k]) < 3.0);
		/* a quiet tone, and a stretch that is not a whole number of periods */
		tone(pcm, 97, freqs[k], 300, 1234);
		assert_true(amd_desa2_hz(pcm, 97, &hz));
		assert_true(fabs(hz - freqs[k]) < 3.0);
	}
	memset(pcm, 0, sizeof(pcm));
	assert_false(amd_desa2_hz(pcm, 160, &hz));
	assert_false(amd_desa2_hz(pcm, 4, &hz));
	assert_false(amd_desa2_hz(NULL, 160, &hz));
}

/* Feeds ms of a signal made by gen(pcm, n, sample offset) in 20 ms frames. */
typedef void (gen_h)(int16_t *pcm, size_t n, size_t from, void *arg);

static size_t feed(struct amd *a, size_t from, unsigned ms, gen_h *gen, void *arg)
{
	int16_t pcm[160];

	for (unsigned t = 0; t < ms; t += 20) {
		gen(pcm, 160, from, arg);
		amd_feed(a, pcm, 160);
		from += 160;
	}
	return from;
}

static void gen_quiet(int16_t *pcm, size_t n, size_t from, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(((from + i) * 7919u) % 9) - 4;
}

static void gen_tone(int16_t *pcm, size_t n, size_t from, void *arg)
{
	tone(pcm, n, *(double *)arg, 10000, from);
}

/* Speech-like: noise (an LCG) under a 4 Hz syllable envelope, never silent for long. */
static void gen_speech(int16_t *pcm, size_t n, size_t from, void *arg)
{
	static uint32_t seed = 12345;

	(void)arg;
	for (size_t i = 0; i < n; i++) {
		double env = 0.55 + 0.45 * sin(2 * M_PI * 4 * (double)(from + i) / RATE);

		seed = seed * 1103515245u + 12345u;
		pcm[i] = (int16_t)(((int32_t)(seed >> 16) % 16000 - 8000) * env);
	}
}

/* Steady line noise: the same LCG noise at a constant level. */
static void gen_noise(int16_t *pcm, size_t n, size_t from, void *arg)
{
	static uint32_t seed = 777;

	(void)from;
	(void)arg;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		pcm[i] = (int16_t)((int32_t)(seed >> 16) % 2000 - 1000);
	}
}

static struct amd *detector(void)
{
	struct amd_conf c;
	struct amd *a = NULL;

	amd_conf_default(&c);
	assert_int_equal(amd_alloc(&a, &c), 0);
	return a;
}

static void test_beep_frequencies(void **state)
{
	static const double freqs[] = {400, 620, 1000, 1400, 1900, 2000};

	(void)state;
	for (size_t k = 0; k < sizeof(freqs) / sizeof(freqs[0]); k++) {
		struct amd *a = detector();
		double hz = freqs[k];
		uint32_t end_ms = 0;
		unsigned bhz = 0;
		size_t at = 0;

		at = feed(a, at, 500, gen_quiet, NULL);
		at = feed(a, at, 400, gen_tone, &hz);
		assert_false(amd_beep(a, NULL, NULL));
		feed(a, at, 300, gen_quiet, NULL);
		assert_true(amd_beep(a, &end_ms, &bhz));
		assert_true(end_ms >= 880 && end_ms <= 920);
		assert_true(fabs(bhz - hz) <= 5);
		/* a beep alone is a machine */
		assert_int_equal(amd_verdict(a), AMD_MACHINE);
		mem_deref(a);
	}
}

static void test_beep_not(void **state)
{
	struct amd *a = detector();
	double hz = 1000;
	size_t at = 0;

	(void)state;
	/* too short, then too long (a dial tone) */
	at = feed(a, at, 300, gen_quiet, NULL);
	at = feed(a, at, 80, gen_tone, &hz);
	at = feed(a, at, 300, gen_quiet, NULL);
	at = feed(a, at, 3500, gen_tone, &hz);
	feed(a, at, 200, gen_quiet, NULL);
	assert_false(amd_beep(a, NULL, NULL));
	mem_deref(a);

	/* out of the band */
	a = detector();
	hz = 250;
	at = feed(a, 0, 300, gen_quiet, NULL);
	feed(a, at, 500, gen_tone, &hz);
	amd_finish(a);
	assert_false(amd_beep(a, NULL, NULL));
	mem_deref(a);

	/* speech-like sound is not a beep */
	a = detector();
	feed(a, 0, 5000, gen_speech, NULL);
	assert_false(amd_beep(a, NULL, NULL));
	mem_deref(a);
}

static void test_verdicts(void **state)
{
	struct amd *a = detector();
	size_t at;

	(void)state;
	/* "Hello?" then waiting: human, after_greeting_ms after the word */
	at = feed(a, 0, 400, gen_quiet, NULL);
	at = feed(a, at, 500, gen_speech, NULL);
	assert_int_equal(amd_verdict(a), AMD_PENDING);
	feed(a, at, 1500, gen_quiet, NULL);
	assert_int_equal(amd_verdict(a), AMD_HUMAN);
	assert_true(amd_decision_ms(a) >= 1600 && amd_decision_ms(a) <= 1800);
	/* it stays */
	feed(a, at, 4000, gen_speech, NULL);
	assert_int_equal(amd_verdict(a), AMD_HUMAN);
	assert_int_equal(amd_finish(a), AMD_HUMAN);
	mem_deref(a);

	/* a long greeting: machine once it is longer than greeting_max_ms */
	a = detector();
	at = feed(a, 0, 300, gen_quiet, NULL);
	feed(a, at, 4000, gen_speech, NULL);
	assert_int_equal(amd_verdict(a), AMD_MACHINE);
	assert_true(amd_decision_ms(a) > 2300 && amd_decision_ms(a) < 2800);
	mem_deref(a);

	/* steady noise from the first frame is the floor, not speech: unsure */
	a = detector();
	feed(a, 0, 6000, gen_noise, NULL);
	assert_int_equal(amd_verdict(a), AMD_UNSURE);
	assert_int_equal(amd_decision_ms(a), 4000);
	mem_deref(a);

	/* nothing said: unsure at initial_silence_ms */
	a = detector();
	feed(a, 0, 6000, gen_quiet, NULL);
	assert_int_equal(amd_verdict(a), AMD_UNSURE);
	assert_int_equal(amd_decision_ms(a), 4000);
	mem_deref(a);
}

static void test_finish(void **state)
{
	struct amd *a = detector();
	double hz = 850;
	size_t at;

	(void)state;
	/* no audio at all */
	assert_int_equal(amd_finish(a), AMD_UNSURE);
	assert_int_equal(amd_verdict(a), AMD_UNSURE);
	mem_deref(a);

	/* "Hello?" and the line went quiet (no more RTP): human */
	a = detector();
	at = feed(a, 0, 300, gen_quiet, NULL);
	feed(a, at, 600, gen_speech, NULL);
	assert_int_equal(amd_verdict(a), AMD_PENDING);
	assert_int_equal(amd_finish(a), AMD_HUMAN);
	assert_int_equal(amd_decision_ms(a), 900);
	mem_deref(a);

	/* silence only, shorter than initial_silence_ms: unsure */
	a = detector();
	feed(a, 0, 1000, gen_quiet, NULL);
	assert_int_equal(amd_finish(a), AMD_UNSURE);
	mem_deref(a);

	/* a beep the audio ended in: closed and found by amd_finish, machine */
	a = detector();
	at = feed(a, 0, 300, gen_quiet, NULL);
	feed(a, at, 400, gen_tone, &hz);
	assert_false(amd_beep(a, NULL, NULL));
	assert_int_equal(amd_finish(a), AMD_MACHINE);
	assert_true(amd_beep(a, NULL, NULL));
	mem_deref(a);
}

static void test_bad_input(void **state)
{
	struct amd *a = detector();
	struct amd_conf c;
	int16_t big[RATE * 5] = {0};
	int16_t pcm[160];

	(void)state;
	assert_int_equal(amd_alloc(NULL, NULL), EINVAL);
	amd_conf_default(&c);
	assert_int_equal(amd_alloc(NULL, &c), EINVAL);
	assert_int_equal(amd_feed(NULL, pcm, 160), AMD_PENDING);
	assert_int_equal(amd_verdict(NULL), AMD_PENDING);
	assert_int_equal(amd_decision_ms(NULL), 0);
	assert_false(amd_beep(NULL, NULL, NULL));
	assert_int_equal(amd_finish(NULL), AMD_PENDING);

	/* n = 0 and NULL samples change nothing */
	assert_int_equal(amd_feed(a, pcm, 0), AMD_PENDING);
	assert_int_equal(amd_feed(a, NULL, 160), AMD_PENDING);
	assert_int_equal(amd_decision_ms(a), 0);

	/* pieces of 80 samples make frames; more than a frame at once is cut into frames:
	 * 5 s of silence in one call reaches initial_silence_ms at 4000 ms of audio */
	gen_quiet(pcm, 160, 0, NULL);
	for (int i = 0; i < 10; i++)
		amd_feed(a, pcm + (i % 2) * 80, 80);
	assert_int_equal(amd_verdict(a), AMD_PENDING);
	assert_int_equal(amd_feed(a, big, sizeof(big) / sizeof(big[0])), AMD_UNSURE);
	assert_int_equal(amd_decision_ms(a), 4000);
	mem_deref(a);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(amd_verdict_name(AMD_HUMAN), "human");
	assert_string_equal(amd_verdict_name(AMD_MACHINE), "machine");
	assert_string_equal(amd_verdict_name(AMD_UNSURE), "unsure");
	assert_string_equal(amd_verdict_name(AMD_PENDING), "");
	assert_string_equal(amd_verdict_name((enum amd_verdict)42), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_desa2_tones),
		cmocka_unit_test(test_beep_frequencies),
		cmocka_unit_test(test_beep_not),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
