/* amd: who answered — a human, a machine, or unsure — from the first seconds of the
 * callee's audio, in the manner of Asterisk's app_amd: an energy voice detector per 20 ms
 * frame over an adaptive noise floor, then the initial silence, the length of the first
 * utterance (the greeting), its words and the silence after it. A short greeting followed
 * by silence (someone saying "Hello?" and waiting for us) is a human, as soon as the
 * silence is long enough; a greeting longer than any a person says is a machine, as soon
 * as it is that long; a voicemail beep is a machine. No speech at all (silence, steady line
 * noise) is unsure: a person who picks up and says nothing is possible, and hanging up on
 * a person is the worst error a dialer makes (docs/amd.md).
 *
 * A beep detector runs on every frame, before and after the verdict: a frequency
 * estimate per frame (DESA-2, as FreeSWITCH's mod_avmd uses it), and a beep is a run of
 * loud frames whose estimate is steady, of beep_min_ms..beep_max_ms, at any frequency in
 * beep_hz_min..beep_hz_max — not a fixed list of tones.
 *
 * Pure computation: no loop, no threads, no allocation after amd_alloc. One object per
 * call, fed from one thread (the stream's worker). Times are audio times: samples fed,
 * in ms, never the wall clock. */
#ifndef CCCD_AMD_H
#define CCCD_AMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_err;

enum amd_verdict { AMD_PENDING = 0, AMD_HUMAN, AMD_MACHINE, AMD_UNSURE };

/* Every threshold; the [amd] config keys have the same names (docs/configuration.md). */
struct amd_conf {
	/* the voice detector */
	int voice_min_dbfs;          /* a frame quieter than this is never voice */
	unsigned voice_snr_db;       /* a voiced frame is this far above the noise floor */
	unsigned floor_window_ms;    /* the floor is the quietest frame of this last stretch */
	unsigned min_word_ms;        /* a voiced run shorter than this is a click, not a word */
	unsigned between_words_ms;   /* a gap this long ends a word */
	/* the decision */
	unsigned initial_silence_ms; /* no speech by then: unsure */
	unsigned greeting_max_ms;    /* a greeting longer than this: machine */
	unsigned max_words;          /* a greeting of this many words: machine */
	unsigned after_greeting_ms;  /* this much silence after a shorter greeting: human */
	unsigned total_ms;           /* still undecided after this much audio: unsure */
	/* the beep */
	unsigned beep_hz_min;        /* the band a beep may be in (at most 2000 at 8 kHz) */
	unsigned beep_hz_max;
	unsigned beep_min_ms;        /* a steady tone shorter than this is not a beep */
	unsigned beep_max_ms;        /* nor one longer than this (a dial or SIT tone) */
	unsigned beep_tolerance_hz;  /* how far a frame's estimate may stray from the run's */
	int beep_min_dbfs;           /* a beep frame is at least this loud */
};

void amd_conf_default(struct amd_conf *c);
/* [amd] section of the config: every key optional, defaults as amd_conf_default; a bad
 * value is an error naming the key (struct conf_err, as the other *_conf_read do) */
int amd_conf_read(const struct conf *cf, struct amd_conf *c, struct conf_err *err);
struct amd;
int amd_alloc(struct amd **ap, const struct amd_conf *c);   /* mem object */
/* Feeds n samples (one 20 ms frame, 160 samples, 8 kHz); returns the verdict so far.
 * Once HUMAN/MACHINE/UNSURE it stays; the beep detector keeps running after it. */
enum amd_verdict amd_feed(struct amd *a, const int16_t *pcm, size_t n);
enum amd_verdict amd_verdict(const struct amd *a);
uint32_t amd_decision_ms(const struct amd *a); /* audio ms at the verdict, 0 pending */
/* A voicemail beep heard (any frequency in beep_hz_min..max, long and steady enough):
 * true once found, with the audio ms at its END (when a message may start) and its Hz. */
bool amd_beep(const struct amd *a, uint32_t *end_ms, unsigned *hz);
/* The audio ran out (the caller's total time limit, or the line went quiet with no
 * RTP): decide now with what was heard (UNSURE or a verdict); returns it. */
enum amd_verdict amd_finish(struct amd *a);
const char *amd_verdict_name(enum amd_verdict v); /* "human" "machine" "unsure" "" */

/* The DESA-2 frequency estimate of a block of 8 kHz audio, in Hz (0..2000): the
 * frequency of a pure tone, a weighted mean of the components otherwise. false when the
 * block is too short (fewer than 5 samples) or holds no energy. */
bool amd_desa2_hz(const int16_t *pcm, size_t n, double *hzp);

#endif
