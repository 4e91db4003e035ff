/* amd_eval: the answering-machine detector over labelled recordings — the quality bar of
 * the test command and the figures of bench/amd/run.sh (docs/amd.md).
 *
 *     amd_eval [--check] [--part tune|heldout] [--quiet] [--conf FILE] labels.csv
 *
 * labels.csv has the header file,label,part,description; a file is relative to the
 * labels file's folder. Each file (8 kHz mono WAV, any encoding libsndfile reads) is fed
 * to a detector with the default thresholds (or those of FILE's [amd] section: how the
 * thresholds were tuned) in 20 ms frames, then finished at its end;
 * the verdict expected of each label: human -> human, machine -> machine, anything else
 * (silence, noise, music) -> unsure (amd.h). A file whose description has "beep" must
 * have its beep found; one without must not (a beep in a human greeting would hang up on
 * the person).
 *
 * Prints a line per file, the confusion matrix, accuracy, the share of humans called
 * machines, the median decision time of humans (audio time) and the beeps found. With
 * --check it exits 1 when the held-out bar is missed: accuracy < 95 %, humans called
 * machines > 2 %, median human decision > 2500 ms, or a beep not found. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>
#include <re.h>
#include "amd/amd.h"
#include "conf/conf.h"

#define MAX_FILES 1000
#define MAX_LABELS 8

struct figures {
	unsigned n, right;
	char labels[MAX_LABELS][16];     /* the labels met, in order of appearance */
	unsigned nlabels;
	unsigned matrix[MAX_LABELS][4];  /* label x verdict */
	unsigned humans, humans_machine;
	uint32_t human_ms[MAX_FILES];
	unsigned beeps, beeps_found, false_beeps;
};

static int by_value(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Runs one file; 0, or an errno with the reason printed. */
static int run_file(const char *path, const struct amd_conf *c, enum amd_verdict *vp,
		    uint32_t *msp, bool *beepp, uint32_t *beep_end, unsigned *beep_hz)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	struct amd *a = NULL;
	int16_t pcm[160];
	sf_count_t got;
	int err;

	if (!sf) {
		fprintf(stderr, "amd_eval: %s: %s\n", path, sf_strerror(NULL));
		return ENOENT;
	}
	if (info.samplerate != 8000 || info.channels != 1) {
		fprintf(stderr, "amd_eval: %s: not 8 kHz mono\n", path);
		sf_close(sf);
		return EINVAL;
	}
	err = amd_alloc(&a, c);
	if (err) {
		sf_close(sf);
		return err;
	}
	while ((got = sf_read_short(sf, pcm, 160)) > 0)
		amd_feed(a, pcm, (size_t)got);
	sf_close(sf);
	*vp = amd_finish(a);
	*msp = amd_decision_ms(a);
	*beepp = amd_beep(a, beep_end, beep_hz);
	mem_deref(a);
	return 0;
}

static int conf_of(const char *path, struct amd_conf *c)
{
	struct conf_err err = {0};
	struct conf *cf = NULL;
	int rc;

	amd_conf_default(c);
	if (!path)
		return 0;
	rc = conf_load(&cf, path, &err);
	rc = rc ? rc : amd_conf_read(cf, c, &err);
	if (rc)
		fprintf(stderr, "amd_eval: %s:%u: %s\n", path, err.line, err.msg);
	mem_deref(cf);
	return rc;
}

/* The row of a label, added when new; -1 when there are too many. */
static int label_row(struct figures *f, const char *label)
{
	for (unsigned i = 0; i < f->nlabels; i++)
		if (!strcmp(f->labels[i], label))
			return (int)i;
	if (f->nlabels == MAX_LABELS)
		return -1;
	snprintf(f->labels[f->nlabels], sizeof(f->labels[0]), "%s", label);
	return (int)f->nlabels++;
}

/* The verdict each label should get: nobody speaking is unsure (amd.h, docs/amd.md). */
static enum amd_verdict expected(const char *label)
{
	if (!strcmp(label, "human"))
		return AMD_HUMAN;
	if (!strcmp(label, "machine"))
		return AMD_MACHINE;
	return AMD_UNSURE;
}

static double median_ms(struct figures *f)
{
	if (!f->humans)
		return 0;
	qsort(f->human_ms, f->humans, sizeof(f->human_ms[0]), by_value);
	return f->humans % 2 ? f->human_ms[f->humans / 2]
			     : (f->human_ms[f->humans / 2 - 1] + f->human_ms[f->humans / 2]) / 2.0;
}

static void print_figures(const char *part, struct figures *f)
{
	static const char *const vnames[4] = {"pending", "human", "machine", "unsure"};

	printf("\n== %s: %u files\n%-10s %8s %8s %8s   (rows: label; columns: verdict)\n",
	       part, f->n, "label", vnames[1], vnames[2], vnames[3]);
	for (unsigned l = 0; l < f->nlabels; l++)
		printf("%-10s %8u %8u %8u\n", f->labels[l], f->matrix[l][AMD_HUMAN],
		       f->matrix[l][AMD_MACHINE], f->matrix[l][AMD_UNSURE]);
	printf("accuracy %.1f %% (%u/%u)\n", f->n ? 100.0 * f->right / f->n : 0, f->right, f->n);
	printf("humans called machines %.1f %% (%u/%u)\n",
	       f->humans ? 100.0 * f->humans_machine / f->humans : 0, f->humans_machine, f->humans);
	printf("median human decision %.0f ms of audio\n", median_ms(f));
	printf("beeps found %u/%u, beeps where none is %u\n", f->beeps_found, f->beeps,
	       f->false_beeps);
}

static bool bar_met(struct figures *f)
{
	double median = median_ms(f);

	if (!f->n)
		return false;
	return 100.0 * f->right / f->n >= 95.0 &&
	       (!f->humans || 100.0 * f->humans_machine / f->humans <= 2.0) &&
	       median <= 2500 && f->beeps_found == f->beeps && !f->false_beeps;
}

int main(int argc, char **argv)
{
	const char *part = NULL, *labels = NULL, *conf = NULL;
	bool check = false, quiet = false;
	char line[1024], dir[512], path[1200];
	struct figures *f = calloc(1, sizeof(*f));
	struct amd_conf c;
	FILE *fp;
	char *slash;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--conf") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "--part") && i + 1 < argc)
			part = argv[++i];
		else
			labels = argv[i];
	}
	if (!labels || !f || conf_of(conf, &c)) {
		fprintf(stderr, "usage: amd_eval [--check] [--part tune|heldout] [--quiet] "
				"[--conf FILE] labels.csv\n");
		return 2;
	}
	fp = fopen(labels, "r");
	if (!fp) {
		perror(labels);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", labels);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");

	while (fgets(line, sizeof(line), fp)) {
		char *file = strtok(line, ","), *label = strtok(NULL, ","), *p = strtok(NULL, ",");
		char *desc = strtok(NULL, "\n");
		enum amd_verdict v, want;
		uint32_t ms, bend = 0;
		unsigned bhz = 0;
		bool beep, has_beep;
		int l;

		if (!file || !label || !p || !strcmp(file, "file"))
			continue;
		if (part && strcmp(p, part))
			continue;
		if (f->n == MAX_FILES)
			break;
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		if (run_file(path, &c, &v, &ms, &beep, &bend, &bhz)) {
			fclose(fp);
			return 2;
		}
		l = label_row(f, label);
		if (l < 0) {
			fprintf(stderr, "amd_eval: more than %d labels\n", MAX_LABELS);
			fclose(fp);
			return 2;
		}
		want = expected(label);
		has_beep = desc && strstr(desc, "beep") && !strstr(desc, "no beep");
		f->n++;
		f->right += v == want;
		f->matrix[l][v]++;
		if (want == AMD_HUMAN) {
			f->human_ms[f->humans++] = ms;
			f->humans_machine += v == AMD_MACHINE;
		}
		f->beeps += has_beep;
		f->beeps_found += has_beep && beep;
		f->false_beeps += !has_beep && beep;
		if (!quiet || v != want || has_beep != beep)
			printf("%-40s %-8s %-8s %5u ms%s%s beep %s %u Hz end %u ms\n", file, label,
			       amd_verdict_name(v), ms, v == want ? "" : "  WRONG",
			       has_beep != beep ? "  BEEP WRONG" : "", beep ? "yes" : "no", bhz,
			       bend);
	}
	fclose(fp);
	print_figures(part ? part : "all", f);
	if (check && !bar_met(f)) {
		printf("FAIL: below the quality bar (docs/amd.md)\n");
		free(f);
		return 1;
	}
	free(f);
	return 0;
}
