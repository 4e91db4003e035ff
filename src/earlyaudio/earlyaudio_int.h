/* earlyaudio: the parts shared by its files. */
#ifndef CCCD_EARLYAUDIO_INT_H
#define CCCD_EARLYAUDIO_INT_H

#include <spandsp.h>
#include "earlyaudio/earlyaudio.h"

/* The analysis runs on 20 ms hops of 8 kHz audio, each looking at the last 32 ms through
 * a Hann window: 256 samples, 128 bins of 31.25 Hz. */
enum {
	EA_HOP = 160,
	EA_WIN = 256,
	EA_BINS = EA_WIN / 2 + 1,
	EA_PEAKS = 4,          /* spectral peaks kept per hop */
};

/* fft.c: an in-place radix-2 FFT and the power spectrum of one window. */
void earlyaudio_fft(float *re, float *im, unsigned n);
struct ea_spec {
	float pow[EA_BINS];    /* power per bin */
	float band;            /* power in 100..3500 Hz */
	float db;              /* the hop's level, dBFS (a full-scale sine is 0) */
};
void earlyaudio_spectrum(const int16_t *win, const int16_t *hop, struct ea_spec *s);

/* print.c: landmarks. A peak is a bin; a landmark pairs an anchor peak with a later one
 * within EA_DT_MAX hops and EA_DF_MAX bins, hashed as (f1, f2 - f1, dt). */
enum { EA_DT_MAX = 24, EA_DF_MAX = 31, EA_FANOUT = 5 };
struct ea_hash {
	uint32_t hash;
	uint32_t t;            /* the anchor's hop */
};
struct ea_print {
	uint8_t peak[EA_DT_MAX + 1][EA_PEAKS];   /* ring by hop: bins, 0 = none */
	uint8_t used[EA_DT_MAX + 1][EA_PEAKS];   /* pairs each anchor made so far */
	uint32_t t;                              /* hops seen */
};
/* Takes one hop's spectrum; writes the landmarks that end in it (at most
 * EA_PEAKS * EA_PEAKS * EA_DT_MAX, bounded by the fan-out) and returns their count. */
unsigned earlyaudio_print_hop(struct ea_print *p, const struct ea_spec *s, struct ea_hash *out,
			      unsigned max);
enum { EA_HASH_OUT_MAX = EA_DT_MAX * EA_PEAKS * EA_PEAKS };

/* classify.c: the tone and level classes of each hop. */
struct ea_class {
	/* SIT */
	goertzel_descriptor_t sit_desc[5];
	int sit_run, sit_len;             /* current run: tone index (-1 none), hops */
	int sit_gap;                      /* hops since the last SIT hop */
	int sit_prev[2][2];               /* the two runs before: index, hops */
	unsigned sit_nprev;
	/* ring-back */
	int tone_bin, tone_len, off_len;  /* current tonal run's bin and length; quiet after */
	int ring_bin, ring_on;            /* a finished on-burst waiting for its repeat */
	/* speech and silence */
	float activity;                   /* leaky count of active non-tonal hops */
	unsigned silent;                  /* consecutive silent hops */
	bool said[EARLYAUDIO_ANNOUNCEMENT + 1];
};
void earlyaudio_class_init(struct ea_class *c);
/* One hop: true with *f filled when a class is found the first time. */
bool earlyaudio_class_hop(struct ea_class *c, const int16_t *hop, const struct ea_spec *s,
			  uint32_t t, struct earlyaudio_finding *f);

/* ref.c: a reference's landmarks sorted by hash. */
struct earlyaudio_ref {
	char name[64];
	struct ea_hash *h;
	size_t n;
	uint32_t hops;
};
/* The references' landmarks with this hash: [*first, *first + return). */
size_t earlyaudio_ref_lookup(const struct earlyaudio_ref *r, uint32_t hash,
			     const struct ea_hash **first);

#endif
