/* earlyaudio: what the carrier says before the answer (docs/early-media.md).
 *
 * An outbound call's early media (a 183 with SDP) is listened to frame by frame on the
 * stream's worker: it is told apart as silence, ring-back (a tone with an on/off cadence,
 * any country's), a special information tone (SIT, ITU-T E.180 / Telcordia SR-2275, with
 * its variant), speech, and, when the operator registered reference recordings for the
 * trunk, a recognised announcement (an audio fingerprint: pairs of spectral peaks hashed
 * and matched with time-offset voting, so it works in any language). The call module
 * turns the finding into the EndStatus of a call the carrier then fails. */
#ifndef CCCD_EARLYAUDIO_H
#define CCCD_EARLYAUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What was heard, in order of weight: a later, heavier finding replaces a lighter one. */
enum earlyaudio_heard {
	EARLYAUDIO_NOTHING = 0,
	EARLYAUDIO_SILENCE,
	EARLYAUDIO_RINGBACK,
	EARLYAUDIO_SPEECH,
	EARLYAUDIO_SIT,
	EARLYAUDIO_ANNOUNCEMENT,
};

/* The SIT variants (Telcordia SR-2275 §6.21.2): frequency and length of the first two
 * tones; the third is always 1776.7 Hz. EARLYAUDIO_SIT_OTHER: three rising tones in the
 * E.180 bands that match no variant (ITU's 950/1400/1800 Hz). */
enum earlyaudio_sit {
	EARLYAUDIO_SIT_NONE = 0,
	EARLYAUDIO_SIT_INTERCEPT,      /* IC: 913.8 short, 1370.6 short */
	EARLYAUDIO_SIT_VACANT,         /* VC: 985.2 long, 1370.6 short */
	EARLYAUDIO_SIT_REORDER,        /* RO: 913.8 short, 1428.5 long; RO': 985.2 short, 1370.6 long */
	EARLYAUDIO_SIT_NO_CIRCUIT,     /* NC: 985.2 long, 1428.5 long; NC': 913.8 long, 1370.6 long */
	EARLYAUDIO_SIT_INEFFECTIVE,    /* IO: 985.2 short, 1428.5 short */
	EARLYAUDIO_SIT_OTHER,
};

const char *earlyaudio_heard_name(enum earlyaudio_heard h); /* "ringback", "sit", ... */
const char *earlyaudio_sit_name(enum earlyaudio_sit s);     /* "vacant", "reorder", ... */

/* ---- references ---------------------------------------------------------------------
 * A reference recording's fingerprint: immutable once made, so the workers of many calls
 * read it without locks. */
struct earlyaudio_ref;

/* From 8 kHz mono linear PCM; name is what records show (the file's base name). */
int earlyaudio_ref_alloc(struct earlyaudio_ref **rp, const int16_t *pcm, size_t n,
			 const char *name);
/* Reads the file (blocking: start, reload, never the loop during calls) into a process-wide
 * registry keyed by path, size and modification time, so that a reload re-reads only
 * edited files. A file that cannot be read or holds too little sound for a fingerprint is
 * an error saying why. */
int earlyaudio_ref_load(const char *path, char *why, size_t whysz);
/* The registered fingerprint of path (loaded by earlyaudio_ref_load), or NULL. A
 * registered reference lives as long as the process, so the pointer stays valid for the
 * whole call even when a reload loads the file again. Any thread. */
const struct earlyaudio_ref *earlyaudio_ref_find(const char *path);
const char *earlyaudio_ref_name(const struct earlyaudio_ref *r);
size_t earlyaudio_ref_hashes(const struct earlyaudio_ref *r);

/* ---- listening ----------------------------------------------------------------------- */

enum { EARLYAUDIO_REFS_MAX = 16 };

/* One call's listener: a mem object, touched by one thread at a time (the stream's
 * worker once handed to media_listen). refs may be NULL when nref is 0. */
struct earlyaudio;
int earlyaudio_alloc(struct earlyaudio **eap, const struct earlyaudio_ref *const *refs,
		     unsigned nref);

struct earlyaudio_finding {
	enum earlyaudio_heard heard;
	enum earlyaudio_sit sit;     /* EARLYAUDIO_SIT */
	unsigned ref;                /* EARLYAUDIO_ANNOUNCEMENT: index into refs */
	uint32_t at_ms;              /* audio time heard when it was found */
};

/* One frame of 8 kHz linear audio (any n; the worker gives 160). True when something new
 * was found, in *f: each class is reported once, an announcement once. */
bool earlyaudio_frame(struct earlyaudio *ea, const int16_t *pcm, size_t n,
		      struct earlyaudio_finding *f);

/* The same as a media listener (media_listen_h): state is a struct earlyaudio. The
 * finding is packed into media_heard: what = heard, value = sit or ref. */
struct media_heard;
bool earlyaudio_listen_h(void *state, const int16_t *pcm, size_t n, struct media_heard *heard);

#endif
