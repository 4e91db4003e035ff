/* Unit tests of early media listening (src/earlyaudio): ring-back of several countries,
 * each SIT variant, and TTS speech get their class and no other; an announcement is
 * recognised by its fingerprint inside a longer recording, through µ-law, 6 dB quieter
 * and with noise at 20 dB SNR, while a different announcement, ring-back and silence are
 * not. The recordings are the WAVs of tests/data/earlyaudio (espeak-ng, 8 kHz). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include <spandsp.h>
#include "earlyaudio/earlyaudio.h"
#include "media/media.h"

struct sig {
	int16_t *x;
	size_t n, cap;
};

static void put(struct sig *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8000;
		s->x = realloc(s->x, s->cap * sizeof(*s->x));
		assert_non_null(s->x);
	}
	v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
	s->x[s->n++] = (int16_t)lrint(v);
}

static void tone(struct sig *s, double f1, double f2, unsigned ms, double amp)
{
	for (unsigned i = 0; i < ms * 8; i++) {
		double t = (double)i / 8000.0;

		put(s, amp * sin(2 * M_PI * f1 * t) + (f2 > 0 ? amp * sin(2 * M_PI * f2 * t) : 0));
	}
}

static void quiet(struct sig *s, unsigned ms)
{
	tone(s, 0, 0, ms, 0);
}

/* Runs the audio through a listener in 20 ms frames: the findings in heard[], with the SIT
 * variant and the reference matched (or -1). */
struct result {
	bool heard[EARLYAUDIO_ANNOUNCEMENT + 1];
	enum earlyaudio_sit sit;
	int ref;
	uint32_t ref_ms;
};

static struct result listen_to(const struct sig *s, const struct earlyaudio_ref *const *refs,
			       unsigned nref)
{
	struct earlyaudio *ea = NULL;
	struct result r = {.ref = -1};

	assert_int_equal(earlyaudio_alloc(&ea, refs, nref), 0);
	for (size_t off = 0; off < s->n; off += 160) {
		struct earlyaudio_finding f;
		size_t n = s->n - off < 160 ? s->n - off : 160;

		if (!earlyaudio_frame(ea, s->x + off, n, &f))
			continue;
		r.heard[f.heard] = true;
		if (f.heard == EARLYAUDIO_SIT)
			r.sit = f.sit;
		if (f.heard == EARLYAUDIO_ANNOUNCEMENT && r.ref < 0) {
			r.ref = (int)f.ref;
			r.ref_ms = f.at_ms;
		}
	}
	mem_deref(ea);
	return r;
}

static void load(struct sig *s, const char *name)
{
	char path[512], why[256];
	int16_t *pcm = NULL;
	size_t n = 0;
	const char *root = getenv("CCCD_ROOT");

	snprintf(path, sizeof(path), "%s/tests/data/earlyaudio/%s", root ? root : ".", name);
	assert_int_equal(media_pcm_file(path, &pcm, &n, why, sizeof(why)), 0);
	for (size_t i = 0; i < n; i++)
		put(s, pcm[i]);
	mem_deref(pcm);
}

static void test_ringback(void **state)
{
	/* Europe/China 425 Hz 1 s on 4 s off; US 440+480 Hz 2 s on 4 s off; UK 400+450 Hz
	 * 0.4-0.2-0.4 on, 2 s off; Japan 400 Hz (modulated by 16 Hz, here plain) 1 s 2 s */
	static const struct {
		double f1, f2;
		unsigned on, off, on2, off2;
	} c[] = {
		{425, 0, 1000, 4000, 0, 0},
		{440, 480, 2000, 4000, 0, 0},
		{400, 450, 400, 200, 400, 2000},
		{400, 0, 1000, 2000, 0, 0},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sig s = {0};
		struct result r;

		for (unsigned k = 0; k < 3; k++) {
			tone(&s, c[i].f1, c[i].f2, c[i].on, 4000);
			quiet(&s, c[i].off);
			if (c[i].on2) {
				tone(&s, c[i].f1, c[i].f2, c[i].on2, 4000);
				quiet(&s, c[i].off2);
			}
		}
		r = listen_to(&s, NULL, 0);
		assert_true(r.heard[EARLYAUDIO_RINGBACK]);
		assert_false(r.heard[EARLYAUDIO_SIT]);
		assert_false(r.heard[EARLYAUDIO_SPEECH]);
		free(s.x);
	}
}

static void test_sit(void **state)
{
	/* first tone: low 913.8 / high 985.2; second: low 1370.6 / high 1428.5; short 274 ms,
	 * long 380 ms; third 1776.7 Hz 380 ms (SR-2275) */
	static const struct {
		bool hi1, long1, hi2, long2;
		enum earlyaudio_sit want;
	} c[] = {
		{false, false, false, false, EARLYAUDIO_SIT_INTERCEPT},
		{true, true, false, false, EARLYAUDIO_SIT_VACANT},
		{false, false, true, true, EARLYAUDIO_SIT_REORDER},
		{true, false, false, true, EARLYAUDIO_SIT_REORDER},
		{true, true, true, true, EARLYAUDIO_SIT_NO_CIRCUIT},
		{false, true, false, true, EARLYAUDIO_SIT_NO_CIRCUIT},
		{true, false, true, false, EARLYAUDIO_SIT_INEFFECTIVE},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sig s = {0};
		struct result r;

		quiet(&s, 300);
		for (unsigned k = 0; k < 2; k++) {
			tone(&s, c[i].hi1 ? 985.2 : 913.8, 0, c[i].long1 ? 380 : 274, 6000);
			tone(&s, c[i].hi2 ? 1428.5 : 1370.6, 0, c[i].long2 ? 380 : 274, 6000);
			tone(&s, 1776.7, 0, 380, 6000);
			quiet(&s, 1000);
		}
		r = listen_to(&s, NULL, 0);
		assert_true(r.heard[EARLYAUDIO_SIT]);
		assert_int_equal(r.sit, c[i].want);
		assert_false(r.heard[EARLYAUDIO_RINGBACK]);
		free(s.x);
	}
}

static void test_speech(void **state)
{
	struct sig s = {0};
	struct result r;

	(void)state;
	load(&s, "poweroff.wav");
	load(&s, "vacant.wav");
	r = listen_to(&s, NULL, 0);
	assert_true(r.heard[EARLYAUDIO_SPEECH]);
	assert_false(r.heard[EARLYAUDIO_SIT]);
	assert_false(r.heard[EARLYAUDIO_RINGBACK]);
	assert_false(r.heard[EARLYAUDIO_SILENCE]);
	free(s.x);

	memset(&s, 0, sizeof(s));
	quiet(&s, 4000);
	r = listen_to(&s, NULL, 0);
	assert_true(r.heard[EARLYAUDIO_SILENCE]);
	assert_false(r.heard[EARLYAUDIO_SPEECH]);
	free(s.x);
}

/* The reference through the line: µ-law, gain, white noise at snr_db below the speech's
 * mean power, after lead_ms of noise alone. */
static void degrade(struct sig *out, const struct sig *in, unsigned lead_ms, double gain_db,
		    double snr_db)
{
	double p = 0, g = pow(10, gain_db / 20), sd;
	unsigned seed = 7;

	for (size_t i = 0; i < in->n; i++)
		p += (double)in->x[i] * in->x[i];
	sd = sqrt(p / (double)in->n) * g * pow(10, -snr_db / 20);
	for (size_t i = 0; i < lead_ms * 8 + in->n; i++) {
		double v = i >= lead_ms * 8 ? in->x[i - lead_ms * 8] * g : 0, u1, u2;

		seed = seed * 1103515245u + 12345u;
		u1 = ((seed >> 8) + 1.0) / 16777218.0;
		seed = seed * 1103515245u + 12345u;
		u2 = (seed >> 8) / 16777217.0;
		v += sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
		v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
		put(out, ulaw_to_linear(linear_to_ulaw((int)lrint(v))));
	}
}

static void test_fingerprint(void **state)
{
	struct sig a = {0}, b = {0}, live = {0}, other = {0}, ring = {0}, sil = {0};
	struct earlyaudio_ref *ra = NULL, *rb = NULL;
	const struct earlyaudio_ref *refs[2];
	struct result r;

	(void)state;
	load(&a, "poweroff.wav");
	load(&b, "vacant.wav");
	assert_int_equal(earlyaudio_ref_alloc(&ra, a.x, a.n, "poweroff.wav"), 0);
	assert_int_equal(earlyaudio_ref_alloc(&rb, b.x, b.n, "vacant.wav"), 0);
	printf("landmarks: %zu %zu\n", earlyaudio_ref_hashes(ra), earlyaudio_ref_hashes(rb));
	refs[0] = ra;
	refs[1] = rb;

	/* the poweroff announcement at an offset, 6 dB down, µ-law, 20 dB SNR: it, not the
	 * other; then again with only the other reference registered: nothing */
	degrade(&live, &a, 1370, -6, 20);
	r = listen_to(&live, refs, 2);
	printf("match: ref %d at %u ms\n", r.ref, r.ref_ms);
	assert_int_equal(r.ref, 0);
	assert_true(r.ref_ms < 1370 + 4000);
	r = listen_to(&live, &refs[1], 1);
	assert_int_equal(r.ref, -1);

	/* the vacant one, louder: the second reference */
	degrade(&other, &b, 500, 3, 25);
	r = listen_to(&other, refs, 2);
	assert_int_equal(r.ref, 1);
	r = listen_to(&other, refs, 1);
	assert_int_equal(r.ref, -1);

	/* ring-back and silence match nothing */
	for (unsigned k = 0; k < 4; k++) {
		tone(&ring, 425, 0, 1000, 4000);
		quiet(&ring, 4000);
	}
	r = listen_to(&ring, refs, 2);
	assert_int_equal(r.ref, -1);
	quiet(&sil, 10000);
	r = listen_to(&sil, refs, 2);
	assert_int_equal(r.ref, -1);

	mem_deref(ra);
	mem_deref(rb);
	free(a.x);
	free(b.x);
	free(live.x);
	free(other.x);
	free(ring.x);
	free(sil.x);
}

static void test_registry(void **state)
{
	char why[256] = "", path[512];
	const char *root = getenv("CCCD_ROOT");
	FILE *f;

	(void)state;
	assert_int_not_equal(earlyaudio_ref_load("/nonexistent/x.wav", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "/nonexistent/x.wav"));
	assert_null(earlyaudio_ref_find("/nonexistent/x.wav"));

	/* a file of silence: no landmarks, refused */
	snprintf(path, sizeof(path), "/tmp/cccd-earlyaudio-%d.raw", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_not_equal(earlyaudio_ref_load(path, why, sizeof(why)), 0);
	remove(path);

	snprintf(path, sizeof(path), "%s/tests/data/earlyaudio/poweroff.wav", root ? root : ".");
	assert_int_equal(earlyaudio_ref_load(path, why, sizeof(why)), 0);
	assert_non_null(earlyaudio_ref_find(path));
	assert_string_equal(earlyaudio_ref_name(earlyaudio_ref_find(path)), "poweroff.wav");
	/* unchanged: the same entry */
	assert_int_equal(earlyaudio_ref_load(path, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ringback),
		cmocka_unit_test(test_sit),
		cmocka_unit_test(test_speech),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
