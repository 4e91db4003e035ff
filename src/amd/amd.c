/* amd: the voice detector, the greeting's measures and the verdict (amd.h; the method,
 * each threshold and the figures on the labelled recordings are in docs/amd.md).
 *
 * Audio comes in whatever pieces the caller has; it is cut into whole 20 ms frames of
 * 160 samples here, so every measure counts in frames and a short packet costs nothing
 * but a copy. Per frame: its level in dBFS; the noise floor, the quietest frame of the
 * last floor_window_ms (a minimum tracker: it follows steady noise within one window and
 * never rises into speech, whose pauses keep pulling it down); voice when the frame is
 * voice_snr_db above that floor and above voice_min_dbfs. Voiced runs of min_word_ms make
 * words; a gap of between_words_ms ends one. The greeting runs from the first word's
 * start to the last word's end, and the verdict is the first of:
 *   - no word within initial_silence_ms: unsure (see amd.h for why not machine);
 *   - the greeting longer than greeting_max_ms, or max_words words in it: machine;
 *   - after_greeting_ms of silence after a shorter greeting: human (a person who said
 *     "Hello?" and is waiting for us — the fast case);
 *   - a beep: machine;
 *   - total_ms of audio and none of these: unsure. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "amd/amd.h"
#include "amd/beep.h"
#include "conf/conf.h"

#define AMD_FRAME 160          /* samples: 20 ms at 8 kHz */
#define FRAME_MS 20
#define FLOOR_FRAMES 100       /* the longest floor window: 2 s */

struct amd {
	struct amd_conf c;
	int16_t buf[AMD_FRAME];    /* a frame being gathered from short pieces */
	size_t nbuf;
	uint32_t ms;               /* audio ms of whole frames analysed */
	float levels[FLOOR_FRAMES];/* the last frames' levels, a ring */
	unsigned nlevels, ilevel, window;
	unsigned voiced_ms;        /* the current voiced run */
	unsigned gap_ms;           /* the current unvoiced run */
	bool in_word;
	unsigned words;
	uint32_t onset_ms;         /* the greeting's start (first word's first frame) */
	uint32_t last_voice_ms;    /* the end of the last voiced frame of a word */
	struct beep beep;
	enum amd_verdict verdict;
	uint32_t decision_ms;
};

void amd_conf_default(struct amd_conf *c)
{
	*c = (struct amd_conf){
		.voice_min_dbfs = -48,
		.voice_snr_db = 10,
		.floor_window_ms = 1500,
		.min_word_ms = 100,
		.between_words_ms = 60,
		.initial_silence_ms = 4000,
		.greeting_max_ms = 2200,
		.max_words = 8,
		.after_greeting_ms = 800,
		.total_ms = 6000,
		.beep_hz_min = 350,
		.beep_hz_max = 2000,
		.beep_min_ms = 160,
		.beep_max_ms = 3000,
		.beep_tolerance_hz = 20,
		.beep_min_dbfs = -40,
	};
}

/* The keys of [amd]: each a field of struct amd_conf, signed (dBFS) or not, and its
 * range. */
struct key {
	const char *name;
	size_t off;
	bool is_signed;
	long min, max;
};

#define U(f, lo, hi) {#f, offsetof(struct amd_conf, f), false, lo, hi}
#define S(f, lo, hi) {#f, offsetof(struct amd_conf, f), true, lo, hi}
static const struct key keys[] = {
	S(voice_min_dbfs, -90, 0),
	U(voice_snr_db, 1, 60),
	U(floor_window_ms, FRAME_MS, FLOOR_FRAMES * FRAME_MS),
	U(min_word_ms, FRAME_MS, 2000),
	U(between_words_ms, FRAME_MS, 2000),
	U(initial_silence_ms, 100, 60000),
	U(greeting_max_ms, 100, 60000),
	U(max_words, 1, 1000),
	U(after_greeting_ms, FRAME_MS, 60000),
	U(total_ms, 100, 120000),
	U(beep_hz_min, 100, 2000),
	U(beep_hz_max, 100, 2000),
	U(beep_min_ms, FRAME_MS, 10000),
	U(beep_max_ms, FRAME_MS, 60000),
	U(beep_tolerance_hz, 1, 500),
	S(beep_min_dbfs, -90, 0),
};
#undef U
#undef S

static int key_read(const struct conf_section *sec, const struct key *k, struct amd_conf *c,
		    struct conf_err *err)
{
	void *field = (char *)c + k->off;
	const char *s;
	char *end;
	long v;
	int rc = conf_str(sec, k->name, NULL, &s, err);

	if (rc || !s)
		return rc;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || (!k->is_signed && s[0] == '-')) {
		conf_err_set(err, conf_key_line(sec, k->name), "'%s' must be a whole number, not '%s'",
			     k->name, s);
		return EINVAL;
	}
	if (v < k->min || v > k->max) {
		conf_err_set(err, conf_key_line(sec, k->name),
			     "'%s' must be between %ld and %ld, not %ld", k->name, k->min, k->max, v);
		return EINVAL;
	}
	if (k->is_signed)
		*(int *)field = (int)v;
	else
		*(unsigned *)field = (unsigned)v;
	return 0;
}

int amd_conf_read(const struct conf *cf, struct amd_conf *c, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "amd");
	struct amd_conf v;
	int rc;

	amd_conf_default(&v);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		rc = key_read(sec, &keys[i], &v, err);
		if (rc)
			return rc;
	}
	if (v.beep_hz_min > v.beep_hz_max) {
		conf_err_set(err, conf_key_line(sec, "beep_hz_min"),
			     "'beep_hz_min' (%u) must not be above 'beep_hz_max' (%u)",
			     v.beep_hz_min, v.beep_hz_max);
		return EINVAL;
	}
	if (v.beep_min_ms > v.beep_max_ms) {
		conf_err_set(err, conf_key_line(sec, "beep_min_ms"),
			     "'beep_min_ms' (%u) must not be above 'beep_max_ms' (%u)",
			     v.beep_min_ms, v.beep_max_ms);
		return EINVAL;
	}
	*c = v;
	return 0;
}

int amd_alloc(struct amd **ap, const struct amd_conf *c)
{
	struct amd *a;

	if (!ap || !c)
		return EINVAL;
	a = mem_zalloc(sizeof(*a), NULL);
	if (!a)
		return ENOMEM;
	a->c = *c;
	a->window = c->floor_window_ms / FRAME_MS;
	if (a->window < 1)
		a->window = 1;
	if (a->window > FLOOR_FRAMES)
		a->window = FLOOR_FRAMES;
	beep_init(&a->beep, &a->c);
	*ap = a;
	return 0;
}

static double frame_dbfs(const int16_t *pcm)
{
	double sum = 0;

	for (size_t i = 0; i < AMD_FRAME; i++)
		sum += (double)pcm[i] * pcm[i];
	sum /= AMD_FRAME * 32768.0 * 32768.0;
	return sum > 1e-10 ? 10.0 * log10(sum) : -100.0;
}

/* The level goes into the ring first: a frame is voice only against a quieter one. */
static double noise_floor(struct amd *a, double dbfs)
{
	float lo = (float)dbfs;

	a->levels[a->ilevel] = (float)dbfs;
	a->ilevel = (a->ilevel + 1) % a->window;
	if (a->nlevels < a->window)
		a->nlevels++;
	for (unsigned i = 0; i < a->nlevels; i++)
		if (a->levels[i] < lo)
			lo = a->levels[i];
	return lo;
}

static void decide(struct amd *a, enum amd_verdict v)
{
	a->verdict = v;
	a->decision_ms = a->ms;
}

static void words_step(struct amd *a, bool voiced)
{
	if (!voiced) {
		a->gap_ms += FRAME_MS;
		if (a->gap_ms >= a->c.between_words_ms) {
			a->in_word = false;
			a->voiced_ms = 0;
		}
		return;
	}
	a->gap_ms = 0;
	a->voiced_ms += FRAME_MS;
	if (!a->in_word && a->voiced_ms >= a->c.min_word_ms) {
		a->in_word = true;
		if (!a->words)
			a->onset_ms = a->ms - a->voiced_ms;
		a->words++;
	}
	if (a->in_word)
		a->last_voice_ms = a->ms;
}

static void verdict_step(struct amd *a)
{
	if (a->verdict != AMD_PENDING)
		return;
	if (!a->words) {
		if (a->ms >= a->c.initial_silence_ms)
			decide(a, AMD_UNSURE);
	}
	else if (a->last_voice_ms - a->onset_ms > a->c.greeting_max_ms ||
		 a->words >= a->c.max_words) {
		decide(a, AMD_MACHINE);
	}
	else if (a->ms - a->last_voice_ms >= a->c.after_greeting_ms) {
		decide(a, AMD_HUMAN);
	}
	if (a->verdict == AMD_PENDING && a->beep.found)
		decide(a, AMD_MACHINE);
	if (a->verdict == AMD_PENDING && a->ms >= a->c.total_ms)
		decide(a, AMD_UNSURE);
}

static void frame(struct amd *a, const int16_t *pcm)
{
	double dbfs = frame_dbfs(pcm);
	double floor = noise_floor(a, dbfs);
	bool voiced = dbfs >= a->c.voice_min_dbfs && dbfs >= floor + a->c.voice_snr_db;

	a->ms += FRAME_MS;
	words_step(a, voiced);
	beep_frame(&a->beep, pcm, AMD_FRAME, dbfs, a->ms);
	verdict_step(a);
}

/* Pieces longer than a frame are cut into frames; shorter ones wait for the rest. */
enum amd_verdict amd_feed(struct amd *a, const int16_t *pcm, size_t n)
{
	if (!a)
		return AMD_PENDING;
	if (!pcm)
		return a->verdict;
	while (n) {
		size_t k = AMD_FRAME - a->nbuf;

		if (k > n)
			k = n;
		if (k == AMD_FRAME) {
			frame(a, pcm);
		}
		else {
			memcpy(a->buf + a->nbuf, pcm, k * sizeof(*pcm));
			a->nbuf += k;
			if (a->nbuf == AMD_FRAME) {
				a->nbuf = 0;
				frame(a, a->buf);
			}
		}
		pcm += k;
		n -= k;
	}
	return a->verdict;
}

enum amd_verdict amd_verdict(const struct amd *a)
{
	return a ? a->verdict : AMD_PENDING;
}

uint32_t amd_decision_ms(const struct amd *a)
{
	return a && a->verdict != AMD_PENDING ? a->decision_ms : 0;
}

bool amd_beep(const struct amd *a, uint32_t *end_ms, unsigned *hz)
{
	if (!a || !a->beep.found)
		return false;
	if (end_ms)
		*end_ms = a->beep.end_ms;
	if (hz)
		*hz = a->beep.hz;
	return true;
}

/* What was heard is all there will be: a beep, or a greeting that was not (yet) too long
 * for a person — the line going quiet after "Hello?" (a phone that stops sending during
 * silence) is the human case — and otherwise unsure. */
enum amd_verdict amd_finish(struct amd *a)
{
	if (!a)
		return AMD_PENDING;
	beep_close(&a->beep);
	if (a->verdict != AMD_PENDING)
		return a->verdict;
	if (a->beep.found)
		decide(a, AMD_MACHINE);
	else if (a->words)
		decide(a, AMD_HUMAN);
	else
		decide(a, AMD_UNSURE);
	return a->verdict;
}

const char *amd_verdict_name(enum amd_verdict v)
{
	switch (v) {
	case AMD_HUMAN:   return "human";
	case AMD_MACHINE: return "machine";
	case AMD_UNSURE:  return "unsure";
	default:          return "";
	}
}
