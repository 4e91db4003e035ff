/* The PocketSphinx engine (Debian's 0.8+5prealpha and its US English model) in grammar
 * mode: each grammar is a JSGF search of the thread's one decoder, named by a hash of its
 * text, made the first time a job asks for it and kept (the last MAX_SEARCHES).
 *
 * The en-us acoustic model is trained on 16 kHz audio. Telephone audio is 8 kHz. With
 * "[speech] upsample = no" the front end runs at 8 kHz (-samprate 8000 -nfft 256, the
 * model's filter bank cut at 3.5 kHz, its other feature parameters kept); "yes", the
 * default, resamples to 16 kHz (speexdsp) and feeds the model its own front end,
 * with nothing above 4 kHz. docs/benchmarks.md has both measured on tests/data/asr: the
 * 8 kHz front end does not match the filter bank the model was trained with and is near
 * chance; upsampling is the default. Digit strings are weak either way (fricatives —
 * six, seven, three, five, zero — live above 4 kHz) unless the model is adapted to the
 * telephone ("[speech] adaptation", below).
 *
 * PocketSphinx logs every step to stderr: its log goes to a callback that passes its
 * errors on to cccd's log and drops the rest. */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <speex/speex_resampler.h>
#include "asr/asr.h"
#include "base/base.h"

enum { MAX_SEARCHES = 32 };

struct ps_state {
	ps_decoder_t *ps;
	cmd_ln_t *config;
	bool upsample;
	char names[MAX_SEARCHES][32]; /* the grammars made, oldest first */
	unsigned n_names;
};

/* ---- the library's log --------------------------------------------------------------- */

static void ps_log(void *arg, err_lvl_t lvl, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	size_t l;

	(void)arg;
	if (lvl < ERR_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		msg[--l] = '\0';
	/* its word for an answer outside the grammar: the node reports that as nomatch: */
	if (strstr(msg, "does not match the grammar"))
		return;
	log_error("asr", "pocketsphinx: %s", msg);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_setup(void)
{
	err_set_logfp(NULL);      /* its configuration dump goes to the file, not the callback */
	err_set_callback(ps_log, NULL);
}

/* ---- the dictionary, for the check at flow load ---------------------------------------- */

/* One per model folder, loaded on first use and kept for the life of the process (it is
 * read-only once made): the sorted words of the model's dictionary. */
struct dict {
	char path[256];
	char *text;        /* the file, its lines cut at the first blank */
	char **words;      /* sorted */
	size_t n;
};

static pthread_mutex_t dict_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dict *dict_cache;

static int cmp_word(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dict_destructor(void *arg)
{
	struct dict *d = arg;

	mem_deref(d->text);
	mem_deref(d->words);
}

static int dict_load(struct dict **dp, const char *model)
{
	struct dict *d = mem_zalloc(sizeof(*d), dict_destructor);
	char file[300];
	FILE *f = NULL;
	long len;
	size_t cap = 0;
	int err = 0;

	if (!d)
		return ENOMEM;
	str_ncpy(d->path, model, sizeof(d->path));
	snprintf(file, sizeof(file), "%s/cmudict-en-us.dict", model);
	if (!(f = fopen(file, "rb")) || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		err = errno ? errno : EIO;
		goto out;
	}
	d->text = mem_alloc((size_t)len + 1, NULL);
	if (!d->text || fread(d->text, 1, (size_t)len, f) != (size_t)len) {
		err = d->text ? EIO : ENOMEM;
		goto out;
	}
	d->text[len] = '\0';
	for (char *p = d->text; *p;) {
		char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		char *sp = p + strcspn(p, " \t\n");

		if (d->n == cap) {
			cap = cap ? cap * 2 : 4096;
			char **w = d->words ? mem_realloc(d->words, cap * sizeof(*w)) :
					      mem_alloc(cap * sizeof(*w), NULL);

			if (!w) {
				err = ENOMEM;
				goto out;
			}
			d->words = w;
		}
		*sp = '\0';
		if (sp > p && !strchr(p, '('))   /* "word(2)": another pronunciation */
			d->words[d->n++] = p;
		p = nl ? end + 1 : end;
	}
	qsort(d->words, d->n, sizeof(*d->words), cmp_word);
 out:
	if (f)
		fclose(f);
	if (err)
		mem_deref(d);
	else
		*dp = d;
	return err;
}

static int ps_word_known(const struct asr_conf *ac, const char *word, bool *known)
{
	const char *key = word;
	int err = 0;

	pthread_mutex_lock(&dict_lock);
	if (!dict_cache || strcmp(dict_cache->path, ac->model)) {
		struct dict *d = NULL;

		err = dict_load(&d, ac->model);
		if (!err) {
			mem_deref(dict_cache);
			dict_cache = d;
		}
	}
	if (!err)
		*known = bsearch(&key, dict_cache->words, dict_cache->n, sizeof(char *),
				 cmp_word) != NULL;
	pthread_mutex_unlock(&dict_lock);
	if (err)
		log_error("asr", "pocketsphinx: cannot read the dictionary of %s: %s", ac->model,
			  strerror(err));
	return err;
}

/* ---- decoding ---------------------------------------------------------------------- */

/* Digits as the telephone band leaves them: the /s/ of "six" and "seven" lives above
 * 4 kHz and is mostly gone, and the model, trained on wide-band speech, then hears "one"
 * for "seven" and "eight" for "six". These pronunciations without it, added to the
 * dictionary as alternatives of the words, took the digit strings of the tuning half of
 * tests/data/asr from 37.5 % to 56.2 % (docs/benchmarks.md). */
static const char *const band_prons[][2] = {
	{"seven(2)", "EH V AH N"},
	{"six(2)", "IH K S"},
	{"six(3)", "IH K"},
};

/* The model adapted to telephone audio (src/asr/adapt/make.sh, MAP): the files of the
 * folder that are there replace the model's own Gaussian means ("means") and mixture
 * weights ("sendump"). They were made for the wide-band front end: the 8 kHz one
 * (upsample = no) takes none. The adapted model took the digit strings of the held-out
 * half of tests/data/asr from 56 % to 88 % (docs/benchmarks.md). */
static const char *const adapted[][2] = {
	{"means", "-mean"}, {"sendump", "-sendump"},
};

/* The decoder's configuration: the model, the front end, the adaptation. */
static cmd_ln_t *make_config(const struct asr_conf *ac)
{
	char hmm[300], dict[300], files[ARRAY_SIZE(adapted)][300];
	const char *argv[16] = {"-hmm", hmm, "-dict", dict};
	int argc = 4, found = 0;

	snprintf(hmm, sizeof(hmm), "%s/en-us", ac->model);
	snprintf(dict, sizeof(dict), "%s/cmudict-en-us.dict", ac->model);
	if (!ac->upsample)
		return cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", dict,
			    "-featparams", "/dev/null", "-samprate", "8000", "-nfft", "256",
			    "-lowerf", "130", "-upperf", "3500", "-nfilt", "25", "-transform", "dct",
			    "-lifter", "22", "-feat", "1s_c_d_dd", "-svspec", "0-12/13-25/26-38",
			    "-agc", "none", "-cmn", "batch", "-varnorm", "no", "-cmninit",
			    "41.00,-5.29,-0.12,5.09,2.48,-4.07,-1.37,-1.78,-5.08,-2.05,-6.45,-1.42,1.17",
			    NULL);
	/* against word insertions in the pauses between digits (docs/benchmarks.md) */
	argv[argc++] = "-wip", argv[argc++] = "0.01";
	argv[argc++] = "-silprob", argv[argc++] = "0.3";
	for (size_t i = 0; ac->adaptation[0] && i < ARRAY_SIZE(adapted); i++) {
		snprintf(files[i], sizeof(files[i]), "%s/%s", ac->adaptation, adapted[i][0]);
		if (access(files[i], R_OK))
			continue;
		argv[argc++] = adapted[i][1];
		argv[argc++] = files[i];
		found++;
	}
	if (ac->adaptation[0] && !found)
		log_warn("asr", "pocketsphinx: no adaptation in %s: the model as packaged, "
			 "digit strings far less accurate (docs/speech.md)", ac->adaptation);
	return cmd_ln_parse_r(NULL, ps_args(), argc, (char **)argv, TRUE);
}

static int ps_open(void **statep, const struct asr_conf *ac)
{
	struct ps_state *st = calloc(1, sizeof(*st));

	if (!st)
		return ENOMEM;
	pthread_once(&log_once, log_setup);
	st->upsample = ac->upsample;
	st->config = make_config(ac);
	if (st->config)
		st->ps = ps_init(st->config);
	for (size_t i = 0; st->ps && i < ARRAY_SIZE(band_prons); i++) {
		if (ps_add_word(st->ps, band_prons[i][0], band_prons[i][1], i + 1 ==
				ARRAY_SIZE(band_prons)) < 0)
			log_error("asr", "pocketsphinx: cannot add %s", band_prons[i][0]);
	}
	if (!st->ps) {
		log_error("asr", "pocketsphinx: cannot load the model in %s", ac->model);
		if (st->config)
			cmd_ln_free_r(st->config);
		free(st);
		return ENOENT;
	}
	*statep = st;
	return 0;
}

static void ps_close(void *state)
{
	struct ps_state *st = state;

	if (!st)
		return;
	ps_free(st->ps);
	cmd_ln_free_r(st->config);
	free(st);
}

/* ps_set_jsgf_string() of 0.8+5prealpha, without its leak (it never frees the parsed
 * grammar): the JSGF text's public rule as a finite-state grammar search. */
static int add_jsgf(struct ps_state *st, const char *name, const char *text)
{
	jsgf_t *jsgf = jsgf_parse_string(text, NULL);
	jsgf_rule_t *rule = jsgf ? jsgf_get_public_rule(jsgf) : NULL;
	fsg_model_t *fsg = rule ? jsgf_build_fsg(jsgf, rule, ps_get_logmath(st->ps),
						 cmd_ln_float32_r(st->config, "-lw")) : NULL;
	int err = fsg && ps_set_fsg(st->ps, name, fsg) ? EINVAL : fsg ? 0 : EINVAL;

	fsg_model_free(fsg);
	if (jsgf)
		jsgf_grammar_free(jsgf);
	return err;
}

/* Makes g the decoder's search (compiled the first time, by the hash of its text). */
static int use_grammar(struct ps_state *st, const struct asr_grammar *g)
{
	char name[32];
	unsigned i;

	snprintf(name, sizeof(name), "g%08x%zu", hash_joaat_str(g->key), strlen(g->key));
	for (i = 0; i < st->n_names; i++) {
		if (!strcmp(st->names[i], name))
			return ps_set_search(st->ps, name) ? EINVAL : 0;
	}
	if (st->n_names == MAX_SEARCHES) {
		ps_unset_search(st->ps, st->names[0]);
		memmove(st->names[0], st->names[1], sizeof(st->names[0]) * (MAX_SEARCHES - 1));
		st->n_names--;
	}
	if (add_jsgf(st, name, g->key) || ps_set_search(st->ps, name)) {
		log_error("asr", "pocketsphinx: the grammar was refused: %s", g->key);
		return EINVAL;
	}
	str_ncpy(st->names[st->n_names++], name, sizeof(st->names[0]));
	return 0;
}

/* 8 kHz → 16 kHz for the wide-band front end. */
static int upsample(const int16_t *pcm, size_t n, int16_t **outp, size_t *outn)
{
	SpeexResamplerState *rs;
	spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)(n * 2 + 64);
	int16_t *out = malloc(out_len * sizeof(*out));
	int err = 0;

	rs = out ? speex_resampler_init(1, 8000, 16000, 5, &err) : NULL;
	if (!rs) {
		free(out);
		return ENOMEM;
	}
	speex_resampler_skip_zeros(rs);
	speex_resampler_process_int(rs, 0, pcm, &in_len, out, &out_len);
	speex_resampler_destroy(rs);
	*outp = out;
	*outn = out_len;
	return 0;
}

/* Decodes pcm (8 kHz) with the decoder's current search: the words heard into hyp ("" for
 * none), their probability (0–100) into confidence. */
static int decode(struct ps_state *st, const int16_t *pcm, size_t n, char **hyp,
		  int *confidence)
{
	int16_t *wide = NULL;
	const char *h;
	int32 score;
	int err = 0;

	if (st->upsample) {
		err = upsample(pcm, n, &wide, &n);
		pcm = wide;
	}
	if (err)
		return err;
	if (ps_start_utt(st->ps) || ps_process_raw(st->ps, pcm, n, FALSE, TRUE) < 0 ||
	    ps_end_utt(st->ps)) {
		free(wide);
		return EIO;
	}
	free(wide);
	h = ps_get_hyp(st->ps, &score);
	*confidence = (int)(logmath_exp(ps_get_logmath(st->ps), ps_get_prob(st->ps)) * 100.0);
	return str_dup(hyp, h ? h : "");
}

/* One spoken digit. */
static char one_digit_jsgf[] = "#JSGF V1.0;\ngrammar g;\npublic <s> = zero | one | two | three"
	" | four | five | six | seven | eight | nine | oh;\n";
static const struct asr_grammar one_digit = {
	.kind = ASR_DIGITS, .min_digits = 1, .max_digits = 1, .key = one_digit_jsgf,
};

/* A digit string word by word: the model is far better at isolated digits than at a run
 * of them (docs/benchmarks.md), and people read digits out with pauses. When the pauses
 * do not give a count in the grammar's range, or a word is heard as nothing, ENOENT: the
 * caller decodes the answer whole. The confidence is the least sure digit's. */
static int digits_by_word(struct ps_state *st, const struct asr_grammar *g,
			  const int16_t *pcm, size_t n, char **hyp, int *confidence)
{
	struct asr_span spans[24];
	struct mbuf *mb = NULL;
	unsigned count;
	int err;

	err = asr_segment(pcm, n, spans, ARRAY_SIZE(spans), &count);
	if (err)
		return err;
	if (count < g->min_digits || count > g->max_digits)
		return ENOENT;
	err = use_grammar(st, &one_digit);
	mb = err ? NULL : mbuf_alloc(64);
	if (!err && !mb)
		err = ENOMEM;
	*confidence = 100;
	for (unsigned i = 0; i < count && !err; i++) {
		char *word = NULL;
		int conf;

		err = decode(st, pcm + spans[i].start, spans[i].end - spans[i].start, &word, &conf);
		if (!err && !*word)
			err = ENOENT;
		if (!err) {
			err = mbuf_printf(mb, "%s%s", i ? " " : "", word);
			*confidence = conf < *confidence ? conf : *confidence;
		}
		mem_deref(word);
	}
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, hyp, mb->end);
	}
	mem_deref(mb);
	return err;
}

static int ps_recognise(void *state, const struct asr_grammar *g, const int16_t *pcm, size_t n,
			char **hyp, int *confidence)
{
	struct ps_state *st = state;
	int err;

	if (g->kind == ASR_DIGITS) {
		err = digits_by_word(st, g, pcm, n, hyp, confidence);
		if (err != ENOENT)
			return err;
	}
	err = use_grammar(st, g);
	return err ? err : decode(st, pcm, n, hyp, confidence);
}

const struct asr_engine asr_engine_pocketsphinx = {
	.name = "pocketsphinx",
	.open = ps_open,
	.recognise = ps_recognise,
	.close = ps_close,
	.word_known = ps_word_known,
};
