/* The three grammars an IVR asks for, as JSGF every grammar engine reads, and the way a
 * hypothesis (the words an engine heard) becomes text and intent.
 *
 * The grammars are closed: the decoder can only answer with one of their sentences, so
 * what it hears is always "something in the grammar" or nothing. That is what makes a
 * small model accurate on telephone audio, and the reason a no-match is rare: the node's
 * onFail takes it (docs/speech.md). */

#include <errno.h>
#include <string.h>
#include <re.h>
#include "asr/asr.h"

const char *const asr_yes_words[] = {"yes", "yeah", "yep", "correct", "sure", "right", NULL};
const char *const asr_no_words[] = {"no", "nope", "wrong", NULL};

/* Spoken digits; "oh" is zero as people read numbers out. */
static const char *const digit_words[] = {"zero", "one", "two", "three", "four", "five",
					  "six", "seven", "eight", "nine", "oh", NULL};

static void grammar_destructor(void *arg)
{
	struct asr_grammar *g = arg;

	for (size_t i = 0; i < g->n_phrases; i++) {
		mem_deref(g->phrases[i].intent);
		mem_deref(g->phrases[i].text);
	}
	mem_deref(g->phrases);
	mem_deref(g->key);
}

static int alternatives(struct mbuf *mb, const char *const *words, bool *first)
{
	int err = 0;

	for (size_t i = 0; words[i] && !err; i++) {
		err = mbuf_printf(mb, "%s%s", *first ? "" : " | ", words[i]);
		*first = false;
	}
	return err;
}

/* The JSGF text into g->key. */
static int grammar_key(struct asr_grammar *g)
{
	struct mbuf *mb = mbuf_alloc(256);
	bool first = true;
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_printf(mb, "#JSGF V1.0;\ngrammar g;\n");
	switch (g->kind) {
	case ASR_YESNO:
		err = err ? err : mbuf_printf(mb, "public <s> = ");
		err = err ? err : alternatives(mb, asr_yes_words, &first);
		err = err ? err : alternatives(mb, asr_no_words, &first);
		break;
	case ASR_DIGITS:
		err = err ? err : mbuf_printf(mb, "<d> = ");
		err = err ? err : alternatives(mb, digit_words, &first);
		err = err ? err : mbuf_printf(mb, ";\npublic <s> =");
		for (unsigned i = 0; i < g->max_digits && !err; i++)
			err = mbuf_printf(mb, i < g->min_digits ? " <d>" : " [<d>");
		for (unsigned i = g->min_digits; i < g->max_digits && !err; i++)
			err = mbuf_printf(mb, "]");
		break;
	case ASR_KEYWORDS:
		err = err ? err : mbuf_printf(mb, "public <s> = ");
		for (size_t i = 0; i < g->n_phrases && !err; i++)
			err = mbuf_printf(mb, "%s%s", i ? " | " : "", g->phrases[i].text);
		break;
	}
	err = err ? err : mbuf_printf(mb, ";\n");
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, &g->key, mb->end);
	}
	mem_deref(mb);
	return err;
}

static int grammar_new(struct asr_grammar **gp, enum asr_kind kind)
{
	struct asr_grammar *g = mem_zalloc(sizeof(*g), grammar_destructor);

	if (!g)
		return ENOMEM;
	g->kind = kind;
	*gp = g;
	return 0;
}

static int grammar_done(struct asr_grammar **gp, struct asr_grammar *g)
{
	int err = grammar_key(g);

	if (err) {
		mem_deref(g);
		return err;
	}
	*gp = g;
	return 0;
}

int asr_grammar_yesno(struct asr_grammar **gp)
{
	struct asr_grammar *g;
	int err;

	if (!gp)
		return EINVAL;
	err = grammar_new(&g, ASR_YESNO);
	return err ? err : grammar_done(gp, g);
}

int asr_grammar_digits(struct asr_grammar **gp, unsigned min, unsigned max)
{
	struct asr_grammar *g;
	int err;

	if (!gp || min < 1 || max > 20 || min > max)
		return EINVAL;
	err = grammar_new(&g, ASR_DIGITS);
	if (err)
		return err;
	g->min_digits = min;
	g->max_digits = max;
	return grammar_done(gp, g);
}

/* 1–8 words of a-z and ', one space between words. */
static bool phrase_ok(const char *s)
{
	unsigned words = 1;
	char prev = ' ';

	if (!s || !*s)
		return false;
	for (; *s; prev = *s++) {
		if (*s == ' ') {
			if (prev == ' ')
				return false;
			words++;
		}
		else if (!((*s >= 'a' && *s <= 'z') || *s == '\''))
			return false;
	}
	return prev != ' ' && words <= 8;
}

int asr_grammar_keywords(struct asr_grammar **gp, const struct asr_phrase *phrases, size_t n)
{
	struct asr_grammar *g;
	int err;

	if (!gp || !phrases || !n || n > 256)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!phrases[i].intent || !*phrases[i].intent || !phrase_ok(phrases[i].text))
			return EINVAL;
	}
	err = grammar_new(&g, ASR_KEYWORDS);
	if (err)
		return err;
	g->phrases = mem_zalloc(n * sizeof(*g->phrases), NULL);
	if (!g->phrases) {
		mem_deref(g);
		return ENOMEM;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = str_dup(&g->phrases[i].intent, phrases[i].intent);
		err = err ? err : str_dup(&g->phrases[i].text, phrases[i].text);
		g->n_phrases++;
	}
	if (err) {
		mem_deref(g);
		return err;
	}
	return grammar_done(gp, g);
}

static bool in_list(const char *const *list, const char *w)
{
	for (size_t i = 0; list[i]; i++) {
		if (!strcmp(list[i], w))
			return true;
	}
	return false;
}

/* "four seven oh nine" → "4709"; ENOENT for anything else or a wrong length. */
static int digits_of(const struct asr_grammar *g, const char *hyp, char *out, size_t sz)
{
	char w[16];
	size_t n = 0;

	while (*hyp) {
		size_t l = strcspn(hyp, " ");
		int d = -1;

		if (l && l < sizeof(w)) {
			memcpy(w, hyp, l);
			w[l] = '\0';
			for (int i = 0; digit_words[i]; i++) {
				if (!strcmp(digit_words[i], w))
					d = i == 10 ? 0 : i;
			}
		}
		if (d < 0 || n + 1 >= sz)
			return ENOENT;
		out[n++] = (char)('0' + d);
		hyp += l;
		hyp += *hyp == ' ';
	}
	out[n] = '\0';
	return n >= g->min_digits && n <= g->max_digits ? 0 : ENOENT;
}

int asr_grammar_match(const struct asr_grammar *g, const char *hyp, struct asr_result *res)
{
	const char *intent = NULL;
	char digits[24];
	int err = ENOENT;

	if (!g || !hyp || !res)
		return EINVAL;
	res->text = mem_deref(res->text);
	res->intent = mem_deref(res->intent);
	switch (g->kind) {
	case ASR_YESNO:
		intent = in_list(asr_yes_words, hyp) ? "yes" : in_list(asr_no_words, hyp) ? "no" :
			 NULL;
		break;
	case ASR_DIGITS:
		if (!digits_of(g, hyp, digits, sizeof(digits))) {
			err = str_dup(&res->text, digits);
			return err ? err : str_dup(&res->intent, "");
		}
		break;
	case ASR_KEYWORDS:
		for (size_t i = 0; i < g->n_phrases && !intent; i++) {
			if (!strcmp(g->phrases[i].text, hyp))
				intent = g->phrases[i].intent;
		}
		break;
	}
	if (intent) {
		err = str_dup(&res->text, hyp);
		return err ? err : str_dup(&res->intent, intent);
	}
	return str_dup(&res->text, hyp) ? ENOMEM : err;
}
