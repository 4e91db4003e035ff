/* Where the words of an answer are: an energy voice-activity detector over 20 ms frames,
 * for digit strings read out with short pauses between the digits (docs/speech.md).
 *
 * A frame is speech when its energy is both 10 dB above the line's floor (the 10th
 * percentile of the answer's frames: the answer always starts and ends with some line
 * noise) and within 35 dB of the loudest frame (so that a quiet line's floor does not
 * count its breathing). Runs of speech closer than 100 ms are one word (the closure in
 * "six", "eight", the fricative of "seven"), and runs shorter than 60 ms are clicks.
 * These three figures were set on half of tests/data/asr's digit strings and checked on
 * the other half (docs/benchmarks.md). */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <re.h>
#include "asr/asr.h"

enum {
	FRAME = 160,       /* 20 ms at 8 kHz */
	GAP_MIN = 5,       /* frames of quiet that end a word */
	WORD_MIN = 3,      /* frames of speech that make one */
	PAD = 3,           /* frames of context either side of a word for the decoder */
};
#define MARGIN_DB 10.0
#define RANGE_DB 35.0

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int asr_segment(const int16_t *pcm, size_t n, struct asr_span *spans, unsigned max,
		unsigned *count)
{
	size_t nf = n / FRAME, i, start = 0;
	double *db, *sorted, th, peak = 0;
	unsigned c = 0;
	bool in = false;

	*count = 0;
	if (!nf)
		return 0;
	db = mem_alloc(2 * nf * sizeof(*db), NULL);
	if (!db)
		return ENOMEM;
	sorted = db + nf;
	for (i = 0; i < nf; i++) {
		double e = 0;

		for (size_t k = 0; k < FRAME; k++)
			e += (double)pcm[i * FRAME + k] * pcm[i * FRAME + k];
		db[i] = sorted[i] = 10.0 * log10(e / FRAME + 1.0);
		peak = db[i] > peak ? db[i] : peak;
	}
	qsort(sorted, nf, sizeof(*sorted), cmp_double);
	th = fmax(sorted[nf / 10] + MARGIN_DB, peak - RANGE_DB);

	/* runs of speech, a run joined to the last when the quiet between is short */
	for (i = 0; i <= nf; i++) {
		bool speech = i < nf && db[i] > th;

		if (speech && !in) {
			if (c && i - spans[c - 1].end / FRAME < GAP_MIN)
				start = spans[--c].start / FRAME;
			else
				start = i;
			in = true;
		}
		else if (!speech && in) {
			in = false;
			if (c == max) {
				c = max + 1;
				break;
			}
			spans[c].start = start * FRAME;
			spans[c++].end = i * FRAME;
		}
	}
	mem_deref(db);
	if (c > max) {
		*count = c;
		return 0;
	}
	/* clicks out, then the context */
	unsigned k = 0;
	for (unsigned j = 0; j < c; j++) {
		if (spans[j].end - spans[j].start >= WORD_MIN * FRAME)
			spans[k++] = spans[j];
	}
	for (unsigned j = 0; j < k; j++) {
		spans[j].start = spans[j].start > PAD * FRAME ? spans[j].start - PAD * FRAME : 0;
		spans[j].end = spans[j].end + PAD * FRAME < n ? spans[j].end + PAD * FRAME : n;
	}
	*count = k;
	return 0;
}
