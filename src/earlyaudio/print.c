/* earlyaudio: landmarks, the fingerprint of a recording (in the manner of Wang's
 * "An Industrial-Strength Audio Search Algorithm", 2003).
 *
 * Each 20 ms hop keeps its EA_PEAKS strongest spectral peaks between 187 and 3500 Hz: bins
 * that are the largest within +-3 bins and stand EA_PEAK_DB above the hop's mean level
 * (in dB, so a gain change moves nothing). A landmark pairs an anchor peak with a peak
 * 1..EA_DT_MAX hops later within EA_DF_MAX bins, and hashes (f1, f2 - f1, dt) into 18
 * bits. Peaks survive G.711, gain and moderate noise, and their pairs say more than one
 * peak alone: a chance match of the hash is rare, and a true one comes with many others
 * at the same time offset, which the matcher counts (match.c).
 *
 * It is incremental: a hop's landmarks are those that end in it, with their anchors taken
 * from a ring of the last EA_DT_MAX hops' peaks, so a live call keeps no more than that
 * ring. An anchor pairs with its first EA_FANOUT later peaks only, which bounds the work
 * to EA_PEAKS * EA_FANOUT landmarks a hop. A reference is printed by the same code, so
 * both sides make the same pairs from the same peaks. Hops quieter than EA_PEAK_FLOOR_DB
 * have no peaks: line noise in pauses does not print. */
#include <math.h>
#include <string.h>
#include "earlyaudio/earlyaudio_int.h"

#define EA_PEAK_DB 12.0f          /* a peak's height over the hop's mean level */
#define EA_PEAK_FLOOR_DB -55.0f   /* hops below this level have no peaks */
enum { EA_BIN_LO = 6, EA_BIN_HI = 112, EA_NEAR = 3 };

static unsigned peaks(const struct ea_spec *s, uint8_t *out)
{
	float ldb[EA_BINS], mean = 0, best[EA_PEAKS];
	unsigned n = 0;

	if (s->db < EA_PEAK_FLOOR_DB)
		return 0;
	for (unsigned k = EA_BIN_LO; k <= EA_BIN_HI; k++) {
		ldb[k] = 10.0f * log10f(s->pow[k] + 1e-12f);
		mean += ldb[k];
	}
	mean /= (float)(EA_BIN_HI - EA_BIN_LO + 1);
	for (unsigned k = EA_BIN_LO + EA_NEAR; k <= EA_BIN_HI - EA_NEAR; k++) {
		unsigned j, at;
		bool top = ldb[k] >= mean + EA_PEAK_DB;

		for (j = k - EA_NEAR; top && j <= k + EA_NEAR; j++)
			top = j == k || ldb[j] < ldb[k];
		if (!top)
			continue;
		/* insertion into the strongest EA_PEAKS, strongest first */
		for (at = n; at > 0 && best[at - 1] < ldb[k]; at--)
			;
		if (at >= EA_PEAKS)
			continue;
		if (n < EA_PEAKS)
			n++;
		memmove(&best[at + 1], &best[at], sizeof(best[0]) * (n - 1 - at));
		memmove(&out[at + 1], &out[at], sizeof(out[0]) * (n - 1 - at));
		best[at] = ldb[k];
		out[at] = (uint8_t)k;
	}
	return n;
}

unsigned earlyaudio_print_hop(struct ea_print *p, const struct ea_spec *s, struct ea_hash *out,
			      unsigned max)
{
	uint8_t now[EA_PEAKS] = {0};
	unsigned np = peaks(s, now), nout = 0;
	unsigned slot = p->t % (EA_DT_MAX + 1);

	for (unsigned dt = EA_DT_MAX; dt >= 1; dt--) {
		unsigned as;

		if (dt > p->t)
			continue;
		as = (p->t - dt) % (EA_DT_MAX + 1);
		for (unsigned a = 0; a < EA_PEAKS && p->peak[as][a]; a++) {
			for (unsigned b = 0; b < np && p->used[as][a] < EA_FANOUT; b++) {
				int df = (int)now[b] - (int)p->peak[as][a];

				if (df < -EA_DF_MAX || df > EA_DF_MAX || nout >= max)
					continue;
				out[nout].hash = (uint32_t)p->peak[as][a] << 11 |
						 (uint32_t)(df + EA_DF_MAX) << 5 | dt;
				out[nout].t = p->t - dt;
				nout++;
				p->used[as][a]++;
			}
		}
	}
	memset(p->peak[slot], 0, sizeof(p->peak[slot]));
	memset(p->used[slot], 0, sizeof(p->used[slot]));
	memcpy(p->peak[slot], now, np);
	p->t++;
	return nout;
}
