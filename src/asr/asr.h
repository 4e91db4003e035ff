/* Speech recognised on the machine: a small grammar recogniser behind an engine vtable,
 * run by a pool of threads off the control loop.
 *
 * A speech node with "engine": "local" asks for one of three grammars — yes/no, a digit
 * string of a given length range, or a list of intents' phrases — and hands the caller's
 * answer (8 kHz 16-bit mono) to asr_submit(). A recogniser thread decodes it with its own
 * decoder (decoders are not thread-safe and slow to create: one per thread, made once, each
 * caching the grammars it has seen by content) and the result comes back on the control
 * loop through a libre mqueue. The queue is bounded: a full queue is refused at once
 * (EBUSY), never waited on. docs/speech.md says how to add an engine (one file and one line
 * in the table of asr.c). */

#ifndef CCCD_ASR_H
#define CCCD_ASR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_err;

enum asr_kind {
	ASR_YESNO = 1,             /* intent "yes" or "no"; text the words heard */
	ASR_DIGITS,                /* text the digit string ("4719"); no intent */
	ASR_KEYWORDS,              /* intent whose phrase was heard; text the phrase */
};

/* One phrase of a keyword grammar: lower-case words separated by single spaces. */
struct asr_phrase {
	char *intent;
	char *text;
};

/* A grammar, made once per speech node at flow load and shared (reference-counted) by the
 * jobs that use it. `key` is its canonical JSGF text: engines cache their compiled grammars
 * under it, so two nodes asking for the same thing share one. */
struct asr_grammar {
	enum asr_kind kind;
	unsigned min_digits, max_digits;  /* ASR_DIGITS: 1..20 */
	struct asr_phrase *phrases;       /* ASR_KEYWORDS (mem array), else NULL */
	size_t n_phrases;
	char *key;                        /* JSGF, e.g. "#JSGF V1.0; grammar g; public <s> = ..." */
};

/* ASR_YESNO's words, per answer (the grammar says exactly these). */
extern const char *const asr_yes_words[];
extern const char *const asr_no_words[];

int asr_grammar_yesno(struct asr_grammar **gp);
int asr_grammar_digits(struct asr_grammar **gp, unsigned min, unsigned max);
/* phrases: n pairs; strings are copied. EINVAL for a phrase that is not 1–8 words of
 * a-z and "'" separated by single spaces, or for an intent or phrase list that is empty. */
int asr_grammar_keywords(struct asr_grammar **gp, const struct asr_phrase *phrases, size_t n);

/* What the engine heard, as text (mem string) and intent (mem string, "" for none);
 * confidence 0–100 where the engine has one (-1 when it has not); the CPU time the
 * decoding took. */
struct asr_result {
	char *text;
	char *intent;
	int confidence;
	unsigned cpu_ms;
};

/* Fills text and intent from a hypothesis (the words the engine heard, space separated)
 * by the grammar's rules. ENOENT: the hypothesis is empty or is not one of the grammar's
 * answers (no match). */
int asr_grammar_match(const struct asr_grammar *g, const char *hyp, struct asr_result *res);

/* Where the words of an answer (8 kHz samples) are, by energy (segment.c): at most `max`
 * spans, in order; *count more than max when there are more (the spans then unset). */
struct asr_span {
	size_t start, end;        /* samples, end excluded */
};

int asr_segment(const int16_t *pcm, size_t n, struct asr_span *spans, unsigned max,
		unsigned *count);

/* The engine's settings ([speech] section). */
struct asr_conf {
	char engine[32];           /* "pocketsphinx" */
	char model[256];           /* the engine's model folder */
	unsigned threads;          /* recogniser threads, 1–8 */
	unsigned queue;            /* jobs waiting at most, 1–1000 */
	bool upsample;             /* pocketsphinx: 8 kHz → 16 kHz for the wide-band model */
	char adaptation[256];      /* pocketsphinx: the model adapted to the telephone, "" none */
};

int asr_conf_read(const struct conf *cf, struct asr_conf *ac, struct conf_err *err);
void asr_conf_default(struct asr_conf *ac);

/* An engine: one file (src/asr/<name>.c) and one line in asr.c's table.
 *  open       one decoder for one recogniser thread (called on that thread)
 *  recognise  decodes pcm (8 kHz, 16-bit, mono) with grammar g; sets hyp (mem string, the
 *             words heard, "" for nothing) and confidence (0–100, or -1)
 *  close      frees what open made
 *  word_known whether `word` is in the model's dictionary (any thread; may load and
 *             keep the dictionary on the first call) */
struct asr_engine {
	const char *name;
	int  (*open)(void **statep, const struct asr_conf *ac);
	int  (*recognise)(void *state, const struct asr_grammar *g, const int16_t *pcm, size_t n,
			  char **hyp, int *confidence);
	void (*close)(void *state);
	int  (*word_known)(const struct asr_conf *ac, const char *word, bool *known);
};

const struct asr_engine *asr_engine_find(const char *name);

/* Checks every word of a grammar's phrases against the engine's dictionary; the first
 * unknown word into `bad`. ENOENT when one is unknown, ENOTSUP for an unknown engine.
 * Blocking (the dictionary file): at flow load, never on the control loop. */
int asr_grammar_check(const struct asr_grammar *g, const struct asr_conf *ac, char *bad,
		      size_t sz);

/* ---- the pool ------------------------------------------------------------------------ */

struct asr;
struct asr_job;

/* A job's end, on the control loop: err 0 and the result (valid during the call), ENOENT
 * for no match (res has the engine's words in text), or another errno value. */
typedef void (asr_done_h)(int err, const struct asr_result *res, void *arg);

/* Starts the recogniser threads; each opens its decoder. On the control loop. */
int asr_alloc(struct asr **asrp, const struct asr_conf *ac);

/* Queues n samples of pcm (16-bit native order, any alignment; copied) for recognition
 * with g (referenced). *jobp is a handle for asr_cancel, valid until h is called or the
 * job is cancelled. EBUSY: the queue is full (nothing is queued, h is never called). */
int asr_submit(struct asr *asr, struct asr_job **jobp, const struct asr_grammar *g,
	       const void *pcm, size_t n, asr_done_h *h, void *arg);

/* The samples of a WAV file as the recorder writes it (PCM 16-bit, mono, 8 kHz): a pointer
 * into `wav` and their count. EINVAL for any other format or a malformed file. */
int asr_wav_pcm(const uint8_t *wav, size_t len, const uint8_t **pcmp, size_t *np);

/* The job's handler will not be called (its owner is going away). */
void asr_cancel(struct asr_job *job);

/* Jobs waiting now (for the tests and the metrics). */
size_t asr_queued(struct asr *asr);

const struct asr_conf *asr_config(const struct asr *asr);

#endif
