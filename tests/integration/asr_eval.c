/* The local recogniser's accuracy on a labelled set (tests/data/asr/, made by its make.sh):
 * every file decoded with its grammar by the configured engine, as a recogniser thread
 * would, and per grammar the share right and the CPU time per answer (the latency from the
 * end of the answer to the result: the decoder starts when the answer has ended).
 *
 *   asr_eval DIR [--narrow] [--model DIR] [--adaptation FILE] [--bar GRAMMAR=PERCENT]... [-v]
 *
 * --adaptation "" decodes with the model as packaged (the default is the configured one,
 * the installed transform, src/asr/adapt/).
 *
 * Exits 1 when a grammar with a bar (yesno, digits, keywords) is right less than PERCENT
 * of the time (the quality bars scripts/test.sh holds the engine to), 2 on a usage or file
 * error. Wrong answers are printed when no bar is given, every answer with -v. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include <sndfile.h>
#include "asr/asr.h"

struct tally {
	const char *name;
	unsigned n, right;
	double cpu_ms;
	unsigned worst_ms;
};

static int read_wav(const char *path, int16_t **pcmp, size_t *np)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	int16_t *pcm;

	if (!sf)
		return ENOENT;
	if (info.samplerate != 8000 || info.channels != 1 || info.frames <= 0) {
		sf_close(sf);
		return EINVAL;
	}
	pcm = malloc((size_t)info.frames * sizeof(*pcm));
	if (!pcm) {
		sf_close(sf);
		return ENOMEM;
	}
	*np = (size_t)sf_readf_short(sf, pcm, info.frames);
	sf_close(sf);
	*pcmp = pcm;
	return 0;
}

static int load_intents(const char *dir, struct asr_grammar **gp)
{
	struct asr_phrase ph[64];
	char path[512], line[256];
	size_t n = 0;
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/intents.tsv", dir);
	f = fopen(path, "r");
	if (!f)
		return errno;
	while (n < 64 && fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');

		if (!tab)
			continue;
		*tab = '\0';
		tab[strcspn(tab + 1, "\n") + 1] = '\0';
		ph[n].intent = strdup(line);
		ph[n].text = strdup(tab + 1);
		n++;
	}
	fclose(f);
	err = asr_grammar_keywords(gp, ph, n);
	for (size_t i = 0; i < n; i++) {
		free(ph[i].intent);
		free(ph[i].text);
	}
	return err;
}

int main(int argc, char **argv)
{
	struct asr_grammar *yesno = NULL, *digits = NULL, *keywords = NULL;
	struct tally t[3] = {{.name = "yesno"}, {.name = "digits"}, {.name = "keywords"}};
	const struct asr_engine *e;
	struct asr_conf ac;
	const char *dir = NULL;
	double bar[3] = {-1, -1, -1};
	bool bars = false;
	bool verbose = false;
	void *state = NULL;
	char path[512], line[512];
	FILE *labels;
	int rc = 0;

	asr_conf_default(&ac);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--narrow"))
			ac.upsample = false;
		else if (!strcmp(argv[i], "--model") && i + 1 < argc)
			str_ncpy(ac.model, argv[++i], sizeof(ac.model));
		else if (!strcmp(argv[i], "--adaptation") && i + 1 < argc)
			str_ncpy(ac.adaptation, argv[++i], sizeof(ac.adaptation));
		else if (!strcmp(argv[i], "--bar") && i + 1 < argc) {
			const char *b = argv[++i];

			for (int k = 0; k < 3; k++) {
				size_t l = strlen(t[k].name);

				if (!strncmp(b, t[k].name, l) && b[l] == '=')
					bar[k] = atof(b + l + 1), bars = true;
			}
		}
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!dir)
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (!dir) {
		fprintf(stderr, "usage: asr_eval DIR [--narrow] [--model DIR]"
			" [--adaptation FILE] [--bar GRAMMAR=PERCENT]... [-v]\n");
		return 2;
	}
	e = asr_engine_find(ac.engine);
	if (libre_init() || asr_grammar_yesno(&yesno) || asr_grammar_digits(&digits, 4, 8) ||
	    load_intents(dir, &keywords) || !e || e->open(&state, &ac)) {
		fprintf(stderr, "asr_eval: cannot set up the engine or %s/intents.tsv\n", dir);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/labels.tsv", dir);
	labels = fopen(path, "r");
	if (!labels) {
		fprintf(stderr, "asr_eval: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), labels)) {
		char file[128], grammar[32], want[64];
		struct asr_result res = {0};
		struct asr_grammar *g;
		struct tally *ty;
		struct timespec a, b;
		int16_t *pcm = NULL;
		char *hyp = NULL;
		size_t n = 0;
		int conf, err;
		unsigned ms;
		bool right;

		if (sscanf(line, "%127[^\t]\t%31[^\t]\t%63[^\n]", file, grammar, want) != 3)
			continue;
		g = !strcmp(grammar, "yesno") ? yesno : !strcmp(grammar, "digits") ? digits :
		    keywords;
		ty = &t[g == yesno ? 0 : g == digits ? 1 : 2];
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		if (read_wav(path, &pcm, &n)) {
			fprintf(stderr, "asr_eval: %s: not an 8 kHz mono WAV\n", path);
			rc = 2;
			break;
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		err = e->recognise(state, g, pcm, n, &hyp, &conf);
		err = err ? err : asr_grammar_match(g, hyp, &res);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		ms = (unsigned)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
		right = !err && !strcmp(g == digits ? res.text : res.intent, want);
		ty->n++;
		ty->right += right;
		ty->cpu_ms += ms;
		if (ms > ty->worst_ms)
			ty->worst_ms = ms;
		if (verbose || (!right && !bars))
			printf("%s %-8s want %-10s heard '%s'%s\n", right ? "ok " : "BAD", file,
			       want, hyp ? hyp : "", err ? " (no match)" : "");
		mem_deref(hyp);
		mem_deref(res.text);
		mem_deref(res.intent);
		free(pcm);
	}
	fclose(labels);
	printf("%-9s %6s %6s %8s %12s %10s\n", "grammar", "files", "right", "percent",
	       "cpu ms/ans", "worst ms");
	for (int i = 0; i < 3; i++) {
		double pct = t[i].n ? 100.0 * t[i].right / t[i].n : 0;

		printf("%-9s %6u %6u %7.1f%% %12.1f %10u\n", t[i].name, t[i].n, t[i].right, pct,
		       t[i].n ? t[i].cpu_ms / t[i].n : 0, t[i].worst_ms);
		if (bar[i] >= 0 && pct < bar[i]) {
			printf("asr_eval: %s %.1f%% is below the bar of %.0f%%\n", t[i].name, pct,
			       bar[i]);
			rc = rc ? rc : 1;
		}
	}
	e->close(state);
	mem_deref(yesno);
	mem_deref(digits);
	mem_deref(keywords);
	libre_close();
	return rc;
}
