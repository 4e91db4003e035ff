/* beep: DESA-2 frequency estimates per frame, and the run of steady frames that makes a
 * beep.
 *
 * DESA-2 (Maragos, Kaiser & Quatieri, 1993; FreeSWITCH's mod_avmd detects beeps with it)
 * rests on the Teager energy operator psi(x)[n] = x[n]^2 - x[n-1] x[n+1]. For a tone
 * x[n] = A cos(W n + p), psi(x) = A^2 sin^2 W whatever n, and the symmetric difference
 * y[n] = x[n+1] - x[n-1] is a tone of amplitude 2 A sin W, so psi(y) = 4 A^2 sin^4 W.
 * Hence psi(y) / (2 psi(x)) = 2 sin^2 W = 1 - cos 2W, and
 *
 *     W = 1/2 arccos(1 - psi(y) / (2 psi(x)))
 *
 * exact for a pure tone with no amplitude or phase in it, valid for W up to pi/2: 2000 Hz
 * at 8 kHz, above every voicemail beep. We sum psi(x) and psi(y) over a block before
 * dividing (mod_avmd does it per sample, then smooths): the sums weigh every sample by
 * its energy, which makes the estimate of a noisy tone steadier, and of a mixture a mean.
 *
 * A frame is tonal when it is loud enough and the estimates of its four quarters agree
 * with the whole frame's within the tolerance: a tone gives the same figure on every
 * stretch of it; speech, whose harmonics and formants move and beat against each other,
 * does not, even in a held vowel. A beep is then a run of tonal frames whose estimates
 * stay within the tolerance of the run's mean, beep_min_ms..beep_max_ms long, its mean in
 * beep_hz_min..beep_hz_max. The first such run is the beep; its end is when a message
 * may start. */
#include <math.h>
#include "amd/amd.h"
#include "amd/beep.h"

#define QUARTERS 4

/* Teager sums over x[from..to) (needs x[from-2] and x[to+1]). */
static void teager_sums(const int16_t *x, size_t from, size_t to, double *psx, double *psy)
{
	double sx = 0, sy = 0;

	for (size_t i = from; i < to; i++) {
		double y0 = (double)x[i + 1] - x[i - 1];
		double ym = (double)x[i] - x[i - 2];
		double yp = (double)x[i + 2] - x[i];

		sx += (double)x[i] * x[i] - (double)x[i - 1] * x[i + 1];
		sy += y0 * y0 - ym * yp;
	}
	*psx = sx;
	*psy = sy;
}

static bool sums_hz(double sx, double sy, double *hzp)
{
	double c;

	if (sx <= 0)
		return false;
	c = 1.0 - sy / (2.0 * sx);
	if (c > 1)
		c = 1;
	if (c < -1)
		c = -1;
	*hzp = 0.5 * acos(c) * 8000.0 / (2.0 * M_PI);
	return true;
}

bool amd_desa2_hz(const int16_t *pcm, size_t n, double *hzp)
{
	double sx, sy;

	if (!pcm || !hzp || n < 5)
		return false;
	teager_sums(pcm, 2, n - 2, &sx, &sy);
	return sums_hz(sx, sy, hzp);
}

void beep_init(struct beep *b, const struct amd_conf *c)
{
	*b = (struct beep){.c = c};
}

static bool tonal(const struct beep *b, const int16_t *pcm, size_t n, double dbfs, double *hzp)
{
	size_t q = (n - 4) / QUARTERS;
	double hz;

	if (dbfs < b->c->beep_min_dbfs || !amd_desa2_hz(pcm, n, &hz))
		return false;
	if (hz < b->c->beep_hz_min - (double)b->c->beep_tolerance_hz ||
	    hz > b->c->beep_hz_max + (double)b->c->beep_tolerance_hz)
		return false;
	for (unsigned k = 0; k < QUARTERS; k++) {
		double sx, sy, qhz;

		teager_sums(pcm, 2 + k * q, 2 + (k + 1) * q, &sx, &sy);
		if (!sums_hz(sx, sy, &qhz) || fabs(qhz - hz) > b->c->beep_tolerance_hz)
			return false;
	}
	*hzp = hz;
	return true;
}

void beep_close(struct beep *b)
{
	uint32_t ms = b->run_frames * 20;
	double hz = b->run_frames ? b->run_hz_sum / b->run_frames : 0;

	if (!b->found && ms >= b->c->beep_min_ms && ms <= b->c->beep_max_ms &&
	    hz >= b->c->beep_hz_min && hz <= b->c->beep_hz_max) {
		b->found = true;
		b->end_ms = b->run_end_ms;
		b->hz = (unsigned)lround(hz);
	}
	b->run_frames = 0;
	b->run_hz_sum = 0;
}

void beep_frame(struct beep *b, const int16_t *pcm, size_t n, double dbfs, uint32_t end_ms)
{
	double hz;
	bool t = tonal(b, pcm, n, dbfs, &hz);

	if (t && b->run_frames &&
	    fabs(hz - b->run_hz_sum / b->run_frames) > b->c->beep_tolerance_hz)
		beep_close(b);
	if (!t) {
		if (b->run_frames)
			beep_close(b);
		return;
	}
	b->run_frames++;
	b->run_hz_sum += hz;
	b->run_end_ms = end_ms;
}
